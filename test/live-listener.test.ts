import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallListener, type CallListenerOptions } from '../src/live/listener.js';
import type { Logger } from '../src/log.js';
import { VapiError } from '../src/vapi/errors.js';
import type { Call } from '../src/vapi/schemas.js';
import { SAMPLE_CALL_ID, frameSizes, patternBytes, settledHeapBytes, startListenServer, type ScriptedListenServer, type ServerConnection } from './helpers/listen-server.js';
import { parseWav } from './helpers/wav.js';
import { EVENTUALLY } from './helpers/wait.js';

const CALL_ID = SAMPLE_CALL_ID;
let server: ScriptedListenServer;
let dir: string;
let logs: string[];
let listeners: CallListener[];

const logger: Logger = {
  debug: (m, f) => logs.push(JSON.stringify({ m, f })),
  info: (m, f) => logs.push(JSON.stringify({ m, f })),
  warn: (m, f) => logs.push(JSON.stringify({ m, f })),
  error: (m, f) => logs.push(JSON.stringify({ m, f })),
};

beforeEach(async () => {
  server = await startListenServer();
  dir = await mkdtemp(path.join(tmpdir(), 'rec-'));
  logs = [];
  listeners = [];
});
afterEach(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
  await server.close();
  await rm(dir, { recursive: true, force: true });
  // The listen URL is a bearer capability: it must never reach a log line.
  for (const line of logs) expect(line).not.toContain(`:${server.port}/`);
});

function liveCall(status = 'in-progress', endedReason?: string): Call {
  return { id: CALL_ID, status, ...(endedReason && { endedReason }) };
}

function listen(overrides: Partial<CallListenerOptions> = {}): CallListener {
  const listener = new CallListener({
    callId: CALL_ID,
    listenUrl: server.url(),
    recordingsDir: path.join(dir, 'recordings'),
    saveAudio: true,
    getCall: vi.fn(async () => liveCall()),
    logger,
    reconnect: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    endGraceMs: 20,
    ...overrides,
  });
  listeners.push(listener);
  return listener;
}

/** Sends `total` pattern bytes continuing at `offset`, cycling through frame sizes. */
async function sendAudio(conn: ServerConnection, total: number, sizes: number[], offset = 0): Promise<void> {
  for (const size of frameSizes(total, sizes)) {
    await conn.binary(patternBytes(size, offset));
    offset += size;
  }
}

async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const ended = (endedReason = 'customer-ended-call') => ({ type: 'status-update', status: 'ended', endedReason });

