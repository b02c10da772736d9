/** Runs the built server (dist/index.js) as an MCP host would, speaking raw JSON-RPC over its stdio. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export interface SpawnedServer {
  child: ChildProcessWithoutNullStreams;
  stdoutLines: string[];
  stderr(): string;
  request(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  notify(method: string, params?: Record<string, unknown>): void;
  /** initialize + notifications/initialized. */
  initialize(): Promise<Record<string, unknown>>;
  callTool(name: string, args: Record<string, unknown>): Promise<{ isError?: boolean; structuredContent?: Record<string, unknown> }>;
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A minimal environment, as MCP hosts give: PATH plus what the test passes. */
export function spawnServer(args: string[], env: Record<string, string>, cwd: string): SpawnedServer {
  const child = spawn(process.execPath, [ENTRY, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
  const stdoutLines: string[] = [];
  let stderr = '';
  let buffered = '';
  let nextId = 1;
  const pending = new Map<number, (message: Record<string, unknown>) => void>();
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));

  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      stdoutLines.push(line);
      try {
        const message = JSON.parse(line) as { id?: number };
        if (typeof message.id === 'number' && pending.has(message.id)) {
          pending.get(message.id)!(message as Record<string, unknown>);
          pending.delete(message.id);
        }
      } catch {
        // kept in stdoutLines; the test asserts every line is JSON-RPC
      }
    }
  });

  const send = (message: Record<string, unknown>) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  const request = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (message) => (message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result as Record<string, unknown>)));
      send({ id, method, params });
      void exited.then(() => reject(new Error(`server exited before answering ${method}: ${stderr}`)));
    });

  return {
    child,
    stdoutLines,
    stderr: () => stderr,
    request,
    notify: (method, params = {}) => send({ method, params }),
    async initialize() {
      const result = await request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'spawn-test', version: '0.0.0' },
      });
      send({ method: 'notifications/initialized', params: {} });
      return result;
    },
    async callTool(name, args) {
      return (await request('tools/call', { name, arguments: args })) as { isError?: boolean; structuredContent?: Record<string, unknown> };
    },
    exit: () => exited,
  };
}

/** Runs the entry to completion (for flags and startup failures). */
export async function runToExit(args: string[], env: Record<string, string>, cwd: string) {
  const server = spawnServer(args, env, cwd);
  server.child.stdin.end();
  const { code } = await server.exit();
  return { code, stdout: server.stdoutLines.join('\n'), stderr: server.stderr() };
}
