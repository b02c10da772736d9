/**
 * Cluster mode as deployed: three built servers (`dist/index.js --http`) sharing one real redis-server, in front of
 * one simulator. The limits, idempotency keys and confirmation tokens hold across the instances, counted where it
 * matters: the POST /call requests the simulator received. Then a Redis outage: placing is refused with the
 * envelope and /healthz says degraded, and placing works again once Redis is back.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { until, VALID_NUMBER } from './helpers/harness.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { ENTRY } from './helpers/spawn.js';
import { EVENTUALLY } from './helpers/wait.js';

interface Instance {
  child: ChildProcess;
  url: string;
  client: Client;
  stderr(): string;
}

type Outcome = { ok: true; result: Record<string, unknown> } | { ok: false; failure: { code: string; reason: string; suggestion: string; retryable: boolean } };

const MAX_CONCURRENT = 3;
const MAX_PER_HOUR = 7;

let redis: RedisServer;
let sim: Simulator;
let dir: string;
const instances: Instance[] = [];

async function startInstance(name: string): Promise<Instance> {
  const child = spawn(process.execPath, [ENTRY, '--http', '--port', '0'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      VAPI_API_KEY: sim.apiKey,
      VAPI_PUBLIC_KEY: sim.publicKey,
      VAPI_BASE_URL: sim.baseUrl,
      VAPI_ASSISTANT_ID: 'assistant-test',
      VAPI_PHONE_NUMBER_ID: 'phone-test',
      VAPI_RECORDINGS_DIR: join(dir, name),
      VAPI_MAX_CONCURRENT_CALLS: String(MAX_CONCURRENT),
      VAPI_MAX_CALLS_PER_HOUR: String(MAX_PER_HOUR),
      VAPI_DUPLICATE_WINDOW_SECONDS: 'off',
      VAPI_MCP_REDIS_URL: redis.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout!.resume();
  const url = await until(() => /ready on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr)?.[1], 20_000, `${name}'s ready line`);
  const client = new Client({ name: `cluster-test-${name}`, version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return { child, url, client, stderr: () => stderr };
}

async function createCall(instance: Instance, args: Record<string, unknown>): Promise<Outcome> {
  const result = (await instance.client.callTool({ name: 'create_call', arguments: { customer: { number: VALID_NUMBER }, listen: false, ...args } })) as CallToolResult;
  if (!result.isError) return { ok: true, result: result.structuredContent as Record<string, unknown> };
  const text = result.content.find((block) => block.type === 'text');
  return { ok: false, failure: JSON.parse(text && 'text' in text ? text.text : '{}') };
}

/** What the simulator received: the only count that proves how many calls were placed. */
function postCalls(): number {
  return sim.requests.filter((request) => request.method === 'POST' && request.path === '/call').length;
}

/** Ends every call at the simulator; instances that did not listen learn it when the limit makes them ask. */
function hangUpAll(): void {
  for (const id of placedIds) sim.hangup(id);
}
const placedIds = new Set<string>();
function track(outcomes: Outcome[]): void {
  for (const outcome of outcomes) if (outcome.ok && typeof outcome.result.callId === 'string') placedIds.add(outcome.result.callId);
}

