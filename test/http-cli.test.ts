/**
 * `vapi-call-mcp --http` as users run it (the built dist/index.js): it starts on a free port with --simulate,
 * serves SDK clients, finalises recordings on SIGTERM, and refuses unsafe or meaningless command lines.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until, VALID_NUMBER } from './helpers/harness.js';
import { ok } from './helpers/http.js';
import { ENTRY } from './helpers/spawn.js';
import { readWav } from './helpers/wav.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function run(args: string[], env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-http-cli-'));
  dirs.push(dir);
  const child = spawn(process.execPath, [ENTRY, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', VAPI_RECORDINGS_DIR: join(dir, 'recordings'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, dir, exited, stderr: () => stderr, stdout: () => stdout };
}

describe('vapi-call-mcp --http', () => {
  it('serves a simulated call on a free port and finalises its WAV on SIGTERM', async () => {
    const server = await run(['--http', '--simulate', '--port', '0']);
    const url = await until(() => /ready on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(server.stderr())?.[1], 15_000, 'the ready line');
    const client = new Client({ name: 'http-cli-test', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const { callId } = await ok<{ callId: string }>(client, 'create_call', { customer: { number: VALID_NUMBER } });
    const wavPath = join(server.dir, 'recordings', `${callId}.wav`);
    await until(() => {
      try {
        return readWav(wavPath).fileSize > 44 + 6400;
      } catch {
        return false;
      }
    }, 20_000, 'audio on disk');

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const wav = readWav(wavPath);
    expect(wav.dataIsLast).toBe(true);
    expect(wav.fileSize).toBe(44 + wav.dataSize);
    expect(server.stderr()).toMatch(/shutting down \(SIGTERM\)/);
    expect(server.stdout()).toBe('');
    await client.close().catch(() => {});
  });

  it('refuses to listen beyond loopback without a token, and --port without --http', async () => {
    const open = await run(['--http', '--simulate', '--host', '0.0.0.0', '--port', '0']);
    expect(await open.exited).toBe(1);
    expect(open.stderr()).toMatch(/Refusing to listen on 0\.0\.0\.0 without a token.*VAPI_MCP_TOKEN/);

    const stray = await run(['--simulate', '--port', '8788']);
    expect(await stray.exited).toBe(1);
    expect(stray.stderr()).toMatch(/only apply with --http/);
  });
});
