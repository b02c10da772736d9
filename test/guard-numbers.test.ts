import { describe, expect, it } from 'vitest';
import {
  DialPolicy,
  EMERGENCY_NUMBERS_BY_COUNTRY,
  EXAMPLE_VALID_NUMBERS,
  UNIVERSAL_EMERGENCY_NUMBERS,
  parseAllowList,
  type NumberVerdict,
} from '../src/guard/index.js';

const open = new DialPolicy();

function refusal(verdict: NumberVerdict) {
  if (verdict.ok) throw new Error(`expected a refusal, got ok ${verdict.e164}`);
  expect(verdict.retryable).toBe(false);
  expect(verdict.reason.length).toBeGreaterThan(10);
  expect(verdict.suggestion.length).toBeGreaterThan(10);
  return verdict;
}

function accepted(verdict: NumberVerdict) {
  if (!verdict.ok) throw new Error(`expected ok, got ${verdict.code}: ${verdict.reason}`);
  return verdict;
}

describe('emergency numbers', () => {
  const forms = [
    // bare, as dialled locally
    '911', '112', '999', '000', '110', '119', '118', '100', '101', '102', '103', '108', '15', '17', '18', '061', '08',
    '988', '111', '10111',
    // with '+', with a country code, with an international prefix
    '+911', '+112', '+999', '+1 911', '+1-911', '1 911', '+1 (911)', '+44 999', '+44 112', '+44999', '0044 999',
    '00 33 15', '+33 15', '+61 000', '+7 03', '+49 110', '+91 108', '+81 119', '+34 061', '+27 10111', '011 911',
    '+64 111',
    // formatting and noise
    '9-1-1', '9.1.1', '(911)', ' 911 ', '9 1 1', '911#', '*112', 'call 911', 'tel:911',
    // non-ASCII digits and plus
    '٩١١', '９１１', '＋４４ ９９９',
  ];

  it.each(forms)('%j is refused as emergency, never as a format problem', (form) => {
    const verdict = refusal(open.check(form));
    expect(verdict.code).toBe('emergency');
    expect(verdict.reason).toContain(JSON.stringify(form.trim().replace(/^＋/, '+')));
    expect(verdict.suggestion).toMatch(/Do not retry/);
  });

  it('wins over every other rule, including an allow-list that would match', () => {
    const policy = new DialPolicy({ allowedNumbers: ['+1*'], allowedCountries: ['US'] });
    expect(refusal(policy.check('+1 911')).code).toBe('emergency');
    expect(refusal(new DialPolicy({ allowedNumbers: [] }).check('112')).code).toBe('emergency');
  });

  it('lists the 3GPP numbers every handset treats as emergency', () => {
    expect([...UNIVERSAL_EMERGENCY_NUMBERS].sort()).toEqual(['000', '08', '110', '112', '118', '119', '911', '999']);
    for (const [country, numbers] of Object.entries(EMERGENCY_NUMBERS_BY_COUNTRY)) {
      expect(country).toMatch(/^[A-Z]{2}$/);
      for (const n of numbers) expect(n).toMatch(/^\d{2,5}$/);
    }
  });
});

describe('short codes', () => {
  it.each([
    ['12345', /5-digit short code/],
    ['22', /2-digit short code/],
    ['123456', /6-digit short code/],
    ['+4567', /4-digit short code/],
    ['+44 123', /5-digit short code/],
    ['*#06#', /2-digit short code/],
    ['411', /N11 service code \(411\)/],
    ['611', /N11 service code \(611\)/],
    ['+1 711', /N11 service code \(711\)/],
    ['1-211', /N11 service code \(211\)/],
  ])('%j is refused as a short code', (input, reason) => {
    const verdict = refusal(open.check(input));
    expect(verdict.code).toBe('short-code');
    expect(verdict.reason).toMatch(reason);
    expect(verdict.suggestion).toContain('E.164');
  });
});

describe('premium-rate numbers', () => {
  it.each([
    ['+1 900 555 0199', '+19005550199', /NANP 900/],
    ['+1-976-555-1234', '+19765551234', /NANP 976/],
    ['+44 909 879 0123', '+449098790123', /PREMIUM_RATE in GB/],
    ['0044 9012 345678', '+449012345678', /PREMIUM_RATE in GB/],
    ['+33 8 92 12 34 56', '+33892123456', /PREMIUM_RATE in FR/],
  ])('%j is refused as premium-rate', (input, e164, why) => {
    const verdict = refusal(open.check(input));
    expect(verdict.code).toBe('premium-rate');
    expect(verdict.reason).toContain(e164);
    expect(verdict.reason).toMatch(why);
  });

  it('is not lifted by an allow-list', () => {
    const policy = new DialPolicy({ allowedNumbers: ['+1900*'] });
    expect(refusal(policy.check('+19005550199')).code).toBe('premium-rate');
  });
});

