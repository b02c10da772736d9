/**
 * Dialing policy: decides whether a destination number may be dialled, before any request leaves the server.
 *
 * Order of checks (the first that fails wins):
 *   1. emergency numbers, in any written form (so the model never "fixes" 911 into something dialable);
 *   2. dialing disabled by an allow-list or country list that is set but empty;
 *   3. short codes: 2–6 digits once formatting is removed (also catches NANP N11 service codes);
 *   4. format: international form only, '+' or the ITU international prefix '00' (read as '+'); spaces, dashes,
 *      dots, slashes and parentheses are tolerated; the country is never guessed. '011' is not accepted as a
 *      prefix: "011 …" is also how national numbers are written in Argentina and elsewhere;
 *   5. NANP 900/976 premium numbers (named explicitly: 976 is missing from libphonenumber's metadata);
 *   6. validity according to libphonenumber (max metadata);
 *   7. premium rate: libphonenumber's PREMIUM_RATE type (UK 09xx, FR 08 9x, …);
 *   8. allowed countries, then the allow-list (both must pass when both are set; neither can lift 1–7).
 *
 * Shared-cost numbers (libphonenumber SHARED_COST) are allowed: the caller pays at most a local or national rate
 * share, and many organisations publish their customer lines that way. Toll-free, VoIP, personal and UAN numbers
 * are allowed as well.
 */
import { phoneLib } from './phone-lib.js';
import { findEmergencyNumber } from './emergency.js';

export type NumberVerdict =
  | { ok: true; e164: string; country?: string; type?: string }
  | {
      ok: false;
      code:
        | 'emergency'
        | 'short-code'
        | 'premium-rate'
        | 'invalid-format'
        | 'not-allowed'
        | 'country-not-allowed'
        | 'dialing-disabled';
      reason: string;
      suggestion: string;
      retryable: false;
    };

export type NumberRefusal = Extract<NumberVerdict, { ok: false }>;

export interface DialPolicyOptions {
  /** undefined: no allow-list; []: nothing may be dialled. E.164 numbers or prefixes ending in '*' like '+1555*'. */
  allowedNumbers?: string[];
  /**
   * ISO 3166 alpha-2 codes, case-insensitive; undefined: any country; []: nothing may be dialled. Countries are
   * those libphonenumber assigns: some +44 numbers belong to GG, JE or IM, some +1 numbers to CA or the Caribbean.
   */
  allowedCountries?: string[];
}

/**
 * Numbers that libphonenumber accepts as valid, for tests, examples and the simulator. Where possible they come
 * from ranges reserved for fiction or from libphonenumber's own examples, so that none is likely to ring a person.
 */
export const EXAMPLE_VALID_NUMBERS = [
  '+14155552671', // US, the number most API documentation uses
  '+12015550123', // US, 555-01xx is reserved for fiction by the NANP administrator
  '+14165550123', // CA (Toronto), 555-01xx fictional range
  '+442071838750', // GB (London)
  '+442079460123', // GB, Ofcom's drama range 020 7946 0xxx
  '+61291234567', // AU (Sydney)
  '+61491570156', // AU mobile, ACMA's fictional range 0491 570 xxx
  '+33123456789', // FR (Paris), libphonenumber example
  '+4930123456', // DE (Berlin), libphonenumber example
  '+34612345678', // ES mobile, libphonenumber example
  '+819012345678', // JP mobile, libphonenumber example
  '+5511961234567', // BR mobile (São Paulo), libphonenumber example
] as const;

const E164_EXAMPLE = '+14155552671';
const MAX_INPUT_CHARS = 256;
const MAX_E164_DIGITS = 15;
const MAX_LISTED_ENTRIES = 10;

/** NANP three-digit service codes (211 community services … 811 call-before-you-dig); 911 is handled as emergency. */
const NANP_N11_CODES = new Set(['211', '311', '411', '511', '611', '711', '811']);
/** NANP premium "area codes"; 976 is not in libphonenumber's metadata at all, so both are named here. */
const NANP_PREMIUM_AREA_CODES = ['900', '976'];

