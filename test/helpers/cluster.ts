/**
 * A cluster as users run one: a real redis-server, one simulator, and several built servers (dist/index.js
 * --http) on free ports sharing both, each driven by SDK Clients over real sockets.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startSimulator, type Simulator, type SimulatorOptions, type ScriptTurn } from '../../src/sim/index.js';
import { until } from './harness.js';
import { ok } from './http.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { ENTRY } from './spawn.js';

export interface Instance {
  name: string;
  child: ChildProcess;
  url: string;
  recordingsDir: string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  connect(): Promise<Client>;
}

export interface ClusterHarness {
  redis: RedisServer;
  sim: Simulator;
  dir: string;
  instances: Instance[];
  /** Most listen sockets the simulator had open at once, per call. */
  maxListenSockets: Map<string, number>;
  start(name: string, env?: Record<string, string>): Promise<Instance>;
  close(): Promise<void>;
}

export interface ClusterHarnessOptions {
  sim?: SimulatorOptions;
  /** Environment for every instance (VAPI_MCP_LEASE_MS, …). */
  env?: Record<string, string>;
  /** One recordings directory for all instances (a shared disk), else one each. */
  sharedRecordings?: boolean;
}

/** A conversation of `turns` alternating lines, numbered so every line is unique. */
export function longScript(turns: number, pauseMs = 400): ScriptTurn[] {
  return Array.from({ length: turns }, (_, i) => ({
    role: i % 2 === 0 ? ('customer' as const) : ('assistant' as const),
    text: `Line number ${i + 1} of the conversation.`,
    pauseMs,
  }));
}

export async function startCluster(options: ClusterHarnessOptions = {}): Promise<ClusterHarness> {
  const apiKey = `canary-private-${randomBytes(8).toString('hex')}`;
  const redis = await startRedisServer();
  const maxListenSockets = new Map<string, number>();
  const sim = await startSimulator({
    speed: 40,
    seed: 11,
    ...options.sim,
    apiKey,
    onEvent: (callId, _event, listeners) => maxListenSockets.set(callId, Math.max(maxListenSockets.get(callId) ?? 0, listeners)),
  });
  const dir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-cluster-'));
  const instances: Instance[] = [];
  const clients: Client[] = [];

  async function start(name: string, env: Record<string, string> = {}): Promise<Instance> {
    const recordingsDir = join(dir, options.sharedRecordings ? 'recordings' : `recordings-${name}`);
    const child = spawn(process.execPath, [ENTRY, '--http', '--port', '0'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        VAPI_API_KEY: apiKey,
        VAPI_BASE_URL: sim.baseUrl,
        VAPI_RECORDINGS_DIR: recordingsDir,
        VAPI_ASSISTANT_ID: 'assistant-test',
        VAPI_PHONE_NUMBER_ID: 'phone-test',
        VAPI_MAX_CONCURRENT_CALLS: '1000',
        VAPI_MAX_CALLS_PER_HOUR: '10000',
        VAPI_DUPLICATE_WINDOW_SECONDS: 'off',
        VAPI_MCP_REDIS_URL: redis.url,
        VAPI_LOG_LEVEL: 'info',
        ...options.env,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.resume();
    const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    const url = await until(() => /ready on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr)?.[1], 20_000, `${name} ready`);
    const instance: Instance = {
      name,
      child,
      url,
      recordingsDir,
      stderr: () => stderr,
      exited,
      async connect() {
        const client = new Client({ name: `cluster-test-${name}`, version: '0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(url)));
        clients.push(client);
        return client;
      },
    };
    instances.push(instance);
    return instance;
  }

  return {
    redis,
    sim,
    dir,
    instances,
    maxListenSockets,
    start,
    async close() {
      await Promise.allSettled(clients.map((client) => client.close()));
      for (const instance of instances) if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGTERM');
      await Promise.all(instances.map((instance) => instance.exited));
      // CLUSTER_LOG_DIR=/some/dir keeps every instance's log for a look after a failure.
      const logDir = process.env.CLUSTER_LOG_DIR;
      if (logDir) for (const instance of instances) writeFileSync(join(logDir, `${instance.name}.log`), instance.stderr());
      await sim.close();
      await redis.stop();
      const leaked = instances.find((instance) => instance.stderr().includes(apiKey) || instance.stderr().includes('ws://'));
      await rm(dir, { recursive: true, force: true });
      if (leaked) throw new Error(`a secret reached ${leaked.name}'s log`);
    },
  };
}

export interface Line {
  seq: number;
  role: string;
  text: string;
}

/** Follows a call's transcript through read_transcript cursors until it ends; every line as received. */
export async function readAll(client: Client, callId: string, onLine?: (line: Line) => void): Promise<{ lines: Line[]; cursors: number[] }> {
  const lines: Line[] = [];
  const cursors: number[] = [];
  let sinceSeq = 0;
  for (;;) {
    const read = await retryDropped(() => ok<{ lines: Line[]; nextSeq: number; ended: boolean }>(client, 'read_transcript', { callId, sinceSeq, waitSeconds: 5 }));
    for (const line of read.lines) {
      lines.push({ seq: line.seq, role: line.role, text: line.text });
      onLine?.(line);
    }
    sinceSeq = read.nextSeq;
    cursors.push(read.nextSeq);
    if (read.ended) return { lines, cursors };
  }
}

/**
 * Runs a read again when the HTTP connection was dropped under it (a keep-alive socket the server closed just as
 * the client reused it: seen on a loaded 2-core machine with hundreds of sessions). The cursor makes it safe.
 */
async function retryDropped<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= 3 || !(err instanceof TypeError) || !/fetch failed/.test(err.message)) throw err;
    }
  }
}
