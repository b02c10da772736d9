import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ListenSocketOptions } from '../src/vapi/listen.js';
import { openListenSocket } from '../src/vapi/listen.js';
import { ListenerRegistry } from '../src/live/registry.js';
import { silentLogger } from '../src/log.js';
import { SAMPLE_CALL_ID, patternBytes, startListenServer, type ScriptedListenServer } from './helpers/listen-server.js';
import { parseWav } from './helpers/wav.js';
import { EVENTUALLY } from './helpers/wait.js';

let server: ScriptedListenServer;
let dir: string;
let registry: ListenerRegistry;
let opened: number;

beforeEach(async () => {
  server = await startListenServer();
  dir = await mkdtemp(path.join(tmpdir(), 'registry-'));
  opened = 0;
  registry = new ListenerRegistry({
    recordingsDir: dir,
    transcriptMaxLines: 50,
    getCall: async (id) => ({ id, status: 'in-progress' }),
    logger: silentLogger,
    openSocket: (options: ListenSocketOptions) => {
      opened++;
      return openListenSocket(options);
    },
    reconnect: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    endGraceMs: 10,
    maxFinished: 2,
  });
});
afterEach(async () => {
  await registry.stopAll();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ListenerRegistry', () => {
  it('gives every concurrent caller the same listener and opens one socket per call', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        Promise.resolve().then(() => registry.ensure(i % 2 ? SAMPLE_CALL_ID : SAMPLE_CALL_ID.toUpperCase(), server.url(), { saveAudio: true })),
      ),
    );
    expect(new Set(results).size).toBe(1);
    await server.nextConnection();
    await vi.waitFor(() => expect(results[0].state().connected).toBe(true), EVENTUALLY);
    expect(opened).toBe(1);
    expect(server.connectionCount).toBe(1);
    expect(registry.get(SAMPLE_CALL_ID)).toBe(results[0]);
    expect(registry.list()).toEqual([results[0]]);
  });

  it('returns a finished listener as it is instead of restarting it', async () => {
    const listener = registry.ensure(SAMPLE_CALL_ID, server.url(), { saveAudio: true });
    const conn = await server.nextConnection();
    await conn.binary(patternBytes(8));
    await conn.json({ type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'bye' });
    await conn.json({ type: 'status-update', status: 'ended', endedReason: 'customer-ended-call' });
    await listener.whenEnded();
    expect(registry.ensure(SAMPLE_CALL_ID, server.url(), { saveAudio: true })).toBe(listener);
    expect(opened).toBe(1);
    expect(listener.transcript.lines().map((l) => l.text)).toEqual(['bye']);
  });

  it('notifies list changes on start and stop, and forwards each listener change with its call id', async () => {
    const listChanged = vi.fn();
    const changed = vi.fn();
    registry.onListChanged(listChanged);
    const off = registry.onChange(changed);
    const listener = registry.ensure(SAMPLE_CALL_ID, server.url(), { saveAudio: false });
    expect(listChanged).toHaveBeenCalledTimes(1);
    const conn = await server.nextConnection();
    await conn.json({ type: 'status-update', status: 'in-progress' });
    await vi.waitFor(() => expect(changed).toHaveBeenCalledWith(SAMPLE_CALL_ID), EVENTUALLY);
    await conn.json({ type: 'status-update', status: 'ended' });
    await listener.whenEnded();
    await vi.waitFor(() => expect(listChanged).toHaveBeenCalledTimes(2), EVENTUALLY);
    off();
    changed.mockClear();
    registry.ensure(randomUUID(), server.url(), { saveAudio: false });
    await server.nextConnection();
    expect(changed).not.toHaveBeenCalled();
  });

  it('forgets the oldest finished listeners beyond maxFinished but never a live one', async () => {
    const live = registry.ensure(randomUUID(), server.url(), { saveAudio: false });
    await server.nextConnection();
    const finishedIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = randomUUID();
      finishedIds.push(id);
      const l = registry.ensure(id, server.url(), { saveAudio: false });
      const conn = await server.nextConnection();
      await conn.json({ type: 'status-update', status: 'ended' });
      await l.whenEnded();
    }
    await vi.waitFor(() => expect(registry.list()).toHaveLength(3), EVENTUALLY);
    expect(registry.get(live.callId)).toBe(live);
    expect(finishedIds.map((id) => registry.get(id) !== undefined)).toEqual([false, false, true, true]);
  });

  it('refuses ids that are not call ids, and new calls after stopAll', async () => {
    expect(() => registry.ensure('../etc/passwd', server.url(), { saveAudio: true })).toThrow(/call id/);
    expect(() => registry.ensure('a/b', server.url(), { saveAudio: true })).toThrow(/call id/);
    await registry.stopAll();
    expect(() => registry.ensure(randomUUID(), server.url(), { saveAudio: true })).toThrow(/shut down/);
  });

  it('stopAll() finalises every file', async () => {
    const ids = [randomUUID(), randomUUID()];
    const listeners = ids.map((id) => registry.ensure(id, server.url(id), { saveAudio: true }));
    for (let i = 0; i < ids.length; i++) {
      const conn = await server.nextConnection();
      await conn.binary(patternBytes(1001));
    }
    await vi.waitFor(() => expect(listeners.map((l) => l.state().audioBytes)).toEqual([1001, 1001]), EVENTUALLY);
    await registry.stopAll();
    for (const l of listeners) {
      expect(l.state().listening).toBe(false);
      const wav = parseWav(await readFile(l.state().audioPath!));
      expect(wav.dataSize).toBe(1004);
      expect(wav.fileSize).toBe(44 + 1004);
    }
  });
});