async function health(instance: Instance): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL('/healthz', instance.url));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function codes(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const code = outcome.ok ? 'placed' : outcome.failure.code;
    counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

beforeAll(async () => {
  redis = await startRedisServer();
  // Calls stay queued until someone listens (nobody does here), so they stay live until the test hangs them up.
  sim = await startSimulator({ speed: 40, seed: 23, waitForListener: true });
  dir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-cluster-'));
  instances.push(...(await Promise.all(['a', 'b', 'c'].map(startInstance))));
}, 60_000);

afterAll(async () => {
  await Promise.all(
    instances.map(async (instance) => {
      await instance.client.close().catch(() => {});
      instance.child.kill('SIGTERM');
      if (instance.child.exitCode === null) await once(instance.child, 'exit');
    }),
  );
  for (const instance of instances) expect(instance.stderr()).not.toContain(redis.url);
  await sim?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cluster mode: limits shared by three instances', () => {
  it('places exactly 3 calls when 30 requests race across the instances at a limit of 3', async () => {
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => createCall(instances[i % 3], {})));
    track(outcomes);
    expect(codes(outcomes)).toEqual({ placed: MAX_CONCURRENT, concurrency: 30 - MAX_CONCURRENT });
    expect(postCalls()).toBe(MAX_CONCURRENT);
  });

  it('places one call for one idempotency key sent to all three instances at once', async () => {
    hangUpAll(); // frees the slots: the instances learn it when the limit makes them ask the simulator
    const before = postCalls();
    const key = 'cluster-test-one-key';
    const outcomes = await Promise.all(Array.from({ length: 9 }, (_, i) => createCall(instances[i % 3], { idempotencyKey: key })));
    track(outcomes);
    expect(codes(outcomes)).toEqual({ placed: 9 });
    const callIds = new Set(outcomes.map((outcome) => (outcome.ok ? outcome.result.callId : undefined)));
    expect(callIds.size).toBe(1);
    expect(outcomes.filter((outcome) => outcome.ok && outcome.result.alreadyPlaced === true)).toHaveLength(8);
    expect(postCalls()).toBe(before + 1);
  });

  it('redeems a confirmation token minted on A once, on B or C', async () => {
    const before = postCalls();
    const args = { customer: { number: VALID_NUMBER, name: 'Token test' } };
    const preview = await createCall(instances[0], { ...args, dryRun: true });
    if (!preview.ok) throw new Error(`dry run failed: ${JSON.stringify(preview.failure)}`);
    const confirmationToken = preview.result.confirmationToken as string;
    const outcomes = await Promise.all([createCall(instances[1], { ...args, confirmationToken }), createCall(instances[2], { ...args, confirmationToken })]);
    track(outcomes);
    expect(codes(outcomes)).toEqual({ placed: 1, 'confirmation-token-reused': 1 });
    expect(postCalls()).toBe(before + 1);
  });

  it('holds the hourly cap across the instances, before the concurrency limit', async () => {
    hangUpAll();
    const before = postCalls();
    expect(before).toBe(MAX_CONCURRENT + 2);
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => createCall(instances[i % 3], {})));
    track(outcomes);
    // Three slots are free, but only two calls remain in the hour.
    expect(codes(outcomes)).toEqual({ placed: MAX_PER_HOUR - before, 'hourly-rate': 30 - (MAX_PER_HOUR - before) });
    expect(postCalls()).toBe(MAX_PER_HOUR);
  });

  it('refuses placing while Redis is down, reports degraded health, and places again once it is back', async () => {
    hangUpAll();
    await redis.stop();
    let late: Instance | undefined;
    try {
      // An instance started while Redis is down still starts, says so, and serves degraded.
      late = await startInstance('d');
      instances.push(late);
      expect(late.stderr()).toMatch(/cluster store unreachable at start/);
      expect((await health(late)).body).toMatchObject({ status: 'degraded', clusterStore: 'unreachable' });
      await vi.waitFor(async () => expect((await health(instances[0])).body.status).toBe('degraded'), EVENTUALLY);
      const before = postCalls();
      for (const instance of instances) {
        const outcome = await createCall(instance, {});
        if (outcome.ok) throw new Error('placed a call with the cluster store down');
        expect(outcome.failure).toMatchObject({ code: 'cluster-unavailable', retryable: true });
        expect(outcome.failure.reason).toMatch(/call limits.*cannot be enforced/);
        const { status, body } = await health(instance);
        expect(status).toBe(200);
        expect(body).toMatchObject({ status: 'degraded', clusterStore: 'unreachable' });
      }
      expect(postCalls()).toBe(before);
    } finally {
      await redis.start();
    }
    for (const instance of instances) await vi.waitFor(async () => expect((await health(instance)).body).toMatchObject({ status: 'ok', clusterStore: 'reachable' }), EVENTUALLY);
    // The restarted Redis kept nothing (persistence off): the hour starts afresh.
    const outcome = await createCall(instances[1], {});
    expect(outcome.ok).toBe(true);
    for (const instance of instances) expect(instance.stderr()).toMatch(/cluster store unreachable/);
  });
});
