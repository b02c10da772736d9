/**
 * The HTTP transport in-process on a free loopback port, in front of a real simulator, with SDK Clients
 * connecting over real sockets (StreamableHTTPClientTransport) and raw HTTP helpers for what a client library
 * would hide (Host headers, dropped streams, Last-Event-ID).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createCallCore, type CallCore } from '../../src/core/call-core.js';
import { StderrLogger } from '../../src/log.js';
import { Redactor } from '../../src/redact.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import { startHttpServer, type RunningHttpServer } from '../../src/transports/http.js';
import { loadHttpOptions, type HttpOptions } from '../../src/transports/http-options.js';

export interface HttpHarness {
  sim: Simulator;
  /** The process-wide core every session shares. */
  core: CallCore;
  server: RunningHttpServer;
  url: string;
  recordingsDir: string;
  logLines: string[];
  /** Most listen sockets the simulator reported open at once, per call (from its onEvent observer). */
  maxListenSockets: Map<string, number>;
  /** Transcript events the simulator emitted, per call. */
  transcriptEvents: Map<string, number>;
  connect(headers?: Record<string, string>): Promise<Client>;
  close(): Promise<void>;
}

export interface HttpHarnessOptions {
  sim?: SimulatorOptions;
  env?: Record<string, string>;
  http?: Partial<HttpOptions>;
  /** The built-in authorization server's fetch for Client ID Metadata Documents. */
  oauthFetch?: typeof fetch;
}

export async function startHttpHarness(options: HttpHarnessOptions = {}): Promise<HttpHarness> {
  const maxListenSockets = new Map<string, number>();
  const transcriptEvents = new Map<string, number>();
  const apiKey = `canary-private-${randomBytes(8).toString('hex')}`;
  const sim = await startSimulator({
    speed: 40,
    seed: 7,
    ...options.sim,
    apiKey,
    onEvent: (callId, event, listeners) => {
      maxListenSockets.set(callId, Math.max(maxListenSockets.get(callId) ?? 0, listeners));
      if (event.type === 'transcript') transcriptEvents.set(callId, (transcriptEvents.get(callId) ?? 0) + 1);
    },
  });
  const baseDir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-http-'));
  const recordingsDir = join(baseDir, 'recordings');
  const config = loadConfig({
    VAPI_API_KEY: apiKey,
    VAPI_BASE_URL: sim.baseUrl,
    VAPI_RECORDINGS_DIR: recordingsDir,
    VAPI_ASSISTANT_ID: 'assistant-test',
    VAPI_PHONE_NUMBER_ID: 'phone-test',
    VAPI_MAX_CONCURRENT_CALLS: '50',
    VAPI_MAX_CALLS_PER_HOUR: '500',
    // Tests place many calls to the same few numbers; the duplicate-call guard has its own tests.
    VAPI_DUPLICATE_WINDOW_SECONDS: 'off',
    ...options.env,
  });
  const http = { ...loadHttpOptions({ ...options.env, VAPI_MCP_PORT: '0' }), ...options.http };
  const redactor = new Redactor();
  redactor.add(apiKey);
  redactor.add(http.token);
  const logLines: string[] = [];
  const logger = new StderrLogger({ level: 'debug', write: (line) => logLines.push(line), redact: redactor.redact });
  const core = createCallCore({ config, logger });
  const server = await startHttpServer({ core, http, oauthFetch: options.oauthFetch });
  const clients: Client[] = [];

  return {
    sim,
    core,
    server,
    url: server.url,
    recordingsDir,
    logLines,
    maxListenSockets,
    transcriptEvents,
    async connect(headers = {}) {
      const client = new Client({ name: 'vapi-call-mcp-http-test', version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } }));
      await client.listTools();
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.close();
      await core.close();
      await sim.close();
      await rm(baseDir, { recursive: true, force: true });
      const leaked = logLines.find((line) => line.includes(apiKey) || (http.token !== undefined && line.includes(http.token)));
      if (leaked) throw new Error(`a secret reached the log: ${leaked.slice(0, 200)}`);
    },
  };
}

export async function ok<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with full control of the headers (Host included); the whole response body. */
export function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined && options.chunked) {
      // No Content-Length: the server has to count while it reads.
      const body = Buffer.from(options.body);
      for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export function initializeBody(id = 1): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
  });
}

export interface SseEvent {
  id?: string;
  data: string;
}

/**
 * An SSE response read event by event. `drop()` destroys the connection (a network failure from the
 * server's point of view).
 */
export interface SseStream {
  status: number;
  next(timeoutMs?: number): Promise<SseEvent>;
  drop(): void;
}

export function openSse(url: string, headers: Record<string, string>, options: { method?: string; body?: string } = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers }, (res) => {
      const queue: SseEvent[] = [];
      const waiters: ((e: SseEvent) => void)[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event: SseEvent = { data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('data: ')) event.data += line.slice(6);
          }
          if (block.startsWith(':')) continue; // keep-alive comment
          const waiter = waiters.shift();
          if (waiter) waiter(event);
          else queue.push(event);
        }
      });
      resolve({
        status: res.statusCode ?? 0,
        next(timeoutMs = 10_000) {
          const queued = queue.shift();
          if (queued) return Promise.resolve(queued);
          return new Promise((resolveEvent, rejectEvent) => {
            const timer = setTimeout(() => rejectEvent(new Error('no SSE event in time')), timeoutMs);
            waiters.push((e) => {
              clearTimeout(timer);
              resolveEvent(e);
            });
          });
        },
        drop() {
          req.destroy();
        },
      });
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    req.end(options.body);
  });
}