describe('valid numbers', () => {
  it.each([
    ['+1 (415) 555-2671', '+14155552671', 'US'],
    ['+1.201.555.0123', '+12015550123', 'US'],
    ['00 1 416 555 0123', '+14165550123', 'CA'],
    ['+44 20 7183 8750', '+442071838750', 'GB'],
    ['+44 (0)20 7946 0123', '+442079460123', 'GB'],
    ['+44–20–7183–8750', '+442071838750', 'GB'],
    ['+61 2 9123 4567', '+61291234567', 'AU'],
    ['+61 491 570 156', '+61491570156', 'AU'],
    ['+33 1 23 45 67 89', '+33123456789', 'FR'],
    ['+49 (30) 123456', '+4930123456', 'DE'],
    ['+49 30/123456', '+4930123456', 'DE'],
    ['+34 612 34 56 78', '+34612345678', 'ES'],
    ['+81 90-1234-5678', '+819012345678', 'JP'],
    ['+55 11 96123-4567', '+5511961234567', 'BR'],
    ['＋１ ４１５ ５５５ ２６７１', '+14155552671', 'US'],
    ['  +14155552671\n', '+14155552671', 'US'],
  ])('%j is normalised to %s (%s)', (input, e164, country) => {
    const verdict = accepted(open.check(input));
    expect(verdict.e164).toBe(e164);
    expect(verdict.country).toBe(country);
  });

  it('reports the libphonenumber number type', () => {
    expect(accepted(open.check('+61 491 570 156')).type).toBe('MOBILE');
    expect(accepted(open.check('+44 20 7183 8750')).type).toBe('FIXED_LINE');
    expect(accepted(open.check('+1 800 275 2273')).type).toBe('TOLL_FREE');
  });

  it('accepts every EXAMPLE_VALID_NUMBERS entry unchanged', () => {
    for (const n of EXAMPLE_VALID_NUMBERS) expect(accepted(open.check(n)).e164).toBe(n);
  });

  it('gives no country for non-geographic numbers', () => {
    const verdict = accepted(open.check('+800 1234 5678'));
    expect(verdict.e164).toBe('+80012345678');
    expect(verdict.country).toBeUndefined();
  });
});

describe('format errors', () => {
  it.each(['5551234567', '(415) 555-2671', '020 7183 8750', '4155552671', '1 415 555 2671'])(
    'national format %j is refused without guessing a country',
    (input) => {
      const verdict = refusal(open.check(input));
      expect(verdict.code).toBe('invalid-format');
      expect(verdict.reason).toMatch(/no country code/);
      expect(verdict.suggestion).toMatch(/E\.164/);
      expect(verdict.suggestion).toMatch(/\+1 for the US/);
    },
  );

  it.each([
    ['+1 415 555 267', /read as \+1415555267\).*too short/],
    ['+44 20 7183 87501', /read as \+4420718387501\).*too long/],
    ['+999 123 456', /known country calling code/],
    ['+1 555 123 4567', /read as \+15551234567\)/],
    ['+1415555267112345678', /at most 15/],
    ['+44 20 7183 8750 ext 2', /characters that are not part of a phone number \("e", "x", "t"\)/],
    ['tel:+14155552671', /characters that are not part of a phone number/],
    ['+1 415 555 2671 #', /characters that are not part of a phone number \("#"\)/],
    ['1+4155552671', /characters that are not part of a phone number \("\+"\)/],
    ['', /No phone number/],
    ['   ', /No phone number/],
    ['+', /not a valid phone number/],
  ])('%j is refused as invalid-format', (input, reason) => {
    const verdict = refusal(open.check(input));
    expect(verdict.code).toBe('invalid-format');
    expect(verdict.reason).toMatch(reason);
  });

  it('suggests a same-country example for a mistyped number', () => {
    expect(refusal(open.check('+44 20 7183 875')).suggestion).toContain('+442071838750');
  });

  it('tells a 00-prefix user to write + when the result is invalid (0011 is not 00)', () => {
    const verdict = refusal(open.check('0011 44 20 7183 8750'));
    expect(verdict.code).toBe('invalid-format');
    expect(verdict.suggestion).toMatch(/Write '\+' instead of an international dialling prefix/);
  });

  it('shortens huge input in the message and refuses it', () => {
    const verdict = refusal(open.check(`+1${'2'.repeat(5000)}`));
    expect(verdict.code).toBe('invalid-format');
    expect(verdict.reason.length).toBeLessThan(200);
  });

  it('refuses non-string input at run time instead of throwing', () => {
    expect(refusal(open.check(undefined as unknown as string)).code).toBe('invalid-format');
    expect(refusal(open.check(14155552671 as unknown as string)).code).toBe('invalid-format');
  });
});

