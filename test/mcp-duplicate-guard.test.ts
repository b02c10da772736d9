/**
 * The duplicate-call guard: a create_call to a number this server called moments ago, or has a live call to, is
 * refused as duplicate-suspected, naming that call and its key, unless allowRepeat or that call's own key is given.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { follow, startHarness, VALID_NUMBER, type Harness } from './helpers/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const OTHER_NUMBER = '+442071838750';
type Placed = { callId: string; idempotencyKey: string; alreadyPlaced?: boolean; status: string };
const posts = () => h.sim.requests.filter((r) => r.method === 'POST' && r.path === '/call').length;

async function refusal(args: Record<string, unknown>) {
  const result = await h.callTool('create_call', args);
  expect(result.isError).toBe(true);
  return JSON.parse((result.content[0] as { text: string }).text) as {
    code: string;
    reason: string;
    suggestion: string;
    retryable: boolean;
    existingCall?: { callId?: string; idempotencyKey: string };
  };
}

describe('duplicate-call guard', () => {
  it('refuses a second call to the same number within the window, naming the first call and its key', async () => {
    h = await startHarness({ env: { VAPI_DUPLICATE_WINDOW_SECONDS: '120' } });
    const first = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(posts()).toBe(1);

    const retried = await refusal({ customer: { number: '+1 (415) 555-2671' }, listen: false });
    expect(retried).toMatchObject({ code: 'duplicate-suspected', retryable: false, existingCall: { callId: first.callId, idempotencyKey: first.idempotencyKey } });
    expect(retried.reason).toContain(first.callId);
    expect(retried.reason).toContain(first.idempotencyKey);
    expect(retried.suggestion).toContain('allowRepeat: true');
    // A dry run is told too, before anyone confirms a call that would be refused.
    expect((await refusal({ customer: { number: VALID_NUMBER }, dryRun: true })).code).toBe('duplicate-suspected');
    expect(posts()).toBe(1);

    // That call's own key returns it: nothing new is placed.
    const same = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false, idempotencyKey: first.idempotencyKey });
    expect(same).toMatchObject({ callId: first.callId, alreadyPlaced: true });
    expect(posts()).toBe(1);

    // Another number is not affected; allowRepeat places a second call on purpose.
    await h.ok<Placed>('create_call', { customer: { number: OTHER_NUMBER }, listen: false });
    expect(posts()).toBe(2);
    const second = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false, allowRepeat: true });
    expect(second.callId).not.toBe(first.callId);
    expect(posts()).toBe(3);
    // The newest call to the number is the one named from now on.
    expect((await refusal({ customer: { number: VALID_NUMBER }, listen: false })).existingCall?.callId).toBe(second.callId);
  });

  it('counts a live call whatever its age, and lets the number be called again once the window passed and the call ended', async () => {
    let now = Date.parse('2026-12-07T12:00:00Z');
    h = await startHarness({ env: { VAPI_DUPLICATE_WINDOW_SECONDS: '60' }, core: { now: () => now }, sim: { speed: 40 } });
    const first = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER } });
    now += 30_000;
    expect((await refusal({ customer: { number: VALID_NUMBER } })).reason).toMatch(/placed 30 s ago/);
    now += 60_000;
    await follow(h, first.callId, (read) => read.status === 'in-progress');
    expect((await refusal({ customer: { number: VALID_NUMBER } })).reason).toMatch(/still live/);

    await h.ok('end_call', { callId: first.callId });
    await follow(h, first.callId, (read) => read.ended);
    const again = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER } });
    expect(again.callId).not.toBe(first.callId);
    expect(posts()).toBe(2);
  });

  it('asks Vapi whether a call it does not listen to is still live once the window passed', async () => {
    let now = Date.parse('2026-12-07T12:00:00Z');
    h = await startHarness({ env: { VAPI_DUPLICATE_WINDOW_SECONDS: '0' }, core: { now: () => now } });
    const first = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    now += 1000;
    expect((await refusal({ customer: { number: VALID_NUMBER }, listen: false })).reason).toMatch(/still live/);
    h.sim.hangup(first.callId, 'customer-ended-call');
    await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(posts()).toBe(2);
  });

  it('lets only one of two concurrent calls to the same number through', async () => {
    h = await startHarness({ env: { VAPI_DUPLICATE_WINDOW_SECONDS: '120' } });
    const results = await Promise.all([1, 2].map(() => h.callTool('create_call', { customer: { number: VALID_NUMBER }, listen: false })));
    expect(results.filter((r) => !r.isError)).toHaveLength(1);
    const refused = results.find((r) => r.isError)!;
    expect(JSON.parse((refused.content[0] as { text: string }).text).code).toBe('duplicate-suspected');
    expect(posts()).toBe(1);
  });

  it('is off with VAPI_DUPLICATE_WINDOW_SECONDS=off', async () => {
    h = await startHarness({ env: { VAPI_DUPLICATE_WINDOW_SECONDS: 'off' } });
    await h.ok('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    await h.ok('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(posts()).toBe(2);
  });
});
