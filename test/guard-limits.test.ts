import { describe, expect, it } from 'vitest';
import {
  CallLimits,
  DEFAULT_MAX_CALLS_PER_HOUR,
  DEFAULT_MAX_CONCURRENT_CALLS,
  type LimitVerdict,
} from '../src/guard/index.js';
import { UNTRACKED_CALL_HOLD_MS } from '../src/guard/limits.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = start + ms) };
}

function refusal(verdict: LimitVerdict) {
  if (verdict.ok) throw new Error('expected a refusal');
  expect(verdict.reason.length).toBeGreaterThan(10);
  expect(verdict.suggestion.length).toBeGreaterThan(10);
  return verdict;
}

describe('defaults', () => {
  it('stop a runaway loop early', () => {
    expect(DEFAULT_MAX_CONCURRENT_CALLS).toBe(3);
    expect(DEFAULT_MAX_CALLS_PER_HOUR).toBe(20);
  });
});

describe('concurrency', () => {
  it('refuses while the limit is reached and names the live calls', () => {
    const limits = new CallLimits({ maxConcurrentCalls: 2, maxCallsPerHour: 100, now: manualClock().now });
    expect(limits.check()).toEqual({ ok: true });
    limits.recordPlaced('call-a');
    expect(limits.check()).toEqual({ ok: true });
    limits.recordPlaced('call-b');

    const verdict = refusal(limits.check());
    expect(verdict.code).toBe('concurrency');
    expect(verdict.retryable).toBe(true);
    expect(verdict.retryAfterSeconds).toBeUndefined();
    expect(verdict.reason).toContain('VAPI_MAX_CONCURRENT_CALLS');
    expect(verdict.suggestion).toContain('call-a, call-b');
    expect(limits.liveCallIds()).toEqual(['call-a', 'call-b']);
  });

  it('frees a slot when a call ends; ending is idempotent and unknown ids are ignored', () => {
    const limits = new CallLimits({ maxConcurrentCalls: 1, maxCallsPerHour: 100, now: manualClock().now });
    limits.recordPlaced('call-a');
    expect(limits.check().ok).toBe(false);
    limits.recordEnded('call-a');
    limits.recordEnded('call-a');
    limits.recordEnded('never-placed');
    expect(limits.check()).toEqual({ ok: true });
    expect(limits.liveCallIds()).toEqual([]);
    expect(limits.snapshot()).toEqual({ live: 0, maxConcurrent: 1, placedLastHour: 1, maxPerHour: 100 });
  });

  it('counts a live id recorded twice only once', () => {
    const limits = new CallLimits({ maxConcurrentCalls: 2, maxCallsPerHour: 100, now: manualClock().now });
    limits.recordPlaced('call-a');
    limits.recordPlaced('call-a');
    expect(limits.check()).toEqual({ ok: true });
    expect(limits.snapshot()).toMatchObject({ live: 1, placedLastHour: 1 });
  });

  it('with a limit of 0 refuses for good and names the variable', () => {
    const verdict = refusal(new CallLimits({ maxConcurrentCalls: 0, maxCallsPerHour: 10 }).check());
    expect(verdict.code).toBe('concurrency');
    expect(verdict.retryable).toBe(false);
    expect(verdict.suggestion).toContain('VAPI_MAX_CONCURRENT_CALLS');
  });
});

