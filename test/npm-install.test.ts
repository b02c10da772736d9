/**
 * The published package as a user gets it: `npm pack`, then `npm install <tarball>` into an empty directory (offline:
 * the dependencies travel inside the tarball), then the installed binary through npx: `--version`, `--help`, and
 * `npx vapi-call-mcp --simulate` driven by the MCP SDK client (tools listed, one simulated call placed and read).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const run = promisify(execFile);

let work: string;
let installed: string;
beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: npm test builds it first (npm run build)');
  work = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-npm-'));
  // The build already ran (npm test builds first); packing must not rebuild dist/ under the other tests' feet.
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  installed = join(work, 'app');
  await mkdir(installed);
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, `${pkg.name}-${pkg.version}.tgz`)], { cwd: installed, maxBuffer: 16 * 1024 * 1024 });
}, 240_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const npx = (args: string[]) => run('npx', ['--no-install', pkg.name, ...args], { cwd: installed, env: { PATH: process.env.PATH ?? '', HOME: work } });

describe('npm install <tarball>, then npx vapi-call-mcp', () => {
  it('answers --version and --help', async () => {
    expect((await npx(['--version'])).stdout.trim()).toBe(pkg.version);
    const help = (await npx(['--help'])).stdout;
    expect(help).toContain('Usage:');
    expect(help).toContain('--simulate');
  });

  it('serves MCP with --simulate: tools listed, a call placed and its transcript read', async () => {
    const client = new Client({ name: 'npx-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: 'npx',
        args: ['--no-install', pkg.name, '--simulate', '--sim-speed', '20'],
        cwd: installed,
        env: { PATH: process.env.PATH ?? '', HOME: work, VAPI_RECORDINGS_DIR: join(work, 'recordings') },
        stderr: 'ignore',
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['create_call', 'read_transcript', 'get_call', 'end_call']));
      const call = async (name: string, args: Record<string, unknown>) => {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
        return result.structuredContent as Record<string, unknown>;
      };
      const placed = await call('create_call', { customer: { number: '+14155552671' } });
      expect(placed.simulated).toBe(true);
      let lines = 0;
      let sinceSeq = 0;
      for (let reads = 0; lines === 0 && reads < 20; reads++) {
        const read = await call('read_transcript', { callId: placed.callId, sinceSeq, waitSeconds: 5 });
        lines += (read.lines as unknown[]).length;
        sinceSeq = read.nextSeq as number;
      }
      expect(lines).toBeGreaterThan(0);
      expect((await call('get_call', { callId: placed.callId })).callId).toBe(placed.callId);
    } finally {
      await client.close();
    }
  }, 60_000);
});
