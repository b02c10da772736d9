/**
 * Exactly-once pieces at the REST-client level, against the simulator: a POST /call whose answer is lost after
 * the call was created is found again by its idempotency key; one that never created a call is "not placed";
 * an unreachable Vapi is "unknown". Plus the bounded key store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import {
  IdempotencyKeys,
  findCallByIdempotencyKey,
  idempotencyKeyOf,
  newIdempotencyKey,
  withIdempotencyKey,
} from '../src/vapi/idempotency.js';
import { VapiRestClient } from '../src/vapi/rest.js';
import { vapiFailure } from './helpers/errors.js';

const CALL = { assistantId: 'asst-1', phoneNumberId: 'pn-1', customer: { number: '+14155550100' } };

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function setUp() {
  sim = await startSimulator({ seed: 8, ringMs: 1e9 });
  const rest = new VapiRestClient({ baseUrl: sim.baseUrl, apiKey: sim.apiKey, retry: { baseDelayMs: 2, maxDelayMs: 10, maxTotalMs: 2000 } });
  const posts = () => sim!.requests.filter((r) => r.method === 'POST' && r.path === '/call').length;
  const listings = () => sim!.requests.filter((r) => r.method === 'GET' && r.path === '/call').length;
  const allCalls = async () => rest.listCalls({ limit: 1000 });
  return { sim, rest, posts, listings, allCalls };
}

describe('the idempotency key on the wire', () => {
  it('rides in assistantOverrides.metadata next to what is there, and comes back on GET /call/{id}', async () => {
    const { rest } = await setUp();
    const key = newIdempotencyKey();
    const body = withIdempotencyKey({ ...CALL, assistantOverrides: { metadata: { ticket: 7 }, firstMessage: 'Hi' } }, key);
    expect(body.assistantOverrides).toEqual({ metadata: { ticket: 7, idempotencyKey: key }, firstMessage: 'Hi' });
    const created = await rest.createCall(body);
    expect(idempotencyKeyOf(await rest.getCall(created.id))).toBe(key);
    expect(idempotencyKeyOf(await rest.createCall(CALL))).toBeUndefined();
  });
});

describe('findCallByIdempotencyKey', () => {
  it('finds the call whose answer was lost after it was created: exactly one call, and its id', async () => {
    const { sim, rest, posts, allCalls } = await setUp();
    await rest.createCall(withIdempotencyKey(CALL, 'earlier-key')); // another call, not the one looked for
    sim.faults.dropAfterCreate(1);
    const key = newIdempotencyKey();
    const requestStartedAt = Date.now();
    const failure = await vapiFailure(rest.createCall(withIdempotencyKey(CALL, key)));
    expect(failure.mayHaveSucceeded).toBe(true);

    const check = await findCallByIdempotencyKey(rest, key, { requestStartedAt, delayMs: 5 });
    expect(check.outcome).toBe('placed');
    if (check.outcome !== 'placed') return;
    const calls = await allCalls();
    expect(calls.filter((call) => idempotencyKeyOf(call) === key).map((call) => call.id)).toEqual([check.call.id]);
    expect(check.listings).toBe(1);
    expect(posts()).toBe(2); // the lookup never places anything
    expect(calls).toHaveLength(2);
  });

  it('says "not placed" when the request failed before any call was created, after a bounded number of listings', async () => {
    const { sim, rest, posts, listings, allCalls } = await setUp();
    sim.faults.failNext(1, 503);
    const key = newIdempotencyKey();
    const requestStartedAt = Date.now();
    const failure = await vapiFailure(rest.createCall(withIdempotencyKey(CALL, key)));
    expect(failure.mayHaveSucceeded).toBe(true);
    const before = listings();
    const check = await findCallByIdempotencyKey(rest, key, { requestStartedAt, attempts: 3, delayMs: 5 });
    expect(check).toEqual({ outcome: 'not-placed', listings: 3 });
    expect(listings() - before).toBe(3);
    expect(posts()).toBe(1);
    expect(await allCalls()).toEqual([]);
  });

  it('pages back through many calls created since the request to find an older one', async () => {
    const { sim, rest, listings } = await setUp();
    const requestStartedAt = Date.now();
    sim.faults.dropAfterCreate(1);
    await vapiFailure(rest.createCall(withIdempotencyKey(CALL, 'the-one')));
    for (let i = 0; i < 24; i++) await rest.createCall(withIdempotencyKey(CALL, `later-${i}`));
    const before = listings();
    const check = await findCallByIdempotencyKey(rest, 'the-one', { requestStartedAt, pageSize: 10, delayMs: 5 });
    expect(check.outcome).toBe('placed');
    expect(check.outcome === 'placed' && idempotencyKeyOf(check.call)).toBe('the-one');
    expect(listings() - before).toBe(3); // 25 calls, 10 a page
  });

  it('says "unknown", and why, when Vapi cannot be reached at all', async () => {
    const { sim, rest } = await setUp();
    await sim.close();
    const check = await findCallByIdempotencyKey(rest, 'k', { requestStartedAt: Date.now(), attempts: 2, delayMs: 5 });
    expect(check.outcome).toBe('unknown');
    expect(check.outcome === 'unknown' && check.reason).toMatch(/could not be asked.*GET \/call/);
    expect(JSON.stringify(check)).not.toContain(sim.apiKey);
  });

  it('a listing that fails is retried; one that succeeds later decides', async () => {
    const { sim, rest } = await setUp();
    const requestStartedAt = Date.now();
    await rest.createCall(withIdempotencyKey(CALL, 'k'));
    // The REST client retries GET itself; enough failures exhaust its budget for the first listing.
    const noRetry = new VapiRestClient({ baseUrl: sim.baseUrl, apiKey: sim.apiKey, retry: { maxAttempts: 1 } });
    sim.faults.failNext(1, 503);
    const check = await findCallByIdempotencyKey(noRetry, 'k', { requestStartedAt, delayMs: 5 });
    expect(check).toMatchObject({ outcome: 'placed', listings: 1 });
  });
});

describe('IdempotencyKeys', () => {
  it('remembers key → call id until the TTL passes', () => {
    let now = 0;
    const keys = new IdempotencyKeys({ ttlMs: 1000, now: () => now });
    keys.remember('a', 'call-a');
    now = 999;
    expect(keys.get('a')).toBe('call-a');
    now = 1000;
    expect(keys.get('a')).toBeUndefined();
    expect(keys.size).toBe(0);
  });

  it('holds at most `capacity` keys, forgetting the oldest first', () => {
    let now = 0;
    const keys = new IdempotencyKeys({ capacity: 3, now: () => now });
    for (const key of ['a', 'b', 'c', 'd']) {
      keys.remember(key, `call-${key}`);
      now++;
    }
    expect(keys.size).toBe(3);
    expect(keys.get('a')).toBeUndefined();
    expect(['b', 'c', 'd'].map((key) => keys.get(key))).toEqual(['call-b', 'call-c', 'call-d']);
    keys.remember('b', 'call-b'); // remembered again: now the youngest
    keys.remember('e', 'call-e');
    expect(keys.get('c')).toBeUndefined();
    expect(keys.get('b')).toBe('call-b');
  });

  it('refuses a nonsensical bound', () => {
    expect(() => new IdempotencyKeys({ capacity: 0 })).toThrow(RangeError);
    expect(() => new IdempotencyKeys({ ttlMs: 0 })).toThrow(RangeError);
  });
});
