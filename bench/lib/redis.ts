/**
 * The cluster section's Valkey/Redis: Debian's server (valkey-server or redis-server) on a free loopback port,
 * persistence off, pinned beside the load (it is another machine's work in a real cluster), with what the bench
 * reads of it: its process CPU and the commands it ran (INFO commandstats).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createClient } from '@redis/client';
import { sampleProcess, type ProcSample } from './proc.js';

const BINARIES = ['/usr/bin/valkey-server', '/usr/bin/redis-server'];

export interface BenchRedis {
  readonly url: string;
  readonly pid: number;
  /**
   * Commands run since start, per command name (INFO commandstats). Commands a script runs count too, each on its
   * own, beside the EVAL/EVALSHA that ran them.
   */
  commands(): Promise<Record<string, number>>;
  sample(): ProcSample;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function redisBinary(): string | undefined {
  return BINARIES.find((path) => existsSync(path));
}

export async function startBenchRedis(core: number | undefined): Promise<BenchRedis> {
  const binary = redisBinary();
  if (!binary) throw new Error('no valkey-server or redis-server (apt-get install redis-server)');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child: ChildProcess = core === undefined ? spawn(binary, args, { stdio: 'pipe' }) : spawn('taskset', ['-c', String(core), binary, ...args], { stdio: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready to accept connections/i.test(output)) resolve();
    });
    child.stderr?.resume();
    child.once('exit', (code) => reject(new Error(`${binary} exited (${code}): ${output.slice(-300)}`)));
  });
  const url = `redis://127.0.0.1:${port}`;
  const client = createClient({ url });
  await client.connect();
  return {
    url,
    pid: child.pid!,
    async commands() {
      const info = await client.info('commandstats');
      const counts: Record<string, number> = {};
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts[match[1]] = Number(match[2]);
      return counts;
    },
    sample: () => sampleProcess(child.pid!),
    async flush() {
      await client.flushAll();
    },
    async stop() {
      await client.close().catch(() => {});
      child.kill('SIGKILL');
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
