/**
 * Everything a call may dial besides `customer.number`: SIP and tel URIs, and the numbers and addresses inside
 * inline assistant configuration. Each gets exactly the checks a dialled number gets (DialPolicy), or is refused
 * with a reason when it cannot be checked.
 */
import type { DialPolicy, NumberRefusal } from './numbers.js';
import { findEmergencyNumber } from './emergency.js';

export type DestinationVerdict = { ok: true; uri: string; e164?: string } | NumberRefusal;

const URI_SCHEME = /^(sips?|tel):/i;
/** RFC 3966 visual separators, spaces, and the star and hash of service codes: still a dial string. */
const DIAL_STRING = /^\+?[0-9\-.()\s*#]+$/;
const SIP_URI = /^sips?:[^\s@]+@[^\s@]+$/i;

export function isDialUri(value: string): boolean {
  return URI_SCHEME.test(value.trim());
}

/**
 * Checks a `sip:`, `sips:` or `tel:` URI. A user part that is a dial string (with or without '+', with
 * parameters, separators or a `phone-context`) is checked as a number; any other user part (`sip:support@host`)
 * passes only when no allow-list is set, since it cannot be matched against one.
 */
export function checkDialUri(policy: DialPolicy, raw: string): DestinationVerdict {
  const uri = raw.trim();
  const scheme = URI_SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) return invalid(uri, 'it does not start with sip:, sips: or tel:');
  if (scheme !== 'tel' && !SIP_URI.test(uri)) return invalid(uri, 'a SIP URI has the form sip:user@host');

  const rest = uri.slice(scheme.length + 1);
  const at = rest.lastIndexOf('@');
  const userinfo = scheme === 'tel' ? rest : at >= 0 ? rest.slice(0, at) : rest;
  const [userWithPassword, ...params] = userinfo.split(';');
  let user: string;
  let context: string | undefined;
  try {
    user = decodeURIComponent(userWithPassword.split(':')[0]);
    const contextParam = params.find((p) => /^phone-context=/i.test(p));
    context = contextParam ? decodeURIComponent(contextParam.slice('phone-context='.length)) : undefined;
  } catch {
    return invalid(uri, 'it has a malformed %-escape');
  }

  if (DIAL_STRING.test(user) && /[0-9]/.test(user)) return checkUserNumber(policy, uri, user, context);
  if (scheme === 'tel') return invalid(uri, 'a tel: URI must hold a phone number');

  // A name that still hides an emergency number ("sip:call911@host") is refused like the number itself.
  const hidden = findEmergencyNumber(user.replace(/[^0-9]/g, ''));
  if (hidden !== undefined && /[0-9]/.test(user)) {
    const verdict = policy.check(hidden);
    if (!verdict.ok) return { ...verdict, reason: `${JSON.stringify(shorten(uri))} dials ${hidden}: ${verdict.reason}` };
  }
  if (policy.hasAllowList()) {
    return {
      ok: false,
      code: 'not-allowed',
      reason: `${JSON.stringify(shorten(uri))} is a SIP address, not a phone number, so it cannot be checked against this server's allow-list.`,
      suggestion: 'Do not retry. Only numbers on the allow-list (or sip:/tel: URIs whose user part is such a number) may be dialled here.',
      retryable: false,
    };
  }
  return { ok: true, uri };
}

function checkUserNumber(policy: DialPolicy, uri: string, user: string, context: string | undefined): DestinationVerdict {
  const alone = policy.check(user);
  if (!alone.ok && (alone.code === 'emergency' || alone.code === 'short-code' || alone.code === 'dialing-disabled')) {
    return withUri(alone, uri);
  }
  // A local number in a global phone-context ("5550100;phone-context=+1415") is the context's digits followed by it.
  const number = !user.trim().startsWith('+') && context?.trim().startsWith('+') ? `${context.trim()}${user.trim()}` : user;
  const verdict = number === user ? alone : policy.check(number);
  if (!verdict.ok) return withUri(verdict, uri);
  return { ok: true, uri, e164: verdict.e164 };
}

function withUri(refusal: NumberRefusal, uri: string): NumberRefusal {
  return { ...refusal, reason: `${JSON.stringify(shorten(uri))} dials a phone number: ${refusal.reason}` };
}

function invalid(uri: string, why: string): NumberRefusal {
  return {
    ok: false,
    code: 'invalid-format',
    reason: `${JSON.stringify(shorten(uri))} is not a usable SIP or tel URI: ${why}.`,
    suggestion: 'Use sip:user@host (or sip:+14155552671@host for a number), or give a phone number in E.164 form.',
    retryable: false,
  };
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
