/**
 * The MCP Bundle as Claude Desktop runs it: `scripts/bundle.mjs` packs it, it is unpacked into a fresh directory,
 * @anthropic-ai/mcpb's own getMcpConfigForManifest resolves the launch command from the manifest and a user
 * configuration, and exactly that command is started with the MCP SDK client: tools listed, a simulated call
 * walked (confirmation, transcript, say, hang-up, record). The key given through user_config appears nowhere.
 */
import { getMcpConfigForManifest, unpackExtension } from '@anthropic-ai/mcpb';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, without type declarations
import { BUNDLE_BUDGET_BYTES } from '../scripts/bundle.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const snapshot = JSON.parse(readFileSync(join(ROOT, 'test/__toolsnaps__/tools.json'), 'utf8')) as { name: string; _meta?: { ui?: { visibility?: string[] } } }[];
const CANARY_KEY = `sk-bundle-canary-${Date.now().toString(36)}`;

let work: string;
let bundlePath: string;
let unpacked: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-bundle-test-'));
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), '--out', work], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  bundlePath = join(work, `vapi-call-mcp-${pkg.version}.mcpb`);
  unpacked = join(work, 'installed');
  expect(await unpackExtension({ mcpbPath: bundlePath, outputDir: unpacked, silent: true })).toBe(true);
}, 240_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

describe('the MCP Bundle', () => {
  it('stays within its size budget and carries a valid 0.3 manifest, the icon and production dependencies only', () => {
    expect(statSync(bundlePath).size).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      manifest_version: '0.3',
      name: 'vapi-call-mcp',
      version: pkg.version,
      server: { type: 'node', entry_point: 'dist/index.js', mcp_config: { command: 'node', args: ['${__dirname}/dist/index.js'] } },
      compatibility: { runtimes: { node: pkg.engines.node } },
    });
    expect(manifest.privacy_policies.length).toBeGreaterThan(0);
    expect(existsSync(join(unpacked, manifest.icon))).toBe(true);
    expect(existsSync(join(unpacked, manifest.server.entry_point))).toBe(true);
    // The tools the model sees, as tools/list gives them (the console's app-only tool is not one of them).
    const modelTools = snapshot.filter((tool) => !tool._meta?.ui?.visibility?.every((v) => v === 'app')).map((tool) => tool.name);
    expect(manifest.tools.map((tool: { name: string }) => tool.name)).toEqual(modelTools);
    expect(manifest.user_config.vapi_api_key).toMatchObject({ sensitive: true, required: true });
    expect(manifest.user_config.recordings_dir.type).toBe('directory');
    expect(Object.values(manifest.server.mcp_config.env)).toContain('${user_config.simulate}');
    // Development-only packages (devDependencies and what only they pull in) stay out.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([where, entry]) => where.startsWith('node_modules/') && entry.dev).map(([where]) => where);
    expect(devOnly).toEqual(expect.arrayContaining(['node_modules/vitest', 'node_modules/typescript', 'node_modules/@anthropic-ai/mcpb']));
    expect(devOnly.filter((where) => existsSync(join(unpacked, where)))).toEqual([]);
    expect(existsSync(join(unpacked, 'node_modules/@modelcontextprotocol/sdk/package.json'))).toBe(true);
  });

  it('starts as Claude Desktop launches it, walks a simulated call, and never shows the key from user_config', async () => {
    const home = join(work, 'home');
    const manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8'));
    const launch = await getMcpConfigForManifest({
      manifest,
      extensionPath: unpacked,
      systemDirs: { HOME: home },
      userConfig: { vapi_api_key: CANARY_KEY, simulate: true, allowed_countries: 'US,GB' },
      pathSeparator: '/',
    });
    expect(launch).toBeDefined();
    expect(launch!.args).toEqual([`${unpacked}/dist/index.js`]);

    const transport = new StdioClientTransport({
      command: launch!.command,
      args: launch!.args,
      env: { PATH: process.env.PATH ?? '', HOME: home, ...launch!.env },
      cwd: work,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'bundle-test', version: '1.0.0' });
    await client.connect(transport);
    const seen: string[] = [];
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      seen.push(JSON.stringify(result));
      expect(result.isError, `${name}: ${JSON.stringify(result.content)}`).toBeFalsy();
      return result.structuredContent as Record<string, unknown>;
    };
    try {
      const { tools } = await client.listTools();
      seen.push(JSON.stringify(tools));
      expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(manifest.tools.map((tool: { name: string }) => tool.name)));

      const number = '+14155552671';
      // Confirmation is on by default in the bundle: a client that cannot ask gets a preview and a token.
      const asked = await call('create_call', { customer: { number } });
      expect(asked).toMatchObject({ status: 'confirmation-required', simulated: true });
      const placed = await call('create_call', { customer: { number }, confirmationToken: asked.confirmationToken, idempotencyKey: asked.idempotencyKey });
      const callId = placed.callId as string;
      expect(callId).toMatch(/^[0-9a-f-]{36}$/);

      let sinceSeq = 0;
      const lines: string[] = [];
      for (let reads = 0; lines.length === 0 && reads < 20; reads++) {
        const read = await call('read_transcript', { callId, sinceSeq, waitSeconds: 10 });
        lines.push(...(read.lines as { text: string }[]).map((line) => line.text));
        sinceSeq = read.nextSeq as number;
      }
      expect(lines.length).toBeGreaterThan(0);
      await call('inject_say', { callId, content: 'One moment please.' });
      const asking = await call('end_call', { callId, confirmationToken: null });
      expect(asking.status).toBe('confirmation-required');
      const ended = await call('end_call', { callId, confirmationToken: asking.confirmationToken });
      expect(ended.accepted).toBe(true);
      const record = await call('get_call', { callId });
      expect(record.callId).toBe(callId);
    } finally {
      await client.close();
    }

    expect(stderr).toContain('SIMULATED');
    // The recordings went to the default folder under the home folder the host gave.
    expect(readdirSync(join(home, '.vapi-call-mcp/recordings')).some((file) => file.endsWith('.jsonl'))).toBe(true);
    expect(`${seen.join('\n')}\n${stderr}`).not.toContain(CANARY_KEY);
    for (const file of [...filesUnder(unpacked), ...filesUnder(home)]) {
      expect(readFileSync(file).includes(CANARY_KEY), file).toBe(false);
    }
  }, 120_000);
});
