/**
 * An MCP server built by createServer, wired to a real SDK Client over the in-memory transport, talking to a
 * real simulator over real sockets. Every JSON-RPC message and log line is recorded so tests (and the canary
 * check in `close`) can inspect exactly what left the server.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { StderrLogger } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { createCallCore, type CallCoreOptions } from '../../src/core/call-core.js';
import { createServer, type VapiCallServer } from '../../src/mcp/server.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';

export const VALID_NUMBER = '+14155552671';
/** A call's listen or control URL: bearer capabilities that must never leave the server. */
const MONITOR_URL = /\/[0-9a-f-]{36}\/(listen|control)\b/;

export interface Harness {
  sim: Simulator;
  client: Client;
  server: VapiCallServer;
  config: Config;
  recordingsDir: string;
  /** A fresh directory holding only recordingsDir: anything else appearing in it escaped the recordings dir. */
  baseDir: string;
  apiKey: string;
  publicKey: string;
  /** Every JSON-RPC message the server sent, serialised. */
  wire: string[];
  /** When each message in `wire` was sent (performance.now()), for asserting pacing at the sender, not the receiver. */
  wireSentAt: number[];
  logLines: string[];
  callTool(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Structured content of a successful call; fails the test with the error text otherwise. */
  ok<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** The error envelope of a call that must fail. */
  err(name: string, args?: Record<string, unknown>): Promise<{ code: string; reason: string; suggestion: string; retryable: boolean; retryAfterSeconds?: number }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  sim?: SimulatorOptions;
  env?: Record<string, string>;
  config?: Partial<Config>;
  clientCapabilities?: ConstructorParameters<typeof Client>[1];
  /** Options for a core of the test's own (clock, backstop timing); the harness closes it. */
  core?: Omit<CallCoreOptions, 'config' | 'logger'>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  // Canary keys: unique per harness, asserted absent from everything that leaves the server.
  const apiKey = `canary-private-${randomBytes(8).toString('hex')}`;
  const publicKey = `canary-public-${randomBytes(8).toString('hex')}`;
  const sim = await startSimulator({ speed: 40, seed: 7, ...options.sim, apiKey, publicKey });
  const baseDir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-test-'));
  const recordingsDir = join(baseDir, 'recordings');
  const config: Config = {
    ...loadConfig({
      VAPI_API_KEY: apiKey,
      VAPI_PUBLIC_KEY: publicKey,
      VAPI_BASE_URL: sim.baseUrl,
      VAPI_RECORDINGS_DIR: recordingsDir,
      VAPI_ASSISTANT_ID: 'assistant-test',
      VAPI_PHONE_NUMBER_ID: 'phone-test',
      VAPI_MAX_CONCURRENT_CALLS: '50',
      VAPI_MAX_CALLS_PER_HOUR: '500',
      // Tests place many calls to the same few numbers; the duplicate-call guard has its own tests.
      VAPI_DUPLICATE_WINDOW_SECONDS: 'off',
      ...options.env,
    }),
    ...options.config,
  };

  const redactor = new Redactor();
  redactor.add(apiKey);
  redactor.add(publicKey);
  const logLines: string[] = [];
  const logger = new StderrLogger({ level: 'debug', write: (line) => logLines.push(line), redact: redactor.redact });
  const ownCore = options.core ? createCallCore({ config, logger, ...options.core }) : undefined;
  const server = ownCore ? createServer({ core: ownCore }) : createServer({ config, logger });

  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const wire: string[] = [];
  const wireSentAt: number[] = [];
  const send = serverSide.send.bind(serverSide);
  serverSide.send = (message, opts) => {
    wire.push(JSON.stringify(message));
    wireSentAt.push(performance.now());
    return send(message, opts);
  };
  const client = new Client({ name: 'vapi-call-mcp-test', version: '0.0.0' }, options.clientCapabilities);
  await Promise.all([server.mcp.connect(serverSide), client.connect(clientSide)]);
  await client.listTools(); // the client then validates every structuredContent against its tool's outputSchema

  const callTool = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  let closed = false;
  return {
    sim,
    client,
    server,
    config,
    recordingsDir,
    baseDir,
    apiKey,
    publicKey,
    wire,
    wireSentAt,
    logLines,
    callTool,
    async ok(name, args) {
      const result = await callTool(name, args);
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
      return result.structuredContent as never;
    },
    async err(name, args) {
      const result = await callTool(name, args);
      if (!result.isError) throw new Error(`${name} was expected to fail but returned ${JSON.stringify(result.structuredContent)}`);
      const text = (result.content[0] as { text: string }).text;
      return JSON.parse(text);
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
      await server.close();
      await ownCore?.close();
      await sim.close();
      const leaked = [...wire, ...logLines].filter((line) => line.includes(apiKey) || line.includes(publicKey));
      await rm(baseDir, { recursive: true, force: true });
      if (leaked.length > 0) throw new Error(`an API key left the server: ${leaked[0].slice(0, 200)}`);
      const capability = [...wire, ...logLines].find((line) => MONITOR_URL.test(line));
      if (capability) throw new Error(`a monitor URL left the server: ${capability.slice(0, 200)}`);
    },
  };
}

/** Waits until `probe` returns a value, re-checking every 20 ms, and fails the test at the deadline. */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Follows a live call with read_transcript (event-driven waits) until `done` says stop; returns the last result. */
export async function follow(
  h: Harness,
  callId: string,
  done: (read: TranscriptRead, all: TranscriptRead['lines']) => boolean,
  timeoutMs = 15_000,
): Promise<{ last: TranscriptRead; lines: TranscriptRead['lines'] }> {
  const deadline = Date.now() + timeoutMs;
  const lines: TranscriptRead['lines'] = [];
  let sinceSeq: number | undefined;
  for (;;) {
    const read = await h.ok<TranscriptRead>('read_transcript', { callId, waitSeconds: 2, ...(sinceSeq ? { sinceSeq } : {}) });
    lines.push(...read.lines);
    sinceSeq = read.nextSeq;
    if (done(read, lines)) return { last: read, lines };
    if (Date.now() > deadline) throw new Error(`call ${callId} did not reach the expected state; last status ${read.status}`);
  }
}

export interface TranscriptRead {
  callId: string;
  status: string;
  lines: { seq: number; role: 'customer' | 'assistant'; text: string; secondsFromStart: number }[];
  partials: { role: string; text: string }[];
  nextSeq: number;
  ended: boolean;
  endedReason?: string;
  source: 'live' | 'vapi';
  transcriptPath?: string;
}
