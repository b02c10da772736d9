/**
 * The MCP server as a separate process (`node dist/index.js`, optionally pinned to one core), and a minimal MCP
 * client speaking newline-delimited JSON-RPC over its stdio. The client stamps every message with the wall-clock
 * time its bytes arrived, before parsing, so notification latencies are not inflated by client-side work.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { wallNow } from './clock.js';
import { SERVER_ENTRY, REPO_ROOT } from './paths.js';
import { nodeCommand } from './proc.js';

export const TEST_NUMBER = '+14155552671';
const STDERR_TAIL_CHARS = 8_000;
const REQUEST_TIMEOUT_MS = 60_000;

export interface RpcReply {
  result: Record<string, unknown>;
  /** When the reply arrived (wallNow). */
  receivedAt: number;
}

export type NotificationHandler = (method: string, params: Record<string, unknown>, receivedAt: number) => void;

export interface ServerProcessOptions {
  env: Record<string, string>;
  core?: number;
  args?: string[];
  /** Flags for node itself, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Another build of the server to measure (A/B comparisons); default dist/index.js. */
  entry?: string;
}

export class ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** wallNow() just before spawn. */
  readonly spawnedAt: number;
  private nextId = 1;
  private buffered = '';
  private stderrTail = '';
  private readonly pending = new Map<number, { resolve: (reply: RpcReply) => void; reject: (error: Error) => void; method: string }>();
  private readonly notificationHandlers = new Set<NotificationHandler>();
  private readonly exited: Promise<number | null>;

  constructor(options: ServerProcessOptions) {
    const { command, args } = nodeCommand([...(options.nodeArgs ?? []), options.entry ?? SERVER_ENTRY, ...(options.args ?? [])], options.core);
    this.spawnedAt = wallNow();
    this.child = spawn(command, args, { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...options.env }, stdio: 'pipe' });
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
    void this.exited.then((code) => {
      for (const { reject, method } of this.pending.values()) {
        reject(new Error(`server exited (code ${code}) before answering ${method}: ${this.stderr()}`));
      }
      this.pending.clear();
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.onData(chunk, wallNow()));
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('server process has no pid');
    return pid;
  }

  stderr(): string {
    return this.stderrTail;
  }

  onNotification(handler: NotificationHandler): () => void {
    this.notificationHandlers.add(handler);
    return () => this.notificationHandlers.delete(handler);
  }

  request(method: string, params: Record<string, unknown> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<RpcReply> {
    const id = this.nextId++;
    return new Promise<RpcReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        fn(value);
      };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject), method });
      this.send({ id, method, params });
    });
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.send({ method, params });
  }

  /** initialize + notifications/initialized; resolves with the time the initialize reply arrived. */
  async initialize(): Promise<RpcReply> {
    const reply = await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'vapi-call-mcp-bench', version: '0.0.0' },
    });
    this.notify('notifications/initialized');
    return reply;
  }

  /** tools/call; rejects when the tool reports an error. */
  async callTool(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { result } = await this.request('tools/call', { name, arguments: args });
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.structuredContent ?? result.content)}`);
    return (result.structuredContent ?? {}) as Record<string, unknown>;
  }

  /** Closes stdin (how MCP hosts stop servers: recordings are finalised) and waits for the exit. */
  async close(timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private send(message: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  }

  private onData(chunk: string, receivedAt: number): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      if (line.trim() === '') continue;
      let message: { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: unknown };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        throw new Error(`server wrote a non-JSON line to stdout: ${line.slice(0, 200)}`);
      }
      if (typeof message.id === 'number' && this.pending.has(message.id) && message.method === undefined) {
        const waiter = this.pending.get(message.id)!;
        this.pending.delete(message.id);
        if (message.error) waiter.reject(new Error(`${waiter.method}: ${JSON.stringify(message.error)}`));
        else waiter.resolve({ result: message.result ?? {}, receivedAt });
      } else if (message.method !== undefined && message.id === undefined) {
        for (const handler of this.notificationHandlers) handler(message.method, message.params ?? {}, receivedAt);
      }
    }
  }
}

/**
 * The most concurrent calls the server lets one place (its own ceiling for VAPI_MAX_CONCURRENT_CALLS). Capacity
 * steps beyond it listen to calls placed elsewhere (listen_call), which no such limit applies to.
 */
export const MAX_CONCURRENT_CALLS = 1000;

/** Environment for a server pointed at a simulator, with the limits raised for load. */
export function serverEnv(baseUrl: string, apiKey: string, recordingsDir: string): Record<string, string> {
  return {
    VAPI_API_KEY: apiKey,
    VAPI_BASE_URL: baseUrl,
    VAPI_RECORDINGS_DIR: recordingsDir,
    VAPI_ASSISTANT_ID: 'bench-assistant',
    VAPI_PHONE_NUMBER_ID: 'bench-phone-number',
    VAPI_MAX_CONCURRENT_CALLS: String(MAX_CONCURRENT_CALLS),
    VAPI_MAX_CALLS_PER_HOUR: '100000',
    // Load places many calls to the same test number: the duplicate-call guard would refuse all but the first.
    VAPI_DUPLICATE_WINDOW_SECONDS: 'off',
    // The duration section's call lasts an hour of call time; the default cap (10 minutes) would end it.
    VAPI_MAX_CALL_MINUTES: 'off',
  };
}