/**
 * Vertical service codes dialled before a number: *67 / *82 (NANP caller-id block / unblock), #31# and *31#
 * (GSM caller-id toggles), and any other star or hash code of two or three digits.
 */
const VERTICAL_SERVICE_CODES_2 = /^(?:[\s\p{Pd}.()]*(?:\*\d{2}#?|#\d{2}#))+/u;
const VERTICAL_SERVICE_CODES_3 = /^(?:[\s\p{Pd}.()]*(?:\*\d{3}#?|#\d{3}#))+/u;

/** Formatting tolerated between digits: whitespace, dashes (Unicode ones and minus too), dots, slashes, parentheses. */
const FORMATTING_CHARS = String.raw`\s\p{Pd}\u2212.()/`;
const PHONE_CHARACTERS = new RegExp(`^\\+?[\\p{Nd}${FORMATTING_CHARS}]*$`, 'u');
const NOT_PHONE_CHARACTER = new RegExp(`[^\\p{Nd}${FORMATTING_CHARS}]`, 'gu');
const FORMATTING = new RegExp(`[${FORMATTING_CHARS}]`, 'gu');
const ANY_DIGIT = /\p{Nd}/gu;

export class DialPolicy {
  private readonly exact: ReadonlySet<string> | undefined;
  private readonly prefixes: readonly string[];
  private readonly entries: readonly string[] | undefined;
  private readonly countries: readonly string[] | undefined;

  constructor(options: DialPolicyOptions = {}) {
    if (options.allowedNumbers !== undefined) {
      const exact = new Set<string>();
      const prefixes: string[] = [];
      for (const entry of options.allowedNumbers) {
        const parsed = parseAllowListEntry(entry);
        if (parsed.kind === 'prefix') prefixes.push(parsed.value);
        else exact.add(parsed.value);
      }
      this.exact = exact;
      this.prefixes = prefixes;
      this.entries = [...exact, ...prefixes.map((p) => `${p}*`)];
    } else {
      this.exact = undefined;
      this.prefixes = [];
      this.entries = undefined;
    }
    this.countries = options.allowedCountries?.map(normaliseCountry);
  }

  check(rawNumber: string): NumberVerdict {
    try {
      return this.evaluate(rawNumber);
    } catch {
      // Fail closed: a fault in parsing must never turn into permission to dial.
      return refuse(
        'invalid-format',
        `${quote(rawNumber)} could not be checked.`,
        `Give the number in E.164 form, e.g. ${E164_EXAMPLE}.`,
      );
    }
  }

  /** True when VAPI_ALLOWED_NUMBERS or VAPI_ALLOWED_COUNTRIES narrows what may be dialled. */
  hasAllowList(): boolean {
    return this.entries !== undefined || this.countries !== undefined;
  }

  describe(): string {
    const parts = ['emergency, short-code and premium-rate numbers always blocked'];
    if (this.entries?.length === 0) parts.push('dialing disabled (VAPI_ALLOWED_NUMBERS is set but empty)');
    else if (this.entries) parts.push(`allow-list: ${plural(this.entries.length, 'entry', 'entries')}`);
    else parts.push('allow-list: none');
    if (this.countries?.length === 0) parts.push('dialing disabled (VAPI_ALLOWED_COUNTRIES is set but empty)');
    else parts.push(`countries: ${this.countries ? this.countries.join(', ') : 'any'}`);
    return parts.join('; ');
  }

  private evaluate(raw: unknown): NumberVerdict {
    if (typeof raw !== 'string' || raw.trim() === '') {
      const suggestion = `Give the number in E.164 form, e.g. ${E164_EXAMPLE}.`;
      return refuse('invalid-format', 'No phone number was given.', suggestion);
    }
    const input = raw.trim().replace(/^\uFF0B/, '+'); // a full-width plus is a plus; libphonenumber drops it
    if (input.length > MAX_INPUT_CHARS) {
      return refuse(
        'invalid-format',
        `${quote(input)} is ${input.length} characters long, far too long for a phone number.`,
        `Give only the number in E.164 form, e.g. ${E164_EXAMPLE}.`,
      );
    }

    // Lenient digit extraction (any characters dropped, Unicode digits mapped) so that "call 9-1-1" is still caught.
    const looseDigits = phoneLib().parseIncompletePhoneNumber(input).replace('+', '');
    // "*67 911" hides the caller id and still reaches 911: the digits of the service code are not part of the number.
    // Written without a space ("*67911") the code's length is ambiguous, so both readings are checked.
    const emergency = [VERTICAL_SERVICE_CODES_2, VERTICAL_SERVICE_CODES_3]
      .map((codes) => phoneLib().parseIncompletePhoneNumber(input.replace(codes, '')).replace('+', ''))
      .concat(looseDigits)
      .map(findEmergencyNumber)
      .find((found) => found !== undefined);
    if (emergency !== undefined) {
      return refuse(
        'emergency',
        `${quote(input)} is an emergency number (${emergency}); this server never dials emergency services.`,
        'Do not retry in any form. If someone may be in danger, tell the user to call their local emergency number themselves.',
      );
    }

    const disabled = this.disabledRefusal();
    if (disabled) return disabled;

    if (looseDigits.length >= 2 && looseDigits.length <= 6) return shortCodeRefusal(input, looseDigits);

    return this.checkFullNumber(input);
  }

  private checkFullNumber(input: string): NumberVerdict {
    if (!PHONE_CHARACTERS.test(input)) {
      const stray = [...new Set(input.replace(/^\+/, '').match(NOT_PHONE_CHARACTER))].slice(0, 5);
      const shown = stray.map((c) => JSON.stringify(c)).join(', ');
      return refuse(
        'invalid-format',
        `${quote(input)} contains characters that are not part of a phone number (${shown}).`,
        `Give only the number in E.164 form, e.g. ${E164_EXAMPLE}. Spaces, dashes, dots and parentheses are fine; letters, extensions and '*'/'#' codes are not.`,
      );
    }

    const digitCount = input.match(ANY_DIGIT)?.length ?? 0;
    let normalised = phoneLib().parseIncompletePhoneNumber(input);
    if (normalised.replace('+', '').length !== digitCount) {
      return refuse(
        'invalid-format',
        `${quote(input)} uses digit characters that cannot be read reliably.`,
        `Write the number with ASCII digits in E.164 form, e.g. ${E164_EXAMPLE}.`,
      );
    }
    const usedInternationalPrefix = !normalised.startsWith('+') && normalised.startsWith('00');
    if (usedInternationalPrefix) normalised = `+${normalised.slice(2)}`;
    if (!normalised.startsWith('+')) {
      return refuse(
        'invalid-format',
        `${quote(input)} has no country code: it must start with '+' followed by the country code.`,
        'Rewrite it in E.164 form with its country code, e.g. +1 for the US and Canada (+14155552671) or +44 for the UK (+442071838750). The country is never guessed.',
      );
    }

    const digitsAfterPlus = normalised.length - 1;
    if (digitsAfterPlus > MAX_E164_DIGITS) {
      return refuse(
        'invalid-format',
        `${quote(input)} has ${digitsAfterPlus} digits; an international number has at most ${MAX_E164_DIGITS}, country code included.`,
        `Check the number against its source and give it in E.164 form, e.g. ${E164_EXAMPLE}.`,
      );
    }

    const phone = phoneLib().parsePhoneNumberFromString(normalised);
    if (phone && phone.countryCallingCode === '1') {
      const areaCode = phone.nationalNumber.slice(0, 3);
      if (NANP_PREMIUM_AREA_CODES.includes(areaCode)) {
        return premiumRefusal(input, phone.number, `NANP ${areaCode} numbers are pay-per-call services`);
      }
    }
    if (!phone || !phone.isValid()) return invalidNumberRefusal(input, normalised, usedInternationalPrefix);

    const type = phone.getType();
    if (type === 'PREMIUM_RATE') {
      const where = phone.country ? ` in ${phone.country}` : '';
      return premiumRefusal(input, phone.number, `libphonenumber classifies it as PREMIUM_RATE${where}`);
    }

    const e164 = phone.number;
    const country = phone.country;
    const notAllowed = this.allowListRefusal(e164, country, phone.countryCallingCode);
    if (notAllowed) return notAllowed;

    return { ok: true, e164, ...(country ? { country } : {}), ...(type ? { type } : {}) };
  }

  private disabledRefusal(): NumberRefusal | undefined {
    if (this.entries?.length === 0) {
      return refuse(
        'dialing-disabled',
        'Outbound dialing is disabled: VAPI_ALLOWED_NUMBERS is set but empty, so no number may be dialled.',
        'Do not retry. The operator must list the permitted numbers in VAPI_ALLOWED_NUMBERS (comma-separated E.164 numbers or prefixes such as +1555*) or unset it, then restart the server.',
      );
    }
    if (this.countries?.length === 0) {
      return refuse(
        'dialing-disabled',
        'Outbound dialing is disabled: VAPI_ALLOWED_COUNTRIES is set but empty, so no country may be dialled.',
        'Do not retry. The operator must list the permitted countries in VAPI_ALLOWED_COUNTRIES (ISO codes such as US,GB) or unset it, then restart the server.',
      );
    }
    return undefined;
  }

  private allowListRefusal(e164: string, country: string | undefined, callingCode: string): NumberRefusal | undefined {
    if (this.countries && !(country && this.countries.includes(country))) {
      const where = country ? `in ${country}` : `a non-geographic number (+${callingCode})`;
      return refuse(
        'country-not-allowed',
        `${e164} is ${where}, but this server only dials numbers in ${this.countries.join(', ')}.`,
        `Do not retry this number in another format. Ask the user for a number in ${this.countries.join(', ')}; only the operator can allow more countries (VAPI_ALLOWED_COUNTRIES).`,
      );
    }
    if (this.exact && !this.exact.has(e164) && !this.prefixes.some((p) => e164.startsWith(p))) {
      return refuse(
        'not-allowed',
        `${e164} is not on this server's allow-list.`,
        `Only these numbers may be dialled: ${listEntries(this.entries ?? [])}. Do not retry this number; the operator can add it to VAPI_ALLOWED_NUMBERS.`,
      );
    }
    return undefined;
  }
}

/** Splits a comma-separated allow-list ("+1555*, +442071234567") into validated entries; '' gives []. */
export function parseAllowList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const parsed = parseAllowListEntry(entry);
      return parsed.kind === 'prefix' ? `${parsed.value}*` : parsed.value;
    });
}

type AllowListEntry = { kind: 'exact' | 'prefix'; value: string };

function parseAllowListEntry(entry: unknown): AllowListEntry {
  if (typeof entry !== 'string') {
    throw new Error(`Allowed number ${String(entry)} (VAPI_ALLOWED_NUMBERS) must be a string such as +14155552671.`);
  }
  const text = entry.trim();
  const compact = text.replace(FORMATTING, '');
  if (compact.endsWith('*')) {
    const prefix = compact.slice(0, -1);
    const digits = prefix.slice(1);
    if (!prefix.startsWith('+') || !/^[1-9][0-9]*$/.test(digits) || digits.length >= MAX_E164_DIGITS) {
      throw new Error(
        `Allowed number ${quote(text)} (VAPI_ALLOWED_NUMBERS) is not a valid prefix: write '+', the country code and any further leading digits, then a single '*' at the end, e.g. +1555* or +44*.`,
      );
    }
    return { kind: 'prefix', value: prefix };
  }
  const normalised = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  const phone = /^\+[0-9]+$/.test(normalised) ? phoneLib().parsePhoneNumberFromString(normalised) : undefined;
  if (!phone || !phone.isValid()) {
    const prefixHint = /^\+[1-9][0-9]*$/.test(normalised)
      ? ` To allow every number starting with ${normalised}, write ${normalised}*.`
      : '';
    throw new Error(
      `Allowed number ${quote(text)} (VAPI_ALLOWED_NUMBERS) is not a valid international number: write it in E.164 form such as +14155552671, or as a prefix ending in '*' such as +1555*.${prefixHint}`,
    );
  }
  return { kind: 'exact', value: phone.number };
}

function normaliseCountry(code: unknown): string {
  const upper = typeof code === 'string' ? code.trim().toUpperCase() : '';
  if (!phoneLib().isSupportedCountry(upper)) {
    const hint = upper === 'UK' ? ' Use GB for the United Kingdom.' : ' Examples: US, GB, DE, AU.';
    throw new Error(
      `Allowed country ${quote(String(code))} (VAPI_ALLOWED_COUNTRIES) is not an ISO 3166 alpha-2 code known to libphonenumber.${hint}`,
    );
  }
  return upper;
}

function shortCodeRefusal(input: string, digits: string): NumberRefusal {
  const withoutNanpCode = digits.length === 4 && digits.startsWith('1') ? digits.slice(1) : digits;
  const n11 = NANP_N11_CODES.has(withoutNanpCode);
  const what = n11
    ? `a North American N11 service code (${digits.slice(-3)})`
    : `a ${digits.length}-digit short code, not a full phone number`;
  return refuse(
    'short-code',
    `${quote(input)} is ${what}; short codes and service numbers are never dialled.`,
    `Give the full international number in E.164 form, e.g. ${E164_EXAMPLE}. A service that is reachable only through a short code cannot be called from here.`,
  );
}

function premiumRefusal(input: string, e164: string, why: string): NumberRefusal {
  return refuse(
    'premium-rate',
    `${quote(input)} (${e164}) is a premium-rate number (${why}); premium-rate numbers are always blocked.`,
    'Do not retry. Use the organisation\'s ordinary geographic, mobile or toll-free number instead.',
  );
}

function invalidNumberRefusal(input: string, attempt: string, usedInternationalPrefix: boolean): NumberRefusal {
  const why = describeInvalidity(attempt);
  const callingCode = phoneLib().parsePhoneNumberFromString(attempt)?.countryCallingCode;
  const example = callingCode ? EXAMPLE_VALID_NUMBERS.find((n) => n.startsWith(`+${callingCode}`)) : undefined;
  const hints = ['Check the number against its source for missing, extra or swapped digits.'];
  if (usedInternationalPrefix) hints.push("Write '+' instead of an international dialling prefix such as 00 or 0011.");
  hints.push(
    example
      ? `A valid +${callingCode} number looks like ${example}.`
      : `Give it in E.164 form: '+', country code, then the national number without its leading 0, e.g. ${E164_EXAMPLE}.`,
  );
  const reason = `${quote(input)} (read as ${attempt}) is not a valid phone number: ${why}.`;
  return refuse('invalid-format', reason, hints.join(' '));
}

function describeInvalidity(attempt: string): string {
  switch (phoneLib().validatePhoneNumberLength(attempt)) {
    case 'INVALID_COUNTRY':
      return 'it does not begin with a known country calling code';
    case 'TOO_SHORT':
      return 'it is too short for its country code';
    case 'TOO_LONG':
      return 'it is too long for its country code';
    case 'INVALID_LENGTH':
      return 'its length is not used for its country code';
    case 'NOT_A_NUMBER':
      return 'it is not a phone number';
    default:
      return 'its digits do not match any number range in use';
  }
}

function refuse(code: NumberRefusal['code'], reason: string, suggestion: string): NumberRefusal {
  return { ok: false, code, reason, suggestion, retryable: false };
}

/** Quotes user input for a message, shortened and with control characters escaped. */
function quote(value: string): string {
  const text = String(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function listEntries(entries: readonly string[]): string {
  const shown = entries.slice(0, MAX_LISTED_ENTRIES).join(', ');
  return entries.length > MAX_LISTED_ENTRIES ? `${shown} and ${entries.length - MAX_LISTED_ENTRIES} more` : shown;
}
