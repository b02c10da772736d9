import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DialPolicy,
  EXAMPLE_VALID_NUMBERS,
  UNIVERSAL_EMERGENCY_NUMBERS,
  type NumberVerdict,
} from '../src/guard/index.js';

const REFUSAL_CODES = [
  'emergency',
  'short-code',
  'premium-rate',
  'invalid-format',
  'not-allowed',
  'country-not-allowed',
  'dialing-disabled',
];

const policies = [
  new DialPolicy(),
  new DialPolicy({ allowedNumbers: ['+1415*', '+442071838750'] }),
  new DialPolicy({ allowedCountries: ['US', 'GB'] }),
  new DialPolicy({ allowedNumbers: [] }),
];

function expectWellFormed(verdict: NumberVerdict): void {
  if (verdict.ok) {
    expect(Object.keys(verdict).every((k) => ['ok', 'e164', 'country', 'type'].includes(k))).toBe(true);
    expect(verdict.e164).toMatch(/^\+[1-9][0-9]{6,14}$/);
    if (verdict.country !== undefined) expect(verdict.country).toMatch(/^[A-Z]{2}$/);
    if (verdict.type !== undefined) expect(verdict.type).toMatch(/^[A-Z_]+$/);
  } else {
    expect(Object.keys(verdict).sort()).toEqual(['code', 'ok', 'reason', 'retryable', 'suggestion']);
    expect(REFUSAL_CODES).toContain(verdict.code);
    expect(typeof verdict.reason).toBe('string');
    expect(verdict.reason.length).toBeGreaterThan(0);
    expect(verdict.reason.length).toBeLessThan(400);
    expect(verdict.suggestion.length).toBeGreaterThan(0);
    expect(verdict.retryable).toBe(false);
  }
}

const phoneishChar = fc.constantFrom(
  ...'+0123456789 -.()/'.split(''),
  '＋', '٩', '１', '\u2013', '\u00a0', '#', '*', 'x', '\u0000', '\ud800', '😀',
);

const anyInput = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: phoneishChar, maxLength: 40 }),
  fc.stringMatching(/^\+?[0-9]{0,20}$/),
  fc.string({ unit: phoneishChar, minLength: 200, maxLength: 3000 }),
  fc.constantFrom(...EXAMPLE_VALID_NUMBERS),
);

/** Writes `e164` with random spaces, dashes, dots and parentheses between its characters. */
function withNoise(e164: string): fc.Arbitrary<string> {
  const separator = fc.constantFrom('', '', ' ', '-', '.', ' - ', '  ', '(', ')', '/');
  return fc
    .tuple(fc.array(separator, { minLength: e164.length, maxLength: e164.length }), fc.boolean(), fc.boolean())
    .map(([seps, internationalPrefix, padded]) => {
      const digits = e164.slice(1);
      let out = internationalPrefix ? '00' : '+';
      for (let i = 0; i < digits.length; i++) out += digits[i] + seps[i];
      return padded ? `  ${out}\t` : out;
    });
}

describe('DialPolicy properties', () => {
  it('never throws and always returns a well-formed verdict, whatever the input', () => {
    fc.assert(
      fc.property(anyInput, fc.constantFrom(...policies), (input, policy) => {
        expectWellFormed(policy.check(input));
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same E.164 for a valid number however it is formatted', () => {
    const noisy = fc.constantFrom(...EXAMPLE_VALID_NUMBERS).chain((e164) => withNoise(e164).map((text) => ({ e164, text })));
    fc.assert(
      fc.property(noisy, ({ e164, text }) => {
        const verdict = policies[0].check(text);
        expect(verdict).toMatchObject({ ok: true, e164 });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses emergency numbers as emergency however they are formatted', () => {
    const emergency = fc
      .tuple(fc.constantFrom(...UNIVERSAL_EMERGENCY_NUMBERS), fc.constantFrom('', '+', '+1 ', '+44 ', '00 49 ', '011 '))
      .chain(([number, prefix]) =>
        fc
          .array(fc.constantFrom('', ' ', '-', '.', '(', ')'), { minLength: number.length, maxLength: number.length })
          .map((seps) => prefix + [...number].map((d, i) => d + seps[i]).join('')),
      );
    fc.assert(
      fc.property(emergency, fc.constantFrom(...policies), (text, policy) => {
        const verdict = policy.check(text);
        expect(verdict).toMatchObject({ ok: false, code: 'emergency', retryable: false });
      }),
      { numRuns: 300 },
    );
  });
});
