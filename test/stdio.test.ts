/**
 * The built server as MCP hosts run it: spawned over stdio from an unrelated working directory with a
 * minimal environment. stdout must carry only JSON-RPC; startup failures must say what to fix.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/sim/index.js';
import { until } from './helpers/harness.js';
import { runToExit, spawnServer } from './helpers/spawn.js';
import { readWav } from './helpers/wav.js';

/** Audio is flowing once someone has spoken: waits (event-driven, through read_transcript) for the first line. */
async function untilFirstLine(server: ReturnType<typeof spawnServer>, callId: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const read = await server.callTool('read_transcript', { callId, waitSeconds: 10 });
    if ((read.structuredContent!.lines as unknown[]).length > 0) return;
  }
  throw new Error('no transcript line arrived');
}

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-home-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('stdio server', () => {
  it('runs a whole simulated call with nothing but JSON-RPC on stdout', async () => {
    const recordings = join(home, 'recordings');
    const server = spawnServer(['--simulate', '--sim-speed', '100'], { HOME: home, VAPI_RECORDINGS_DIR: recordings }, home);
    try {
      const init = await server.initialize();
      expect((init.serverInfo as { name: string }).name).toBe('vapi-call-mcp');
      expect(init.instructions).toMatch(/SIMULATED/);
      const tools = (await server.request('tools/list')) as { tools: { name: string }[] };
      expect(tools.tools).toHaveLength(14);

      const created = await server.callTool('create_call', { customer: { number: '+14155552671' } });
      expect(created.isError).toBeFalsy();
      expect(created.structuredContent!.simulated).toBe(true);
      const callId = created.structuredContent!.callId as string;

      let read: Record<string, unknown> = {};
      let sinceSeq = 1;
      do {
        read = (await server.callTool('read_transcript', { callId, sinceSeq, waitSeconds: 5 })).structuredContent!;
        sinceSeq = read.nextSeq as number;
      } while (!read.ended);
      const call = await server.callTool('get_call', { callId });
      expect(call.structuredContent!.status).toBe('ended');

      for (const line of server.stdoutLines) {
        expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
      }
      expect(server.stderr()).toMatch(/ready on stdio/);
      expect(server.stderr()).toContain(recordings);
    } finally {
      server.child.stdin.end();
      await server.exit();
    }
  });

  it('finalises open recordings when stdin closes, as MCP clients stop servers', async () => {
    const recordings = join(home, 'shutdown-recordings');
    const server = spawnServer(['--simulate', '--sim-speed', '5'], { HOME: home, VAPI_RECORDINGS_DIR: recordings }, home);
    await server.initialize();
    const created = await server.callTool('create_call', { customer: { number: '+14155552671' } });
    const callId = created.structuredContent!.callId as string;
    await untilFirstLine(server, callId);
    server.child.stdin.end();
    const { code } = await server.exit();
    expect(code).toBe(0);
    const wav = readWav(join(recordings, `${callId}.wav`));
    expect(wav.dataIsLast).toBe(true);
    expect(wav.dataSize).toBeGreaterThan(0);
    expect(wav.dataSize % 4).toBe(0);
    expect(server.stderr()).toMatch(/finalising recordings/);
  });

  it('finalises open recordings on SIGTERM', async () => {
    const recordings = join(home, 'sigterm-recordings');
    const server = spawnServer(['--simulate', '--sim-speed', '5'], { HOME: home, VAPI_RECORDINGS_DIR: recordings }, home);
    await server.initialize();
    const created = await server.callTool('create_call', { customer: { number: '+14155552671' } });
    const callId = created.structuredContent!.callId as string;
    await untilFirstLine(server, callId);
    server.child.kill('SIGTERM');
    const { code } = await server.exit();
    expect(code).toBe(0);
    const wav = readWav(join(recordings, `${callId}.wav`));
    expect(wav.dataIsLast).toBe(true);
    expect(wav.dataSize).toBeGreaterThan(0);
  });
});

