/**
 * Inline assistant configuration (`assistant`, `assistantOverrides`, `variableValues`) can name numbers and SIP
 * addresses the call may dial later: transferCall tool destinations, transfer hooks, a forwarding number. Every
 * such value is checked like a dialled number; fields whose destinations this server cannot see are refused.
 */
import type { DialPolicy, NumberRefusal } from './numbers.js';
import { checkDialUri, isDialUri } from './destinations.js';
import { findEmergencyNumber } from './emergency.js';

export type InlineRefusal = Omit<NumberRefusal, 'code'> & {
  code: NumberRefusal['code'] | 'field-not-allowed';
  /** Where the value sits, e.g. assistant.model.tools[0].destinations[1].number. */
  path: string;
};

/** Fields whose destinations are decided outside the request, so nothing here could check them. */
const UNCHECKABLE_FIELDS: Readonly<Record<string, string>> = {
  server: 'a server webhook can answer transfer-destination requests with any number, unseen by this server',
  serverUrl: 'a server webhook can answer transfer-destination requests with any number, unseen by this server',
  toolIds: 'saved tools (for example transferCall tools) have destinations this server cannot see',
  twiml: 'TwiML can dial any number',
  credentials: 'inline credentials can route calls through other trunks and carry secrets',
};

/** Keys whose string value is a number the call may dial. */
const NUMBER_KEY = /^(number|phoneNumber|forwardingPhoneNumber|fallbackNumber|transferNumber)$/i;
const PHONE_SHAPED = /^\s*\+[0-9\-.()\s]+$/;
const DIGITS_ONLY = /^[0-9\-.()\s*#]+$/;

export function checkInlineConfig(policy: DialPolicy, root: string, value: unknown): InlineRefusal | undefined {
  return walk(policy, root, value, undefined);
}

/**
 * Variable values can fill `{{placeholders}}` in a saved assistant's transfer destinations, so a value shaped like
 * a dial target gets the dial checks; bare digits (order numbers, codes) are only checked for emergency numbers.
 */
export function checkVariableValues(policy: DialPolicy, root: string, values: Record<string, unknown> | undefined): InlineRefusal | undefined {
  for (const [key, value] of Object.entries(values ?? {})) {
    if (typeof value !== 'string') continue;
    const path = `${root}.${key}`;
    if (isDialUri(value)) {
      const verdict = checkDialUri(policy, value);
      if (!verdict.ok) return at(path, verdict);
    } else if (PHONE_SHAPED.test(value)) {
      const verdict = policy.check(value);
      if (!verdict.ok) return at(path, verdict);
    } else if (DIGITS_ONLY.test(value)) {
      const verdict = policy.check(value);
      if (!verdict.ok && verdict.code === 'emergency') return at(path, verdict);
    }
  }
  return undefined;
}

function walk(policy: DialPolicy, path: string, value: unknown, key: string | undefined): InlineRefusal | undefined {
  if (typeof value === 'string') return checkString(policy, path, value, key);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const refusal = walk(policy, `${path}[${i}]`, value[i], undefined);
      if (refusal) return refusal;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [childKey, child] of Object.entries(value)) {
      const childPath = `${path}.${childKey}`;
      const why = Object.hasOwn(UNCHECKABLE_FIELDS, childKey) ? UNCHECKABLE_FIELDS[childKey] : undefined;
      if (why !== undefined && child !== undefined && child !== null) {
        return {
          ok: false,
          code: 'field-not-allowed',
          path: childPath,
          reason: `${childPath} is not accepted: ${why}.`,
          suggestion: 'Leave this field out. Configure it on a saved assistant in Vapi and pass that assistant\'s id as assistantId instead.',
          retryable: false,
        };
      }
      const refusal = walk(policy, childPath, child, childKey);
      if (refusal) return refusal;
    }
  }
  return undefined;
}

function checkString(policy: DialPolicy, path: string, value: string, key: string | undefined): InlineRefusal | undefined {
  if (isDialUri(value) || key === 'sipUri') {
    const verdict = checkDialUri(policy, value);
    return verdict.ok ? undefined : at(path, verdict);
  }
  if (key !== undefined && NUMBER_KEY.test(key)) {
    if (value.includes('{{')) {
      return {
        ok: false,
        code: 'field-not-allowed',
        path,
        reason: `${path} is a template ("${value.slice(0, 40)}"), so the number it dials cannot be checked before the call.`,
        suggestion: 'Give the destination as a literal E.164 number.',
        retryable: false,
      };
    }
    const verdict = policy.check(value);
    return verdict.ok ? undefined : at(path, verdict);
  }
  if (key === 'extension' && findEmergencyNumber(value.replace(/[^0-9]/g, '')) !== undefined && DIGITS_ONLY.test(value)) {
    const verdict = policy.check(value);
    return verdict.ok ? undefined : at(path, verdict);
  }
  return undefined;
}

function at(path: string, refusal: NumberRefusal): InlineRefusal {
  return { ...refusal, path, reason: `${path}: ${refusal.reason}` };
}