describe('hourly window', () => {
  it('refuses once the hour is full and says exactly when a retry succeeds', () => {
    const clock = manualClock();
    const limits = new CallLimits({ maxConcurrentCalls: 10, maxCallsPerHour: 3, now: clock.now });
    for (const [i, at] of [0, 10 * MINUTE, 20 * MINUTE].entries()) {
      clock.set(at);
      limits.recordPlaced(`call-${i}`);
      limits.recordEnded(`call-${i}`);
    }

    clock.set(30 * MINUTE);
    let verdict = refusal(limits.check());
    expect(verdict.code).toBe('hourly-rate');
    expect(verdict.retryable).toBe(true);
    expect(verdict.retryAfterSeconds).toBe(30 * 60);
    expect(verdict.reason).toContain('VAPI_MAX_CALLS_PER_HOUR');
    expect(verdict.suggestion).toContain('30 min');

    clock.set(HOUR - 1500);
    verdict = refusal(limits.check());
    expect(verdict.retryAfterSeconds).toBe(2); // 1.5 s rounds up: retrying after 1 s would still fail

    clock.set(HOUR - 1);
    expect(refusal(limits.check()).retryAfterSeconds).toBe(1);

    clock.set(HOUR); // the first placement leaves the window exactly one hour later
    expect(limits.check()).toEqual({ ok: true });
    expect(limits.snapshot().placedLastHour).toBe(2);

    clock.set(HOUR + 20 * MINUTE);
    expect(limits.snapshot().placedLastHour).toBe(0);
  });

  it('retrying after retryAfterSeconds succeeds, one second earlier does not', () => {
    const clock = manualClock();
    const limits = new CallLimits({ maxConcurrentCalls: 10, maxCallsPerHour: 2, now: clock.now });
    clock.set(7 * SECOND + 250);
    limits.recordPlaced('a');
    clock.set(42 * MINUTE);
    limits.recordPlaced('b');
    clock.set(50 * MINUTE + 333);
    const wait = refusal(limits.check()).retryAfterSeconds!;
    clock.set(50 * MINUTE + 333 + (wait - 1) * SECOND);
    expect(limits.check().ok).toBe(false);
    clock.set(50 * MINUTE + 333 + wait * SECOND);
    expect(limits.check().ok).toBe(true);
  });

  it('is reported before concurrency, since ending calls would not help', () => {
    const limits = new CallLimits({ maxConcurrentCalls: 1, maxCallsPerHour: 1, now: manualClock().now });
    limits.recordPlaced('a');
    expect(refusal(limits.check()).code).toBe('hourly-rate');
  });

  it('with a limit of 0 refuses for good and names the variable', () => {
    const limits = new CallLimits({ maxConcurrentCalls: 3, maxCallsPerHour: 0 });
    const verdict = refusal(limits.check());
    expect(verdict.code).toBe('hourly-rate');
    expect(verdict.retryable).toBe(false);
    expect(verdict.retryAfterSeconds).toBeUndefined();
    expect(verdict.suggestion).toContain('VAPI_MAX_CALLS_PER_HOUR');
  });

  it('keeps at most maxCallsPerHour timestamps however many calls are recorded', () => {
    const clock = manualClock();
    const limits = new CallLimits({ maxConcurrentCalls: 1, maxCallsPerHour: 5, now: clock.now });
    for (let i = 0; i < 10_000; i++) {
      clock.set(i);
      limits.recordPlaced(`call-${i}`);
      limits.recordEnded(`call-${i}`);
    }
    expect(limits.snapshot()).toEqual({ live: 0, maxConcurrent: 1, placedLastHour: 5, maxPerHour: 5 });
    // The newest five (at 9995…9999 ms) decide: the window frees up one hour after the oldest of them.
    clock.set(9_999);
    expect(refusal(limits.check()).retryAfterSeconds).toBe(3600);
    clock.set(9_995 + HOUR);
    expect(limits.check()).toEqual({ ok: true });
  });
});

describe('construction', () => {
  it.each([
    [{ maxConcurrentCalls: -1, maxCallsPerHour: 1 }, /maxConcurrentCalls.*-1/],
    [{ maxConcurrentCalls: 1, maxCallsPerHour: 1.5 }, /maxCallsPerHour.*1\.5/],
    [{ maxConcurrentCalls: Number.NaN, maxCallsPerHour: 1 }, /maxConcurrentCalls.*NaN/],
  ])('rejects %j', (options, message) => {
    expect(() => new CallLimits(options)).toThrow(message);
  });

  it('works with the default monotonic clock', () => {
    const limits = new CallLimits({ maxConcurrentCalls: 1, maxCallsPerHour: 5 });
    limits.recordPlaced('a');
    expect(limits.snapshot()).toEqual({ live: 1, maxConcurrent: 1, placedLastHour: 1, maxPerHour: 5 });
    expect(refusal(limits.check()).code).toBe('concurrency');
  });
});

describe('reservations', () => {
  const reserve = (limits: CallLimits) => {
    const verdict = limits.reserve();
    if (!verdict.ok) throw new Error(`expected a slot: ${verdict.reason}`);
    return verdict.reservation;
  };

  it('count toward both limits from the moment they are taken', () => {
    const limits = new CallLimits({ maxConcurrentCalls: 2, maxCallsPerHour: 3 });
    reserve(limits);
    reserve(limits);
    expect(refusal(limits.reserve()).code).toBe('concurrency');
    expect(limits.snapshot()).toMatchObject({ live: 2, placedLastHour: 2 });
  });

  it('give everything back on release, become a live call when placed, and settle only once', () => {
    const limits = new CallLimits({ maxConcurrentCalls: 1, maxCallsPerHour: 5 });
    const first = reserve(limits);
    first.release();
    first.placed('late-id'); // ignored: already settled
    expect(limits.snapshot()).toMatchObject({ live: 0, placedLastHour: 0 });
    const second = reserve(limits);
    second.placed('call-1');
    expect(limits.liveCallIds()).toEqual(['call-1']);
    expect(refusal(limits.reserve()).code).toBe('concurrency');
    limits.recordEnded('call-1');
    expect(limits.reserve().ok).toBe(true);
  });

  it('hold an untracked call\'s slot for a bounded time, and its place in the hour for the hour', () => {
    const clock = manualClock();
    const limits = new CallLimits({ maxConcurrentCalls: 1, maxCallsPerHour: 5, now: clock.now });
    reserve(limits).untracked();
    expect(limits.liveCallIds()).toEqual([]);
    clock.set(UNTRACKED_CALL_HOLD_MS - 1);
    expect(refusal(limits.reserve()).code).toBe('concurrency');
    clock.set(UNTRACKED_CALL_HOLD_MS);
    expect(limits.reserve().ok).toBe(true);
    expect(limits.snapshot().placedLastHour).toBe(2);
  });
});
