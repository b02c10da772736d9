/**
 * The duplicate-call guard across a cluster: two call cores (as two instances) sharing a real redis-server and one
 * simulator. A second call to the same number through the other instance is refused, naming the first call; the
 * first call's key returns it there; a different number is not affected.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCluster, type ClusterConnection } from '../src/cluster/connection.js';
import { loadConfig } from '../src/config.js';
import { createCallCore, type CallCore } from '../src/core/call-core.js';
import { CallError } from '../src/core/errors.js';
import { StderrLogger } from '../src/log.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { VALID_NUMBER } from './helpers/harness.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

let redis: RedisServer;
let sim: Simulator;
let dir: string;
const cores: CallCore[] = [];
const connections: ClusterConnection[] = [];
const posts = () => sim.requests.filter((r) => r.method === 'POST' && r.path === '/call').length;

async function instance(): Promise<CallCore> {
  const logger = new StderrLogger({ level: 'error', write: () => {} });
  const config = loadConfig({
    VAPI_API_KEY: sim.apiKey,
    VAPI_BASE_URL: sim.baseUrl,
    VAPI_RECORDINGS_DIR: join(dir, String(cores.length)),
    VAPI_ASSISTANT_ID: 'assistant-test',
    VAPI_PHONE_NUMBER_ID: 'phone-test',
    VAPI_DUPLICATE_WINDOW_SECONDS: '120',
    VAPI_MCP_REDIS_URL: redis.url,
  });
  const cluster = await connectCluster({ url: redis.url, logger });
  const core = createCallCore({ config, logger, cluster });
  cores.push(core);
  connections.push(cluster);
  return core;
}

async function refusal(core: CallCore, number: string) {
  const error = await core.placeCall({ customer: { number }, listen: false }).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof CallError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error.failure;
}

beforeAll(async () => {
  redis = await startRedisServer();
  sim = await startSimulator({ speed: 40, seed: 5, waitForListener: true });
  dir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-cluster-dup-'));
});
afterAll(async () => {
  await Promise.all(cores.map((core) => core.close()));
  await sim?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('duplicate-call guard in cluster mode', () => {
  it('catches a second call to the same number through another instance', async () => {
    const [a, b] = [await instance(), await instance()];
    const first = await a.placeCall({ customer: { number: VALID_NUMBER }, listen: false });
    expect(posts()).toBe(1);

    const again = await refusal(b, '+1 (415) 555-2671');
    expect(again).toMatchObject({ code: 'duplicate-suspected', existingCall: { callId: first.callId, idempotencyKey: first.idempotencyKey } });

    const same = await b.placeCall({ customer: { number: VALID_NUMBER }, listen: false, idempotencyKey: first.idempotencyKey });
    expect(same).toMatchObject({ callId: first.callId, alreadyPlaced: true });
    expect(posts()).toBe(1);

    await b.placeCall({ customer: { number: '+442071838750' }, listen: false });
    expect(posts()).toBe(2);

    // Closing a core closes its connection to the store.
    await a.close();
    expect(connections[0].ready).toBe(false);
    expect(connections[0].client.isOpen).toBe(false);
  });
});