describe('secrets on the wire', () => {
  it('never prints the API key on stdout or stderr, even at debug level and on errors', async () => {
    const apiKey = 'canary-stdio-key-6f1d2c9e8b7a';
    const sim = await startSimulator({ apiKey, speed: 100 });
    const server = spawnServer(
      [],
      {
        HOME: home,
        VAPI_API_KEY: apiKey,
        VAPI_BASE_URL: sim.baseUrl,
        VAPI_ASSISTANT_ID: 'assistant-stdio',
        VAPI_PHONE_NUMBER_ID: 'phone-stdio',
        VAPI_RECORDINGS_DIR: join(home, 'canary-recordings'),
        VAPI_LOG_LEVEL: 'debug',
      },
      home,
    );
    try {
      await server.initialize();
      await server.request('logging/setLevel', { level: 'debug' });
      const created = await server.callTool('create_call', { customer: { number: '+14155552671' } });
      const callId = created.structuredContent!.callId as string;
      await server.callTool('get_call', { callId });
      const missing = await server.callTool('get_call', { callId: '7420f27a-0000-4000-8000-000000000001' });
      expect(missing.isError).toBe(true);
      await server.callTool('inject_say', { callId, content: 'hello' });
    } finally {
      server.child.stdin.end();
      await server.exit();
      await sim.close();
    }
    expect(server.stderr()).toMatch(/DEBUG/);
    expect(server.stdoutLines.join('\n')).toMatch(/notifications\/message/); // logs mirrored to the client
    expect(server.stdoutLines.join('\n')).not.toContain(apiKey);
    expect(server.stderr()).not.toContain(apiKey);
    expect(sim.requests.every((r) => r.authorization === `Bearer ${apiKey}`)).toBe(true);
  });
});

describe('hard kill', () => {
  it('leaves a WAV that still parses, its header matching data already on disk', async () => {
    const recordings = join(home, 'kill-recordings');
    const server = spawnServer(['--simulate', '--sim-speed', '5'], { HOME: home, VAPI_RECORDINGS_DIR: recordings }, home);
    await server.initialize();
    const created = await server.callTool('create_call', { customer: { number: '+14155552671' } });
    const path = join(recordings, `${created.structuredContent!.callId as string}.wav`);
    // The header is patched every 2 s while audio flows: wait until a patch has recorded some audio.
    const headerDataBytes = () => {
      try {
        return readFileSync(path).readUInt32LE(40);
      } catch {
        return 0;
      }
    };
    await until(() => headerDataBytes() > 0 || undefined, 15_000, 'a patched WAV header');
    server.child.kill('SIGKILL');
    await server.exit();

    const bytes = readFileSync(path);
    expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
    expect(bytes.toString('ascii', 8, 12)).toBe('WAVE');
    const dataBytes = bytes.readUInt32LE(40);
    expect(dataBytes % 4).toBe(0);
    expect(44 + dataBytes).toBeLessThanOrEqual(bytes.length);
    expect(bytes.readUInt32LE(4)).toBe(36 + dataBytes);
    const wav = readWav(path);
    expect(wav).toMatchObject({ sampleRate: 16000, channels: 2, bitsPerSample: 16 });
  });
});

describe('startup', () => {
  it('fails with one clear line when there is no key', async () => {
    const { code, stdout, stderr } = await runToExit([], { HOME: home }, home);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/VAPI_API_KEY/);
    expect(stderr).toMatch(/--simulate/);
  });

  it('recognises an unsubstituted placeholder', async () => {
    const { code, stderr } = await runToExit([], { HOME: home, VAPI_API_KEY: '${VAPI_API_KEY}' }, home);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/placeholder/);
    expect(stderr).toMatch(/VAPI_API_KEY/);
  });

  it('names an unusable recordings directory', async () => {
    const file = join(home, 'not-a-dir');
    await writeFile(file, 'x');
    const { code, stderr } = await runToExit(['--simulate'], { HOME: home, VAPI_RECORDINGS_DIR: join(file, 'sub') }, home);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/VAPI_RECORDINGS_DIR/);
  });

  it('prints --version and --help without starting', async () => {
    const version = await runToExit(['--version'], { HOME: home }, home);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runToExit(['--help'], { HOME: home }, home);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--simulate/);
    expect(help.stderr).toBe('');
    const bad = await runToExit(['--bogus'], { HOME: home }, home);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--help/);
  });
});