describe('allow-list', () => {
  const policy = new DialPolicy({ allowedNumbers: ['+1415*', '+44 20 7183 8750'] });

  it.each([
    ['+1 415 555 2671', '+14155552671'],
    ['+14155550132', '+14155550132'],
    ['+442071838750', '+442071838750'],
    ['0044 20 7183 8750', '+442071838750'],
  ])('allows %j (exact or prefix match on the E.164 form)', (input, e164) => {
    expect(accepted(policy.check(input)).e164).toBe(e164);
  });

  it.each(['+12015550123', '+442079460123', '+61291234567'])('refuses %j with what is allowed', (input) => {
    const verdict = refusal(policy.check(input));
    expect(verdict.code).toBe('not-allowed');
    expect(verdict.reason).toContain(input);
    expect(verdict.suggestion).toContain('+442071838750, +1415*');
    expect(verdict.suggestion).toContain('VAPI_ALLOWED_NUMBERS');
  });

  it('fails closed when set but empty', () => {
    const closed = new DialPolicy({ allowedNumbers: [] });
    for (const n of ['+14155552671', '5551234567', '+1 900 555 0199']) {
      const verdict = refusal(closed.check(n));
      expect(verdict.code).toBe('dialing-disabled');
      expect(verdict.reason).toMatch(/VAPI_ALLOWED_NUMBERS is set but empty/);
    }
    expect(closed.describe()).toMatch(/dialing disabled \(VAPI_ALLOWED_NUMBERS is set but empty\)/);
  });

  it.each([
    [['+1415**'], /"\+1415\*\*".*not a valid prefix/],
    [['1415*'], /"1415\*".*not a valid prefix/],
    [['*'], /"\*".*not a valid prefix/],
    [['+*'], /"\+\*".*not a valid prefix/],
    [['+0*'], /"\+0\*".*not a valid prefix/],
    [['+1*5*'], /"\+1\*5\*".*not a valid prefix/],
    [['hello'], /"hello".*not a valid international number/],
    [['+1555'], /"\+1555".*To allow every number starting with \+1555, write \+1555\*/],
    [['+14155552671', '5551234567'], /"5551234567".*not a valid international number/],
  ])('throws a clear error for malformed entries %j', (entries, message) => {
    expect(() => new DialPolicy({ allowedNumbers: entries })).toThrow(message);
    expect(() => new DialPolicy({ allowedNumbers: entries })).toThrow(/VAPI_ALLOWED_NUMBERS/);
  });

  it('parseAllowList splits, normalises and validates', () => {
    expect(parseAllowList('')).toEqual([]);
    expect(parseAllowList('  ')).toEqual([]);
    expect(parseAllowList(' , ')).toEqual([]);
    expect(parseAllowList('+1555*, +442071234567')).toEqual(['+1555*', '+442071234567']);
    expect(parseAllowList('+1 (415) 555-2671,+44 *')).toEqual(['+14155552671', '+44*']);
    expect(() => parseAllowList('+1555*, oops')).toThrow(/"oops"/);
  });
});

describe('allowed countries', () => {
  const policy = new DialPolicy({ allowedCountries: ['us', ' Gb '] });

  it('allows numbers in the listed countries', () => {
    expect(accepted(policy.check('+14155552671')).country).toBe('US');
    expect(accepted(policy.check('+442071838750')).country).toBe('GB');
  });

  it.each([
    ['+61291234567', /is in AU/],
    ['+14165550123', /is in CA/], // same +1 calling code, different country
    ['+80012345678', /non-geographic number \(\+800\)/],
  ])('refuses %j and says what is allowed', (input, reason) => {
    const verdict = refusal(policy.check(input));
    expect(verdict.code).toBe('country-not-allowed');
    expect(verdict.reason).toMatch(reason);
    expect(verdict.reason).toContain('US, GB');
    expect(verdict.suggestion).toContain('VAPI_ALLOWED_COUNTRIES');
  });

  it('requires both the country and the allow-list when both are set', () => {
    const both = new DialPolicy({ allowedNumbers: ['+61*', '+14155552671'], allowedCountries: ['US'] });
    expect(accepted(both.check('+14155552671')).e164).toBe('+14155552671');
    expect(refusal(both.check('+61291234567')).code).toBe('country-not-allowed');
    expect(refusal(both.check('+12015550123')).code).toBe('not-allowed');
  });

  it('fails closed when set but empty', () => {
    const verdict = refusal(new DialPolicy({ allowedCountries: [] }).check('+14155552671'));
    expect(verdict.code).toBe('dialing-disabled');
    expect(verdict.reason).toMatch(/VAPI_ALLOWED_COUNTRIES is set but empty/);
  });

  it('throws a clear error for unknown codes', () => {
    expect(() => new DialPolicy({ allowedCountries: ['UK'] })).toThrow(/"UK".*Use GB for the United Kingdom/);
    expect(() => new DialPolicy({ allowedCountries: ['USA'] })).toThrow(/"USA".*ISO 3166 alpha-2/);
    expect(() => new DialPolicy({ allowedCountries: ['US', 'XX'] })).toThrow(/"XX"/);
  });
});

describe('describe()', () => {
  it('summarises the policy in one line', () => {
    expect(open.describe()).toBe('emergency, short-code and premium-rate numbers always blocked; allow-list: none; countries: any');
    const policy = new DialPolicy({ allowedNumbers: ['+1555*', '+442071234567'], allowedCountries: ['us', 'gb'] });
    expect(policy.describe()).toBe(
      'emergency, short-code and premium-rate numbers always blocked; allow-list: 2 entries; countries: US, GB',
    );
    expect(new DialPolicy({ allowedNumbers: ['+1*'] }).describe()).toContain('allow-list: 1 entry;');
    expect(policy.describe()).not.toContain('\n');
  });
});
