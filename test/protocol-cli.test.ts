/**
 * The protocol and the command line: nothing on stdout before initialize, the client's logging level honoured,
 * help on stdout, flags that do nothing refused, placeholders recognised only when wholly a placeholder, and no
 * message that prints a key.
 */
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startHarness, until, VALID_NUMBER, type Harness } from './helpers/harness.js';
import { runToExit, spawnServer } from './helpers/spawn.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-cli-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('stdio protocol', () => {
  it('sends nothing before the client initialises, then answers initialize first', async () => {
    const server = spawnServer(['--simulate'], { HOME: home }, home);
    try {
      await until(() => server.stderr().includes('ready on stdio'), 15_000, 'the ready log line on stderr');
      expect(server.stdoutLines).toEqual([]);
      await server.initialize();
      const first = JSON.parse(server.stdoutLines[0]) as { id?: number; result?: unknown };
      expect(first.id).toBe(1);
      expect(first.result).toBeDefined();
      // The ready line was logged before initialize: it never reaches the client afterwards either.
      await server.request('tools/list');
      expect(server.stdoutLines.filter((l) => l.includes('ready on stdio'))).toEqual([]);
    } finally {
      server.child.stdin.end();
      await server.exit();
    }
  });
});

describe('logging/setLevel', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('sends what the client asked for: debug after setLevel debug, nothing below warning after setLevel warning', async () => {
    h = await startHarness({ env: { VAPI_LOG_LEVEL: 'info' } });
    const received: { level: string; data: unknown }[] = [];
    h.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      received.push({ level: n.params.level, data: n.params.data });
    });
    await h.ok('list_calls', {});
    expect(received.filter((r) => r.level === 'debug')).toEqual([]);

    await h.client.setLoggingLevel('debug');
    await h.ok('list_calls', {});
    await until(() => received.some((r) => r.level === 'debug'), 5_000, 'a debug log notification');

    await h.client.setLoggingLevel('warning');
    received.length = 0;
    await h.ok('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    await h.err('create_call', { customer: { number: '911' } });
    await h.ok('list_calls', {});
    expect(received.filter((r) => r.level === 'debug' || r.level === 'info')).toEqual([]);
  });
});

describe('command line', () => {
  it('prints --help on stdout, nothing on stderr', async () => {
    const help = await runToExit(['--help'], { HOME: home }, home);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage:/);
    expect(help.stderr).toBe('');
  });

  it('refuses --sim-speed without --simulate instead of ignoring it', async () => {
    const run = await runToExit(['--sim-speed', '10'], { HOME: home, VAPI_API_KEY: 'sk-real-looking-key' }, home);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--sim-speed only applies with --simulate/);
    expect(run.stdout).toBe('');
  });

  it('treats only a value that is wholly a placeholder as one, and never prints a key', async () => {
    for (const key of ['sk$live_abc123', 'key-with-<angle>-brackets', 'abc$HOME', 'x${y}z']) {
      expect(loadConfig({ VAPI_API_KEY: key }).apiKey).toBe(key);
    }
    for (const placeholder of ['${VAPI_API_KEY}', '$VAPI_API_KEY', '<your Vapi private key>', '${input:vapi-key}', '%VAPI_API_KEY%']) {
      expect(() => loadConfig({ VAPI_API_KEY: placeholder })).toThrow(/VAPI_API_KEY is a literal placeholder/);
    }
    // A key pasted into the wrong variable is not quoted back either.
    for (const baseUrl of ['sk-live-0123456789abcdef', 'https://sk-live-0123456789abcdef@api.vapi.ai', 'ftp://sk-live-0123456789abcdef']) {
      expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_BASE_URL: baseUrl })).toThrow(/VAPI_BASE_URL/);
      expect(() => loadConfig({ VAPI_API_KEY: 'k', VAPI_BASE_URL: baseUrl })).not.toThrow(/sk-live/);
    }
    const run = await runToExit([], { HOME: home, VAPI_API_KEY: '<your Vapi private key>' }, home);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/placeholder/);
    expect(run.stderr).not.toContain('<your Vapi private key>');
    // A key that merely contains '$' starts the server; the key is printed nowhere.
    const key = 'sk-$canary<key>-0123456789';
    const server = spawnServer([], { HOME: home, VAPI_API_KEY: key, VAPI_BASE_URL: 'http://127.0.0.1:9', VAPI_LOG_LEVEL: 'debug' }, home);
    try {
      await server.initialize();
      await server.callTool('list_calls', {});
    } finally {
      server.child.stdin.end();
      await server.exit();
    }
    expect(server.stderr()).toMatch(/ready on stdio/);
    expect(server.stderr()).not.toContain(key);
    expect(server.stdoutLines.join('\n')).not.toContain(key);
  });
});