describe('CallListener: one connection', () => {
  it('saves byte-exact audio from odd-sized frames, logs every event and stops when the call ends', async () => {
    const listener = listen({ endGraceMs: 10_000 });
    const changes = vi.fn();
    listener.onChange(changes);
    const conn = await server.nextConnection();
    await conn.json({ type: 'status-update', status: 'in-progress' });
    await vi.waitFor(() => expect(listener.state().status).toBe('in-progress'), EVENTUALLY);

    changes.mockClear();
    const total = 4 * 6000;
    await sendAudio(conn, total, [1, 3, 1279]);
    await vi.waitFor(() => expect(listener.state().audioBytes).toBe(total), EVENTUALLY);
    expect(changes).toHaveBeenCalledTimes(1); // the format announcement only: audio frames never notify

    await conn.json({ message: { type: 'transcript', role: 'assistant', transcriptType: 'partial', transcript: 'Hel' } });
    await conn.json({ type: 'transcript', role: 'assistant', transcriptType: 'final', transcript: 'Hello!' });
    await conn.json({ type: 'unknown-thing', n: 1 });
    await conn.text('not json');
    await conn.json({ message: ended() });
    await vi.waitFor(() => expect(listener.state().ended).toBe(true), EVENTUALLY);
    conn.close(1000);
    await listener.whenEnded();

    const state = listener.state();
    expect(state).toMatchObject({
      callId: CALL_ID,
      status: 'ended',
      ended: true,
      endedReason: 'customer-ended-call',
      listening: false,
      connected: false,
      audioBytes: total,
      durationSeconds: 0.4,
      malformedFrames: 1,
      reconnects: 0,
      format: { sampleRate: 16000, channels: 2, source: 'default' },
    });
    expect(state.diskError).toBeUndefined();
    expect(state.audioPath).toBe(path.join(dir, 'recordings', `${CALL_ID}.wav`));
    expect(state.transcriptPath).toBe(path.join(dir, 'recordings', `${CALL_ID}.jsonl`));
    expect(listener.transcript.lines().map((l) => l.text)).toEqual(['Hello!']);
    expect(listener.transcript.partials()).toEqual([]);

    const wavBytes = await readFile(state.audioPath!);
    const wav = parseWav(wavBytes);
    expect(wav).toMatchObject({ sampleRate: 16000, channels: 2, dataSize: total, fileSize: 44 + total });
    expect(wav.chunkIds.at(-1)).toBe('data');
    expect(wav.data.equals(patternBytes(total))).toBe(true);
    expect((await stat(state.audioPath!)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'recordings'))).mode & 0o777).toBe(0o700);

    const records = await readJsonl(state.transcriptPath);
    const events = records.filter((r) => r.event).map((r) => (r.event as { type: string }).type);
    expect(events).toEqual(['status-update', 'transcript', 'transcript', 'unknown-thing', 'status-update']);
    expect(records.every((r) => typeof r.receivedAt === 'number')).toBe(true);
    // Events carry the audio offset they arrived at, aligning them with the WAV data.
    expect(records.filter((r) => r.event).map((r) => r.audioOffset)).toEqual([0, total, total, total, total]);
    const metas = records.filter((r) => r.meta).map((r) => r.meta);
    expect(metas).toEqual(['listen-start', 'connected', 'format', 'malformed', 'ended', 'closed', 'metrics', 'listen-stop']);
  });

  it('streams 100k small frames to disk byte-exact without the heap growing with the stream', async () => {
    const listener = listen();
    const conn = await server.nextConnection();
    const size = 32;
    let sent = 0;
    const stream = async (frames: number) => {
      for (let i = 0; i < frames; i += 1000) {
        // Bursts of 1000 frames (32 KB, half a second of audio) every millisecond or so: hundreds of times real time.
        const burst: Promise<void>[] = [];
        for (let j = 0; j < 1000; j++, sent += size) burst.push(conn.binary(patternBytes(size, sent)));
        await Promise.all(burst);
        // A real peer is another process: let this one's event loop run between bursts.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await vi.waitFor(() => expect(listener.state().audioBytes).toBe(sent), { interval: 5, timeout: 10_000 });
    };
    await stream(50_000);
    const heapAtHalf = settledHeapBytes();
    await stream(50_000);
    const heapAtEnd = settledHeapBytes();
    // Holding on to the second 50k frames would cost several MB of Buffer objects alone.
    expect(heapAtEnd - heapAtHalf).toBeLessThan(2 * 1024 * 1024);
    await conn.json(ended());
    await listener.whenEnded();
    const wav = parseWav(await readFile(listener.state().audioPath!));
    expect(wav.dataSize).toBe(100_000 * size);
    expect(wav.data.equals(patternBytes(100_000 * size))).toBe(true);
  });

  it('writes the WAV in the format of an 8 kHz mono start frame and zero-pads a partial block at the end', async () => {
    const listener = listen();
    const conn = await server.nextConnection();
    await conn.json({ type: 'start', encoding: 'linear16', container: 'raw', sampleRate: 8000, channels: 1 });
    await sendAudio(conn, 1601, [3, 1]);
    await vi.waitFor(() => expect(listener.state().audioBytes).toBe(1601), EVENTUALLY);
    await conn.json(ended());
    await listener.whenEnded();
    const wav = parseWav(await readFile(listener.state().audioPath!));
    expect(wav).toMatchObject({ sampleRate: 8000, channels: 1, blockAlign: 2, byteRate: 16000, dataSize: 1602 });
    expect(wav.data.subarray(0, 1601).equals(patternBytes(1601))).toBe(true);
    expect(wav.data[1601]).toBe(0);
    expect(listener.state().format).toEqual({ sampleRate: 8000, channels: 1, source: 'start-frame' });
  });

  it('does not save audio when saveAudio is false, but still keeps the transcript and event log', async () => {
    const listener = listen({ saveAudio: false });
    const conn = await server.nextConnection();
    await sendAudio(conn, 4000, [1280]);
    await conn.json({ type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'hi' });
    await conn.json(ended());
    await listener.whenEnded();
    expect(listener.state().audioPath).toBeUndefined();
    expect(listener.state().audioBytes).toBe(4000);
    await expect(stat(path.join(dir, 'recordings', `${CALL_ID}.wav`))).rejects.toThrow(/ENOENT/);
    expect((await readJsonl(listener.transcriptPath)).some((r) => r.event)).toBe(true);
  });

  it('closes the socket itself when the server lingers after status-update ended', async () => {
    const listener = listen({ endGraceMs: 30 });
    const conn = await server.nextConnection();
    await conn.json(ended('assistant-ended-call'));
    expect((await conn.closed).code).toBe(1000);
    await listener.whenEnded();
    expect(listener.state()).toMatchObject({ ended: true, endedReason: 'assistant-ended-call', listening: false });
  });

  it('never writes over an earlier recording of the same call', async () => {
    const recordings = path.join(dir, 'recordings');
    await rm(recordings, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(recordings));
    await writeFile(path.join(recordings, `${CALL_ID}.wav`), 'earlier');
    const listener = listen();
    const conn = await server.nextConnection();
    await sendAudio(conn, 8, [8]);
    await conn.json(ended());
    await listener.whenEnded();
    expect(listener.state().audioPath).toBe(path.join(recordings, `${CALL_ID}-2.wav`));
    expect(await readFile(path.join(recordings, `${CALL_ID}.wav`), 'utf8')).toBe('earlier');
    expect(parseWav(await readFile(listener.state().audioPath!)).dataSize).toBe(8);
  });
});

