import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import {
  QuietHoursGuard,
  calleeTimeZones,
  isQuietMinute,
  judgeQuietHours,
  nextAllowedInstant,
  parseQuietHours,
} from '../src/guard/quiet-hours.js';

const NIGHT = parseQuietHours('21:00-08:00');
const at = (iso: string) => Date.parse(iso);
const minute = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

describe('parseQuietHours', () => {
  it.each([
    ['21:00-08:00', 21 * 60, 8 * 60, '21:00-08:00'],
    [' 9:30 - 17:05 ', 9 * 60 + 30, 17 * 60 + 5, '09:30-17:05'],
    ['00:00-06:00', 0, 6 * 60, '00:00-06:00'],
    ['23:59-00:00', 23 * 60 + 59, 0, '23:59-00:00'],
  ])('reads %j', (text, startMinute, endMinute, normalised) => {
    expect(parseQuietHours(text)).toEqual({ startMinute, endMinute, text: normalised });
  });

  it.each([
    ['21-08', /21:00-08:00/],
    ['9pm-8am', /HH:MM-HH:MM/],
    ['24:00-08:00', /impossible time/],
    ['21:60-08:00', /impossible time/],
    ['21:00-21:00', /same time/],
    ['', /HH:MM/],
  ])('refuses %j, saying why', (text, why) => {
    expect(() => parseQuietHours(text)).toThrow(why);
  });

  it('is read from VAPI_QUIET_HOURS with a one-line error naming the variable', () => {
    expect(loadConfig({ VAPI_API_KEY: 'k' }).quietHours).toBeUndefined();
    expect(loadConfig({ VAPI_API_KEY: 'k', VAPI_QUIET_HOURS: '21:00-08:00' }).quietHours).toEqual(NIGHT);
    for (const bad of ['21:00', '25:00-08:00', '08:00-08:00']) {
      let error: unknown;
      try {
        loadConfig({ VAPI_API_KEY: 'k', VAPI_QUIET_HOURS: bad });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^VAPI_QUIET_HOURS /);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('isQuietMinute', () => {
  it.each([
    // window crossing midnight
    ['21:00-08:00', '20:59', false],
    ['21:00-08:00', '21:00', true],
    ['21:00-08:00', '23:59', true],
    ['21:00-08:00', '00:00', true],
    ['21:00-08:00', '07:59', true],
    ['21:00-08:00', '08:00', false],
    ['21:00-08:00', '12:00', false],
    // window inside one day
    ['12:00-14:00', '11:59', false],
    ['12:00-14:00', '12:00', true],
    ['12:00-14:00', '13:59', true],
    ['12:00-14:00', '14:00', false],
    ['12:00-14:00', '00:00', false],
  ])('%s at %s → quiet %s', (window, time, quiet) => {
    expect(isQuietMinute(parseQuietHours(window), minute(time))).toBe(quiet);
  });
});

describe('calleeTimeZones (libphonenumber prefix map)', () => {
  it.each([
    ['+12125551234', ['America/New_York']],
    ['+14155552671', ['America/Los_Angeles']],
    ['+442071838750', ['Europe/London']],
    ['+61298765432', ['Australia/Sydney']],
    ['+4930123456', ['Europe/Berlin']],
    ['+19075551234', ['America/Adak', 'America/Anchorage']],
  ])('%s → %j', async (number, zones) => {
    expect(await calleeTimeZones(number)).toEqual(zones);
  });

  it('falls back to every zone of the country for a prefix it does not know, and [] for a non-geographic number', async () => {
    // +1 533 is not a geographic area code: every NANP zone, from Guam to Newfoundland.
    const nanp = await calleeTimeZones('+15335551234');
    expect(nanp.length).toBeGreaterThan(20);
    expect(nanp).toEqual(expect.arrayContaining(['America/New_York', 'Pacific/Honolulu', 'Pacific/Guam', 'America/St_Johns']));
    expect(await calleeTimeZones('+80012345678')).toEqual([]);
  });
});

describe('judgeQuietHours', () => {
  const judge = (zones: string[], nowIso: string, scheduledIso?: string) =>
    judgeQuietHours({
      window: NIGHT,
      e164: '+12125551234',
      zones,
      now: at(nowIso),
      scheduledAt: scheduledIso === undefined ? undefined : at(scheduledIso),
    });

  it.each([
    // New York in January is UTC-5.
    ['2027-01-15T02:30:00Z', 'America/New_York', '21:30', true, 37_800],
    ['2027-01-15T12:59:30Z', 'America/New_York', '07:59', true, 30],
    ['2027-01-15T13:00:00Z', 'America/New_York', '08:00', false, undefined],
    ['2027-01-16T01:59:00Z', 'America/New_York', '20:59', false, undefined],
    // Sydney in January is UTC+11 (daylight time): 10:00 there.
    ['2027-01-14T23:00:00Z', 'Australia/Sydney', '10:00', false, undefined],
    // and 23:00 there; quiet until 08:00 local = 21:00Z.
    ['2027-01-15T12:00:00Z', 'Australia/Sydney', '23:00', true, 9 * 3600],
  ])('%s in %s (%s local): quiet %s, retry after %s s', (nowIso, zone, local, quiet, retryAfterSeconds) => {
    const verdict = judge([zone], nowIso);
    expect(verdict.localTimes[0]).toMatchObject({ zone, time: local, quiet });
    expect(verdict.ok).toBe(!quiet);
    if (!verdict.ok && verdict.code === 'quiet-hours') {
      expect(verdict.retryAfterSeconds).toBe(retryAfterSeconds);
      expect(verdict.retryable).toBe(true);
      expect(verdict.reason).toContain(`${local} in ${zone}`);
      expect(verdict.reason).toContain('21:00-08:00');
    }
  });

  it('reads a prefix spanning several zones strictly: refused while quiet in any, allowed when quiet in none', () => {
    // Alaska in January: Anchorage UTC-9, Adak UTC-10. At 17:30Z Anchorage is 08:30, Adak 07:30.
    const split = judge(['America/Adak', 'America/Anchorage'], '2027-01-15T17:30:00Z');
    expect(split.ok).toBe(false);
    if (split.ok || split.code !== 'quiet-hours') throw new Error('expected a quiet-hours refusal');
    expect(split.reason).toContain('07:30 in America/Adak');
    expect(split.reason).not.toContain('America/Anchorage');
    expect(split.retryAfterSeconds).toBe(30 * 60); // 18:00Z, 08:00 in Adak
    expect(split.nextAllowedAt).toBe('2027-01-15T18:00:00.000Z');
    expect(split.localTimes.map((l) => [l.zone, l.time, l.utcOffset])).toEqual([
      ['America/Adak', '07:30', '-10:00'],
      ['America/Anchorage', '08:30', '-09:00'],
    ]);

    // The evening: Anchorage reaches 21:00 (06:00Z) an hour before Adak does.
    expect(judge(['America/Adak', 'America/Anchorage'], '2027-01-16T05:59:00Z').ok).toBe(true);
    expect(judge(['America/Adak', 'America/Anchorage'], '2027-01-16T06:00:00Z').ok).toBe(false);
    // The next morning, allowed once both have passed 08:00: 18:00Z.
    expect(nextAllowedInstant(NIGHT, ['America/Adak', 'America/Anchorage'], at('2027-01-16T06:00:00Z'))).toBe(
      at('2027-01-16T18:00:00Z'),
    );
  });

  it('says so when zones leave no time outside quiet hours in all of them', () => {
    // 18:00-09:00 leaves 09:00-18:00: Tokyo 00:00-09:00Z and New York 14:00-23:00Z never overlap.
    const verdict = judgeQuietHours({
      window: parseQuietHours('18:00-09:00'),
      e164: '+10000000000',
      zones: ['America/New_York', 'Asia/Tokyo'],
      now: at('2027-01-15T12:00:00Z'),
    });
    expect(verdict).toMatchObject({ ok: false, code: 'quiet-hours', retryable: false });
    expect(verdict.ok === false && 'retryAfterSeconds' in verdict && verdict.retryAfterSeconds).toBeFalsy();
  });

  it('refuses a number whose local time cannot be told, without a retry time', () => {
    const verdict = judge([], '2027-01-15T15:00:00Z');
    expect(verdict).toMatchObject({ ok: false, code: 'quiet-hours-unknown-zone', retryable: false });
  });

  describe('DST edges (America/New_York)', () => {
    it('spring forward: 21:00 EST to 08:00 EDT is ten hours, not eleven', () => {
      // 2027-03-14 02:00 EST → 03:00 EDT. 02:00Z on the 14th is 21:00 EST on the 13th.
      const verdict = judge(['America/New_York'], '2027-03-14T02:00:00Z');
      expect(verdict).toMatchObject({ ok: false, retryAfterSeconds: 10 * 3600, nextAllowedAt: '2027-03-14T12:00:00.000Z' });
      expect(verdict.localTimes[0]).toMatchObject({ time: '21:00', utcOffset: '-05:00' });
      expect(judge(['America/New_York'], '2027-03-14T11:59:59Z').ok).toBe(false); // 07:59:59 EDT
      expect(judge(['America/New_York'], '2027-03-14T12:00:00Z').localTimes[0]).toMatchObject({ time: '08:00', utcOffset: '-04:00', quiet: false });
    });

    it('fall back: 21:00 EDT to 08:00 EST is twelve hours', () => {
      // 2027-11-07 02:00 EDT → 01:00 EST. 01:00Z on the 7th is 21:00 EDT on the 6th.
      const verdict = judge(['America/New_York'], '2027-11-07T01:00:00Z');
      expect(verdict).toMatchObject({ ok: false, retryAfterSeconds: 12 * 3600, nextAllowedAt: '2027-11-07T13:00:00.000Z' });
    });

    it('a window ending inside the skipped hour ends when the clocks jump', () => {
      // 21:00-02:30 on the spring-forward night: 02:30 never happens; 03:00 EDT (07:00Z) is the first allowed time.
      const window = parseQuietHours('21:00-02:30');
      expect(nextAllowedInstant(window, ['America/New_York'], at('2027-03-14T06:00:00Z'))).toBe(at('2027-03-14T07:00:00Z'));
    });
  });

  it('judges a scheduled call at its scheduled time', () => {
    // Now 12:00 in New York (allowed), scheduled for 22:00 local: refused, with the time to move it to.
    const late = judge(['America/New_York'], '2027-01-15T17:00:00Z', '2027-01-16T03:00:00Z');
    expect(late).toMatchObject({ ok: false, code: 'quiet-hours', retryable: false, nextAllowedAt: '2027-01-16T13:00:00.000Z' });
    expect(late.ok === false && late.reason).toContain('22:00 in America/New_York');
    expect(late.ok === false && late.reason).toContain('scheduled time');
    expect(late.ok === false && 'retryAfterSeconds' in late).toBe(false);
    // Now 23:00 local (quiet), scheduled for 10:00 the next morning: allowed.
    expect(judge(['America/New_York'], '2027-01-16T04:00:00Z', '2027-01-16T15:00:00Z').ok).toBe(true);
    // A scheduled time already past is judged now.
    expect(judge(['America/New_York'], '2027-01-16T04:00:00Z', '2027-01-15T15:00:00Z').ok).toBe(false);
  });
});

describe('QuietHoursGuard', () => {
  it('looks the zones up from the number and judges with the injected clock', async () => {
    let now = at('2027-01-15T02:30:00Z'); // 21:30 in New York, 18:30 in Los Angeles
    const guard = new QuietHoursGuard({ window: NIGHT, now: () => now });
    const newYork = await guard.check('+12125551234');
    expect(newYork).toMatchObject({ ok: false, code: 'quiet-hours', retryAfterSeconds: 37_800 });
    expect(await guard.check('+14155552671')).toMatchObject({ ok: true, zones: ['America/Los_Angeles'] });
    now = at('2027-01-15T13:00:00Z');
    expect((await guard.check('+12125551234')).ok).toBe(true);
    expect(await guard.check('+12125551234', '2027-01-16T03:00:00Z')).toMatchObject({ ok: false, retryable: false });
    expect(guard.describe()).toContain('21:00-08:00');
  });
});
