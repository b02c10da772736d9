/**
 * The built server, spawned over stdio, against what a crash or a broken client leaves behind: SIGKILL mid-call
 * and a restart on the same recordings directory, a client message over the transport's read limit, and a
 * recordings directory that cannot hold files.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../src/sim/index.js';
import { until } from './helpers/harness.js';
import { runToExit, spawnServer } from './helpers/spawn.js';
import { readWav } from './helpers/wav.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-crash-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('after a crash', () => {
  it('SIGKILL mid-call, restart on the same directory: the WAV header is repaired, listen_call reports <id>-2.wav, the transcript keeps the earlier lines', async () => {
    const apiKey = 'crash-test-key-0123456789';
    // The call stays up until the simulator closes, so it is still live when the restarted server listens again.
    const sim = await startSimulator({ apiKey, speed: 10, seed: 3, hangupAfterScript: false });
    const recordings = join(home, 'recordings');
    const env = {
      HOME: home,
      VAPI_API_KEY: apiKey,
      VAPI_BASE_URL: sim.baseUrl,
      VAPI_ASSISTANT_ID: 'assistant-crash',
      VAPI_PHONE_NUMBER_ID: 'phone-crash',
      VAPI_RECORDINGS_DIR: recordings,
    };
    const first = spawnServer([], env, home);
    let second: ReturnType<typeof spawnServer> | undefined;
    try {
      await first.initialize();
      const created = await first.callTool('create_call', { customer: { number: '+14155552671' } });
      const callId = created.structuredContent!.callId as string;
      let heard: string[] = [];
      await until(async () => {
        const read = await first.callTool('read_transcript', { callId, waitSeconds: 10 });
        heard = (read.structuredContent!.lines as { text: string }[]).map((l) => l.text);
        return heard.length >= 1 ? true : undefined;
      }, 60_000);
      first.child.kill('SIGKILL');
      await first.exit();

      // What a crash leaves: audio past the last header patch, possibly a torn sample at the end.
      const wavPath = join(recordings, `${callId}.wav`);
      appendFileSync(wavPath, Buffer.from([1, 2, 3]));
      const torn = readFileSync(wavPath);
      expect(torn.readUInt32LE(40)).not.toBe(torn.length - 44);

      second = spawnServer([], env, home);
      await second.initialize();
      const repaired = readWav(wavPath);
      expect(repaired.dataIsLast).toBe(true);
      expect(repaired.dataSize % 4).toBe(0);
      expect(repaired.dataSize).toBe(torn.length - 44 - ((torn.length - 44) % 4));

      const listening = await second.callTool('listen_call', { callId });
      const view = listening.structuredContent!.listening as { audioPath: string };
      expect(view.audioPath).toBe(join(recordings, `${callId}-2.wav`));
      const read = await second.callTool('read_transcript', { callId });
      const texts = (read.structuredContent!.lines as { text: string }[]).map((l) => l.text);
      expect(texts.slice(0, heard.length)).toEqual(heard);
      const listenStarts = () =>
        readFileSync(join(recordings, `${callId}.jsonl`), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { meta?: string; audioPath?: string })
          .filter((r) => r.meta === 'listen-start');
      const starts = await until(() => (listenStarts().length === 2 ? listenStarts() : undefined));
      expect(starts.map((r) => r.audioPath)).toEqual([wavPath, view.audioPath]);
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGTERM');
      await second?.exit();
      await sim.close();
    }
  });
});

describe('a client the server can no longer read', () => {
  it('a message over the 10 MiB read limit makes the server exit, finalising recordings, instead of staying deaf', async () => {
    const server = spawnServer(['--simulate', '--sim-speed', '20'], { HOME: home, VAPI_RECORDINGS_DIR: join(home, 'deaf') }, home);
    await server.initialize();
    const created = await server.callTool('create_call', { customer: { number: '+14155552671' } });
    const callId = created.structuredContent!.callId as string;
    server.child.stdin.on('error', () => {}); // the server may exit before it has read it all
    server.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'ping', params: { pad: 'x'.repeat(11 * 1024 * 1024) } })}\n`);
    const { code } = await server.exit();
    expect(code).toBe(0);
    expect(server.stderr()).toMatch(/shutting down \(the client connection closed\): finalising recordings/);
    const wav = readWav(join(home, 'deaf', `${callId}.wav`));
    expect(wav.dataIsLast).toBe(true);
  });
});

describe('a recordings directory that cannot hold files', () => {
  it('fails at start-up with one line instead of spinning', async () => {
    const { code, stdout, stderr } = await runToExit(['--simulate'], { HOME: home, VAPI_RECORDINGS_DIR: '/proc/vapi-call-mcp-test/recordings' }, home);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/recordings directory \/proc\/vapi-call-mcp-test\/recordings is not usable/);
  });
});