describe('CallListener: unexpected closes', () => {
  it('reconnects after an abrupt drop, continuing the same WAV byte for byte (torn sample completed) and recording the gap', async () => {
    const getCall = vi.fn(async () => liveCall());
    const listener = listen({ getCall });
    const changes = vi.fn();
    listener.onChange(changes);
    const first = await server.nextConnection();
    await sendAudio(first, 5118, [1279, 3]); // ends mid-block on purpose
    await vi.waitFor(() => expect(listener.state().audioBytes).toBe(5118), EVENTUALLY);
    first.terminate();

    const second = await server.nextConnection();
    await vi.waitFor(() => expect(listener.state()).toMatchObject({ connected: true, reconnects: 1 }), EVENTUALLY);
    await sendAudio(second, 5122, [1, 1279], 5118);
    await second.json({ type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'still here' });
    await second.json(ended());
    await listener.whenEnded();

    expect(getCall).toHaveBeenCalledTimes(1);
    const state = listener.state();
    expect(state).toMatchObject({ audioBytes: 10_240, reconnects: 1, ended: true });
    const wav = parseWav(await readFile(state.audioPath!));
    // The first stream ended 2 bytes into a 4-byte block: the block is completed with zeros so the second
    // stream's samples stay aligned; the end is padded the same way.
    const zeros = Buffer.alloc(2);
    const expected = Buffer.concat([patternBytes(5118), zeros, patternBytes(5122, 5118), zeros]);
    expect(wav.dataSize).toBe(10_244);
    expect(wav.data.equals(expected)).toBe(true);

    const records = await readJsonl(state.transcriptPath);
    const gap = records.find((r) => r.meta === 'gap');
    expect(gap).toMatchObject({ reconnectAttempt: 1 });
    expect(gap!.from as number).toBeLessThanOrEqual(gap!.to as number);
    expect(records.filter((r) => r.meta === 'format')).toHaveLength(1);
    expect(records.find((r) => r.meta === 'closed')).toMatchObject({ code: 1006, alignmentPaddingBytes: 2 });
    expect(records.find((r) => r.event)).toMatchObject({ audioOffset: 5120 + 5122 });
    expect(listener.transcript.lines().map((l) => l.text)).toEqual(['still here']);
    expect(changes.mock.calls.length).toBeGreaterThan(0);
  });

  it('stops without reconnecting when the socket closes and GET /call says the call ended', async () => {
    const getCall = vi.fn(async () => liveCall('ended', 'customer-ended-call'));
    const listener = listen({ getCall });
    const conn = await server.nextConnection();
    await sendAudio(conn, 400, [400]);
    await vi.waitFor(() => expect(listener.state().audioBytes).toBe(400), EVENTUALLY);
    conn.close(1000);
    await listener.whenEnded();
    expect(getCall).toHaveBeenCalledWith(CALL_ID);
    expect(listener.state()).toMatchObject({ ended: true, endedReason: 'customer-ended-call', status: 'ended', listening: false });
    expect(server.connectionCount).toBe(1);
    expect(parseWav(await readFile(listener.state().audioPath!)).dataSize).toBe(400);
    const records = await readJsonl(listener.transcriptPath);
    expect(records.find((r) => r.meta === 'ended')).toMatchObject({ source: 'rest', endedReason: 'customer-ended-call' });
  });

  it('stops writing audio when a reconnection announces a different format, and keeps the transcript going', async () => {
    const listener = listen();
    const first = await server.nextConnection();
    await sendAudio(first, 1280, [640]);
    await vi.waitFor(() => expect(listener.state().audioBytes).toBe(1280), EVENTUALLY);
    first.terminate();
    const second = await server.nextConnection();
    await second.json({ type: 'start', encoding: 'linear16', sampleRate: 8000, channels: 1 });
    await sendAudio(second, 640, [320]);
    await second.json({ type: 'transcript', role: 'assistant', transcriptType: 'final', transcript: 'after' });
    await second.json(ended());
    await listener.whenEnded();
    const state = listener.state();
    expect(state.audioStoppedReason).toMatch(/16000 Hz \/ 2 ch to 8000 Hz \/ 1 ch/);
    expect(state.format).toMatchObject({ sampleRate: 16000, channels: 2 });
    const wav = parseWav(await readFile(state.audioPath!));
    expect(wav).toMatchObject({ sampleRate: 16000, channels: 2, dataSize: 1280 });
    expect(listener.transcript.lines().map((l) => l.text)).toEqual(['after']);
    expect((await readJsonl(state.transcriptPath)).some((r) => r.meta === 'format-changed')).toBe(true);
  });

  it('retries a failing handshake with backoff and connects once the socket accepts', async () => {
    server.rejectNext({ status: 500, body: '{"message":"Internal server error"}' }, 2);
    const listener = listen();
    const conn = await server.nextConnection();
    await vi.waitFor(() => expect(listener.state().connected).toBe(true), EVENTUALLY);
    expect(server.upgradeHeaders).toHaveLength(3);
    expect(listener.state().reconnects).toBe(0);
    await conn.json(ended());
    await listener.whenEnded();
  });

  it('gives up after maxAttempts while the call is still live, and says why', async () => {
    server.rejectNext({ status: 500 }, 10);
    const listener = listen({ reconnect: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    await listener.whenEnded();
    expect(server.upgradeHeaders).toHaveLength(3); // first try + 2 retries
    expect(listener.state()).toMatchObject({ listening: false, ended: false });
    expect(listener.state().listenError).toMatch(/HTTP 500/);
  });

  it('keeps retrying without using up attempts while GET /call says the call is still ringing', async () => {
    server.rejectNext({ status: 404 }, 6);
    let answered = false;
    const getCall = vi.fn(async () => liveCall(answered ? 'in-progress' : 'ringing'));
    const listener = listen({ getCall, reconnect: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    await vi.waitFor(() => expect(server.upgradeHeaders.length).toBeGreaterThanOrEqual(5), EVENTUALLY);
    expect(listener.state()).toMatchObject({ status: 'ringing', listening: true });
    answered = true;
    const conn = await server.nextConnection();
    expect(server.upgradeHeaders).toHaveLength(7);
    await conn.json(ended());
    await listener.whenEnded();
    expect(listener.state()).toMatchObject({ ended: true, reconnects: 0 });
    expect(listener.state().listenError).toBeUndefined();
  });

  it('does not retry a rejected public key', async () => {
    server.rejectNext({ status: 401 }, 5);
    const listener = listen({ publicKey: 'pub-123456' });
    await listener.whenEnded();
    expect(server.upgradeHeaders).toHaveLength(1);
    expect(listener.state().listenError).toMatch(/HTTP 401/);
  });

  it('stops a server that accepts and drops at once from making it reconnect forever', async () => {
    const listener = listen({ reconnect: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const dropAll = (async () => {
      for (;;) {
        const conn = await Promise.race([server.nextConnection(), listener.whenEnded().then(() => undefined)]);
        if (!conn) return;
        conn.terminate();
      }
    })();
    await listener.whenEnded();
    await dropAll;
    expect(server.connectionCount).toBe(4); // first + 3 attempts
    expect(listener.state().listenError).toMatch(/kept failing after 3 retries/);
  });

  it('treats a 404 from GET /call as the end of listening', async () => {
    const getCall = vi.fn(async () => {
      throw new VapiError({ kind: 'http', operation: 'GET /call', status: 404 });
    });
    const listener = listen({ getCall });
    (await server.nextConnection()).terminate();
    await listener.whenEnded();
    expect(server.connectionCount).toBe(1);
    expect(listener.state().listenError).toMatch(/404/);
  });

  it('keeps reconnecting when GET /call fails with a network error', async () => {
    const getCall = vi.fn(async () => {
      throw new VapiError({ kind: 'network', operation: 'GET /call' });
    });
    const listener = listen({ getCall });
    (await server.nextConnection()).terminate();
    const second = await server.nextConnection();
    await vi.waitFor(() => expect(listener.state().reconnects).toBe(1), EVENTUALLY);
    await second.json(ended());
    await listener.whenEnded();
    expect(listener.state().ended).toBe(true);
  });
});

describe('CallListener: stop, safety and disk failures', () => {
  it('stop() is idempotent, closes the socket and resolves with a final WAV header', async () => {
    const listener = listen({ headerPatchIntervalMs: 60_000 });
    const conn = await server.nextConnection();
    await sendAudio(conn, 3000, [1000]);
    await vi.waitFor(() => expect(listener.state().audioBytes).toBe(3000), EVENTUALLY);
    const [a, b] = await Promise.all([listener.stop(), listener.stop()]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ listening: false, ended: false, audioBytes: 3000 });
    expect((await conn.closed).code).toBe(1000);
    const wav = parseWav(await readFile(a.audioPath!));
    expect(wav.dataSize).toBe(3000);
    expect(wav.riffSize).toBe(3036);
  });

  it('stop() during reconnect backoff ends promptly', async () => {
    // A stop that waited out the 10-minute backoff would run into the test's timeout.
    const listener = listen({ reconnect: { maxAttempts: 5, baseDelayMs: 600_000, maxDelayMs: 600_000 } });
    (await server.nextConnection()).terminate();
    await vi.waitFor(() => expect(listener.state()).toMatchObject({ connected: false, listening: true }), EVENTUALLY);
    await listener.stop();
    expect(listener.state().filesFinal).toBe(true);
    expect(server.connectionCount).toBe(1);
  });

  it.each(['../x', 'a/b', '..', `${CALL_ID}/../../etc`, `../${CALL_ID}`, ''])('refuses the call id %j', (callId) => {
    expect(() => listen({ callId })).toThrow(/call id/);
    expect(server.connectionCount).toBe(0);
  });

  it('reports a diskError for an unusable recordings directory and keeps the live transcript working', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    await writeFile(blocker, '');
    const listener = listen({ recordingsDir: path.join(blocker, 'recordings') });
    const changes = vi.fn();
    listener.onChange(changes);
    const conn = await server.nextConnection();
    await vi.waitFor(() => expect(listener.state().diskError).toMatch(/ENOTDIR|EEXIST/), EVENTUALLY);
    await sendAudio(conn, 2000, [1279]);
    await conn.json({ type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'can you hear me' });
    await vi.waitFor(() => expect(listener.transcript.lines()).toHaveLength(1), EVENTUALLY);
    expect(listener.state()).toMatchObject({ listening: true, connected: true, audioBytes: 2000 });
    await conn.json(ended());
    await listener.whenEnded();
    expect(listener.state().ended).toBe(true);
    expect(logs.some((l) => l.includes('cannot save call recording files'))).toBe(true);
  });

  it('refuses a listen URL that is not ws:// or wss://', async () => {
    const listener = listen({ listenUrl: 'https://example.invalid/x/listen' });
    await listener.whenEnded();
    expect(listener.state().listenError).toMatch(/ws:\/\//);
  });
});
