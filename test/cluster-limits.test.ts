/**
 * The shared call limits' Lua script, its idempotency keys, confirmation tokens and duplicate-call memory, against a
 * real redis-server: the edge cases of reserve / placed / release / untracked / ended, expiry of a dead instance's
 * slots, and exactness under parallel reservations from separate connections (as separate instances would).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectCluster, type ClusterConnection } from '../src/cluster/connection.js';
import { SharedConfirmationTokens } from '../src/cluster/shared-confirmations.js';
import { SharedIdempotencyKeys } from '../src/cluster/shared-keys.js';
import { SharedCallLimits } from '../src/cluster/shared-limits.js';
import { SharedRecentCalls } from '../src/cluster/shared-recent-calls.js';
import { ClusterStore, ClusterUnavailableError } from '../src/cluster/store.js';
import type { LimitVerdict, ReserveVerdict } from '../src/guard/limits.js';
import { StderrLogger } from '../src/log.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { EVENTUALLY } from './helpers/wait.js';

const lines: string[] = [];
const logger = new StderrLogger({ level: 'debug', write: (line) => lines.push(line) });

let redis: RedisServer;
const connections: ClusterConnection[] = [];

async function store(): Promise<ClusterStore> {
  const connection = await connectCluster({ url: redis.url, logger });
  connections.push(connection);
  return new ClusterStore(connection);
}

function limits(s: ClusterStore, options: Partial<ConstructorParameters<typeof SharedCallLimits>[0]> = {}) {
  return new SharedCallLimits({ store: s, logger, maxConcurrentCalls: 2, maxCallsPerHour: 5, ...options });
}

function reserved(verdict: ReserveVerdict) {
  if (!verdict.ok) throw new Error(`expected a slot, got ${verdict.code}: ${verdict.reason}`);
  return verdict.reservation;
}

function refused(verdict: LimitVerdict | ReserveVerdict, code: 'concurrency' | 'hourly-rate') {
  if (verdict.ok) throw new Error(`expected a ${code} refusal`);
  expect(verdict.code).toBe(code);
  return verdict;
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  const s = await store();
  await s.run((client) => client.flushAll());
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await redis?.stop();
  expect(lines.join('')).not.toContain(redis.url);
});

describe('shared call limits (one Lua script)', () => {
  it('reserves up to the concurrency limit, then refuses naming the live calls and the held slots', async () => {
    const shared = limits(await store());
    const a = reserved(await shared.reserve());
    reserved(await shared.reserve());
    const refusal = refused(await shared.reserve(), 'concurrency');
    expect(refusal.reason).toContain('2 calls are live (0 known and 2 being placed or not traceable)');
    a.placed('call-a');
    await vi.waitFor(async () => expect(await shared.liveCallIds()).toEqual(['call-a']), EVENTUALLY);
    expect(refused(await shared.check(), 'concurrency').suggestion).toContain('call-a');
  });

  it('gives back slot and hourly stamp on release, frees only the slot when a placed call ends', async () => {
    const shared = limits(await store(), { maxConcurrentCalls: 1, maxCallsPerHour: 2 });
    reserved(await shared.reserve()).release();
    await vi.waitFor(async () => expect((await shared.check()).ok).toBe(true), EVENTUALLY);
    reserved(await shared.reserve()).placed('call-1');
    await vi.waitFor(async () => expect(await shared.liveCallIds()).toEqual(['call-1']), EVENTUALLY);
    refused(await shared.check(), 'concurrency');
    await shared.recordEnded('call-1');
    expect((await shared.check()).ok).toBe(true);
    reserved(await shared.reserve()).placed('call-2');
    await shared.recordEnded('call-2');
    // Two calls placed this hour (the released one does not count): the hourly cap bites, ending calls cannot lift it.
    const hourly = refused(await shared.check(), 'hourly-rate');
    expect(hourly.reason).toContain('2 calls were placed in the last hour');
    expect(hourly.retryAfterSeconds).toBeGreaterThan(3500);
  });

  it('settles a reservation once; an untracked one keeps its slot and its hour', async () => {
    const shared = limits(await store(), { maxConcurrentCalls: 1 });
    const reservation = reserved(await shared.reserve());
    reservation.untracked();
    reservation.release(); // ignored: already settled
    await expect.poll(async () => (await shared.check()).ok).toBe(false);
    await new Promise<void>((resolve) => setImmediate(resolve));
    refused(await shared.check(), 'concurrency');
  });

  it('records a call placed elsewhere once, and ignores the end of an unknown call', async () => {
    const shared = limits(await store(), { maxConcurrentCalls: 3 });
    await shared.recordPlaced('call-x');
    await shared.recordPlaced('call-x');
    await shared.recordEnded('call-unknown');
    expect(await shared.liveCallIds()).toEqual(['call-x']);
  });

  it("frees a dead instance's slots when their hold ends", async () => {
    const dead = limits(await store(), { maxConcurrentCalls: 2, reservationHoldMs: 200, liveCallHoldMs: 300 });
    reserved(await dead.reserve()); // never settled: its instance died mid-request
    reserved(await dead.reserve()).placed('call-orphan'); // nobody will see it end
    const survivor = limits(await store(), { maxConcurrentCalls: 2 });
    refused(await survivor.check(), 'concurrency');
    await vi.waitFor(async () => expect(await survivor.liveCallIds()).toEqual([]), EVENTUALLY);
    expect((await survivor.check()).ok).toBe(true);
  });

  it('lets exactly the limit through when 30 reservations race from 3 connections', async () => {
    const instances = [limits(await store(), { maxConcurrentCalls: 3, maxCallsPerHour: 100 }), limits(await store(), { maxConcurrentCalls: 3, maxCallsPerHour: 100 }), limits(await store(), { maxConcurrentCalls: 3, maxCallsPerHour: 100 })];
    const verdicts = await Promise.all(Array.from({ length: 30 }, (_, i) => instances[i % 3].reserve()));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(3);
    expect(verdicts.filter((v) => !v.ok && v.code === 'concurrency')).toHaveLength(27);
  });

  it('refuses with ClusterUnavailableError while the store is down, and works again after', async () => {
    const shared = limits(await store());
    await redis.stop();
    try {
      await vi.waitFor(() => expect(connections.at(-1)!.ready).toBe(false), EVENTUALLY);
      await expect(shared.reserve()).rejects.toBeInstanceOf(ClusterUnavailableError);
    } finally {
      await redis.start();
    }
    await vi.waitFor(() => expect(connections.at(-1)!.ready).toBe(true), EVENTUALLY);
    // The script cache is gone with the restart: EVALSHA's NOSCRIPT sends the script again.
    reserved(await shared.reserve());
  });
});

describe('shared idempotency keys, confirmation tokens and recent calls', () => {
  it('lets one instance claim a key; the other sees it placing, then placed', async () => {
    const [a, b] = [new SharedIdempotencyKeys(await store(), logger), new SharedIdempotencyKeys(await store(), logger)];
    const claim = await a.claim('key-1');
    expect(claim).toBeDefined();
    expect(await b.claim('key-1')).toBeUndefined();
    expect(await b.lookup('key-1')).toEqual({ state: 'placing' });
    await claim!.placed('call-1');
    expect(await b.lookup('key-1')).toEqual({ state: 'placed', callId: 'call-1' });
    const released = await b.claim('key-2');
    await released!.release();
    expect(await a.lookup('key-2')).toBeUndefined();
    await (await a.claim('key-3'))!.uncertain(1234);
    expect(await b.lookup('key-3')).toEqual({ state: 'uncertain', since: 1234 });
    await b.resolveUncertain('key-3', 1234, undefined);
    expect(await b.lookup('key-3')).toBeUndefined();
  });

  it('redeems a token minted on A once, on B; a changed request or a forged token is refused', async () => {
    const [a, b, c] = [new SharedConfirmationTokens(await store()), new SharedConfirmationTokens(await store()), new SharedConfirmationTokens(await store())];
    const request = { method: 'POST', body: { to: '+15550100' } };
    const { token } = await a.issue(request);
    expect(await b.redeem(token, { ...request, body: { to: '+15550199' } })).toMatchObject({ code: 'confirmation-token-mismatch' });
    const [nonce, expiry] = token.split('.');
    expect(await b.redeem(`${nonce}.${expiry}.forged`, request)).toMatchObject({ code: 'confirmation-token-mismatch' });
    const results = await Promise.all([b.redeem(token, request), c.redeem(token, request), a.redeem(token, request)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.code === 'confirmation-token-reused')).toHaveLength(2);
    expect(await b.redeem('nonce.zz.sig', request)).toMatchObject({ code: 'confirmation-token-wrong' });
  });

  it('catches a second placement to the same number through another instance, and restores on release', async () => {
    const options = { windowMs: 60_000, now: Date.now };
    const [a, b] = [new SharedRecentCalls(options, await store(), logger), new SharedRecentCalls(options, await store(), logger)];
    const first = await a.claim('+15550100', 'key-a', true);
    expect('busy' in first).toBe(false);
    expect(await b.claim('+15550100', 'key-b', true)).toMatchObject({ busy: { key: 'key-a' } });
    if ('busy' in first) return;
    first.placed('call-a');
    await vi.waitFor(async () => expect(await b.latest('+15550100')).toMatchObject({ key: 'key-a', callId: 'call-a' }), EVENTUALLY);
    const repeat = await b.claim('+15550100', 'key-b', false);
    if ('busy' in repeat) throw new Error('a non-exclusive claim is never busy');
    repeat.release();
    await vi.waitFor(async () => expect(await a.latest('+15550100')).toMatchObject({ key: 'key-a', callId: 'call-a' }), EVENTUALLY);
  });
});

describe('start-up with the store down', () => {
  it('resolves not ready at once, then connects when the server comes', async () => {
    await redis.stop();
    let connection: ClusterConnection | undefined;
    try {
      connection = await connectCluster({ url: redis.url, logger });
      connections.push(connection);
      expect(connection.ready).toBe(false);
      expect(lines.join('')).toContain('unreachable at start');
    } finally {
      await redis.start();
    }
    await vi.waitFor(() => expect(connection!.ready).toBe(true), EVENTUALLY);
  });
});
