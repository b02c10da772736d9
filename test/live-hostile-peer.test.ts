/**
 * The listener against a listen peer that misbehaves in ways the simulator never does: huge frames and lines,
 * echoed secrets, a disk that fills up, a restart on the same recordings directory. Real WebSocket connections
 * (the scripted listen server), real files.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallListener, type CallListenerOptions } from '../src/live/listener.js';
import { silentLogger } from '../src/log.js';
import { Redactor } from '../src/redact.js';
import { listeningView } from '../src/core/views/listening.js';
import type { Call } from '../src/vapi/schemas.js';
import { until } from './helpers/harness.js';
import { SAMPLE_CALL_ID, patternBytes, startListenServer, type ScriptedListenServer } from './helpers/listen-server.js';
import { parseWav } from './helpers/wav.js';

const CALL_ID = SAMPLE_CALL_ID;
const API_KEY = 'sk-live-private-key-0123456789';
let server: ScriptedListenServer;
let dir: string;
let listeners: CallListener[];

beforeEach(async () => {
  server = await startListenServer();
  dir = await mkdtemp(path.join(tmpdir(), 'hostile-'));
  listeners = [];
});
afterEach(async () => {
  await Promise.all(listeners.map((l) => l.stop()));
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function listen(overrides: Partial<CallListenerOptions> = {}): CallListener {
  const redactor = new Redactor();
  redactor.add(API_KEY);
  const listener = new CallListener({
    callId: CALL_ID,
    listenUrl: server.url(),
    recordingsDir: path.join(dir, 'recordings'),
    saveAudio: true,
    getCall: async (): Promise<Call> => ({ id: CALL_ID, status: 'in-progress' }),
    logger: silentLogger,
    reconnect: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    endGraceMs: 20,
    redact: redactor.redact,
    ...overrides,
  });
  listeners.push(listener);
  return listener;
}

const final = (role: string, transcript: string) => ({ type: 'transcript', role, transcriptType: 'final', transcript });
const ended = { type: 'status-update', status: 'ended', endedReason: 'customer-ended-call' };

async function readJsonl(file: string): Promise<Record<string, any>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);
}

describe('hostile listen peer', () => {
  it('a 17 MiB binary frame is written through whole, and every later frame is saved too', async () => {
    const listener = listen();
    const conn = await server.nextConnection();
    let sent = 0;
    await conn.binary(patternBytes(640));
    sent += 640;
    await conn.binary(patternBytes(17 * 1024 * 1024, sent));
    sent += 17 * 1024 * 1024;
    for (let i = 0; i < 200; i++) {
      await conn.binary(patternBytes(640, sent));
      sent += 640;
    }
    await until(() => (listener.state().audioBytes === sent ? true : undefined), 30_000);
    await conn.json(ended);
    conn.close(1000);
    await listener.whenEnded();
    const state = listener.state();
    expect(state.diskError).toBeUndefined();
    const wav = parseWav(await readFile(state.audioPath!));
    expect(wav.dataSize).toBe(sent);
    expect(wav.data.equals(patternBytes(sent))).toBe(true);
  });

  it('a 1 MiB transcript line is cut in memory with a marker, kept whole in the JSONL', async () => {
    const listener = listen();
    const conn = await server.nextConnection();
    const huge = 'word '.repeat(200_000).trim();
    await conn.json(final('user', huge));
    await conn.json(final('assistant', 'ok'));
    await until(() => (listener.transcript.lines().length === 2 ? true : undefined));
    const [line] = listener.transcript.lines();
    expect(line.text.length).toBeLessThanOrEqual(listener.transcript.maxLineChars);
    expect(line.text).toContain(`[cut: ${huge.length} characters in all; the full text is in the event log]`);
    await conn.json(ended);
    conn.close(1000);
    await listener.whenEnded();
    const records = await readJsonl(listener.transcriptPath);
    expect(records.some((r) => r.event?.transcript === huge)).toBe(true);
  });

  it('keeps at most maxChars of final lines in memory: thirty 3.9 MiB lines do not pile up', async () => {
    const listener = listen({ transcriptMaxChars: 50_000 });
    const conn = await server.nextConnection();
    const big = 'x'.repeat(3.9 * 1024 * 1024);
    for (let i = 0; i < 30; i++) await conn.json(final('user', big));
    await until(() => (listener.transcript.nextSeq === 31 ? true : undefined), 30_000);
    const kept = listener.transcript.lines().reduce((n, l) => n + l.text.length, 0);
    expect(kept).toBeLessThanOrEqual(50_000);
    expect(listener.transcript.droppedLines).toBeGreaterThan(0);
  });

  it('ended is reported only once the files are final: at every change, ended implies a patched WAV header', async () => {
    const listener = listen({ headerPatchIntervalMs: 60_000 });
    const seen: { ended: boolean; headerOk: boolean }[] = [];
    listener.onChange(() => {
      const view = listeningView(listener.state());
      if (!view.ended) return;
      const wav = parseWav(readFileSync(view.audioPath!));
      seen.push({ ended: true, headerOk: wav.dataSize === wav.fileSize - 44 && wav.dataSize > 0 });
    });
    const conn = await server.nextConnection();
    for (let i = 0; i < 20; i++) await conn.binary(patternBytes(640, i * 640));
    await until(() => (listener.state().audioBytes === 12_800 ? true : undefined));
    await conn.json(ended);
    // The call has ended, the files are not final yet: not "ended" in the listening view, and still active.
    await until(() => (listener.state().ended ? true : undefined));
    const midway = listeningView(listener.state());
    if (!listener.state().filesFinal) expect(midway).toMatchObject({ ended: false, active: true, filesFinal: false });
    conn.close(1000);
    await listener.whenEnded();
    expect(listeningView(listener.state())).toMatchObject({ ended: true, active: false, filesFinal: true });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.headerOk)).toBe(true);
  });

  it('masks keys, monitor URLs and this call\'s listen URL echoed by the peer before they reach the JSONL', async () => {
    const listener = listen();
    const conn = await server.nextConnection();
    const listenUrl = server.url();
    await conn.json(final('user', `my key is ${API_KEY} and the stream is ${listenUrl}`));
    await conn.json({ type: 'status-update', status: 'in-progress', note: `control at wss://x.example/abc/control, key ${API_KEY}` });
    await conn.json({ type: 'transcript', role: 'assistant', transcriptType: 'final', transcript: `listen at ${listenUrl}?x=1` });
    await until(() => (listener.transcript.lines().length === 2 ? true : undefined));
    conn.ws.close(4000, `bye ${API_KEY}`);
    await until(() => (listener.state().reconnects >= 1 ? true : undefined)); // the close was handled and recorded
    await listener.stop();
    const text = await readFile(listener.transcriptPath, 'utf8');
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(listenUrl);
    expect(text).not.toContain('x.example/abc/control');
    expect(text).toContain('[redacted]');
    expect(text).toContain('[monitor-url]');
    for (const line of text.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('restarted on the same directory: reports <id>-2.wav, names it in listen-start, restores the final lines', async () => {
    const first = listen();
    const conn1 = await server.nextConnection();
    await conn1.binary(patternBytes(640));
    await conn1.json(final('assistant', 'Hello, this is Ada.'));
    await conn1.json(final('user', 'Hi Ada.'));
    await until(() => (first.transcript.lines().length === 2 ? true : undefined));
    await first.stop(); // the server process went away mid-call

    const second = listen();
    await second.whenPrepared();
    const expected = path.join(dir, 'recordings', `${CALL_ID}-2.wav`);
    expect(second.state().audioPath).toBe(expected);
    expect(second.transcript.lines().map((l) => l.text)).toEqual(['Hello, this is Ada.', 'Hi Ada.']);
    const conn2 = await server.nextConnection();
    await conn2.json(final('assistant', 'How can I help?'));
    await until(() => (second.transcript.lines().length === 3 ? true : undefined));
    await second.stop();
    const starts = (await readJsonl(second.transcriptPath)).filter((r) => r.meta === 'listen-start');
    expect(starts.map((r) => r.audioPath)).toEqual([path.join(dir, 'recordings', `${CALL_ID}.wav`), expected]);
  });
});

/** A 1 MiB tmpfs, when this process may mount one (root in a container with CAP_SYS_ADMIN); skipped otherwise. */
function mountTinyDisk(at: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', at], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const tinyRoot = path.join(tmpdir(), `tiny-disk-${process.pid}`);
let canMount = false;
try {
  execFileSync('mkdir', ['-p', tinyRoot]);
  canMount = mountTinyDisk(tinyRoot);
  if (canMount) execFileSync('umount', [tinyRoot]);
} catch {
  canMount = false;
}

describe.skipIf(!canMount)('a full disk (1 MiB tmpfs)', () => {
  let mount: string;
  beforeEach(async () => {
    mount = path.join(tinyRoot, String(Date.now()));
    await mkdir(mount, { recursive: true });
    expect(mountTinyDisk(mount)).toBe(true);
  });
  afterEach(() => {
    execFileSync('umount', [mount]);
  });

  it('costs the files, never the transcript; saving resumes when space returns, with the gap in the JSONL', async () => {
    const recordings = path.join(mount, 'recordings');
    const listener = listen({ recordingsDir: recordings, diskRetry: { retryDelayMs: 10, maxRetryDelayMs: 50 } });
    const conn = await server.nextConnection();
    await conn.json(final('assistant', 'line 1'));
    await conn.binary(patternBytes(64_000));
    await until(() => (listener.state().audioBytes === 64_000 ? true : undefined));
    // Fill the disk.
    const filler = path.join(mount, 'filler');
    await writeFile(filler, Buffer.alloc(1024 * 1024)).catch(() => {});
    let sent = 64_000;
    for (let i = 2; i <= 9; i++) {
      await conn.json(final(i % 2 ? 'assistant' : 'user', `line ${i}`));
      await conn.binary(patternBytes(64_000, sent));
      sent += 64_000;
    }
    await until(() => (listener.state().diskError ? true : undefined), 20_000);
    expect(listener.state().diskError).toMatch(/ENOSPC/);
    // Sent is not yet received: wait for the listener to have taken in every line.
    await until(() => (listener.transcript.lines().length >= 9 ? true : undefined), 20_000);
    expect(listener.transcript.lines().map((l) => l.text)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `line ${n}`));
    await unlink(filler);
    await until(() => (listener.state().diskError === undefined ? true : undefined), 20_000);
    await conn.json(final('user', 'line 10'));
    await conn.binary(patternBytes(6400, sent));
    sent += 6400;
    await until(() => (listener.state().audioBytes === sent ? true : undefined));
    await conn.json(ended);
    conn.close(1000);
    await listener.whenEnded();

    const text = await readFile(listener.transcriptPath, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const records = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
    const finals = records.filter((r) => r.event?.transcriptType === 'final').map((r) => r.event.transcript);
    expect(finals).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `line ${n}`));
    const wav = parseWav(await readFile(listener.state().audioPath!));
    expect(wav.fileSize).toBe(44 + wav.dataSize);
    expect(wav.dataSize % 4).toBe(0);
    const gaps = records.filter((r) => r.meta === 'audio-gap');
    const dropped = gaps.reduce((n, g) => n + g.droppedBytes, 0);
    const padding = gaps.reduce((n, g) => n + g.paddingBytes, 0);
    expect(wav.dataSize).toBe(sent - dropped + padding);
  });
});
