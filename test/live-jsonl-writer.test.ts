import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JsonlWriter } from '../src/live/jsonl-writer.js';
import { fullDisk } from './helpers/full-disk.js';
import { slowDisk } from './helpers/slow-disk.js';
import { until } from './helpers/harness.js';
import { EVENTUALLY } from './helpers/wait.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'jsonl-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const readLines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('JsonlWriter', () => {
  it('writes one line per record, in order, streamed before close, with mode 0600', async () => {
    const file = path.join(dir, 'a.jsonl');
    const w = new JsonlWriter(file);
    w.append({ receivedAt: 1, event: { type: 'transcript', transcript: 'line\nbreak "quoted"' } });
    await vi.waitFor(async () => expect(await readLines(file)).toHaveLength(1), EVENTUALLY);
    for (let i = 0; i < 200; i++) w.append({ receivedAt: i + 2, meta: 'n' });
    await w.close();
    const lines = await readLines(file);
    expect(lines).toHaveLength(201);
    expect(lines[0]).toEqual({ receivedAt: 1, event: { type: 'transcript', transcript: 'line\nbreak "quoted"' } });
    expect(lines.map((l) => l.receivedAt)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('lazy records wait for company: the next record that is not lazy takes them along, close writes the rest', async () => {
    const file = path.join(dir, 'lazy.jsonl');
    const w = new JsonlWriter(file, { flushIntervalMs: 60_000 });
    w.append({ n: 1 }, { lazy: true });
    w.append({ n: 2 }, { lazy: true });
    expect(w.pendingBytes).toBeGreaterThan(0);
    w.append({ n: 3 });
    await vi.waitFor(async () => expect((await readLines(file)).map((l) => l.n)).toEqual([1, 2, 3]), { interval: 5 });
    w.append({ n: 4 }, { lazy: true });
    expect(w.pendingBytes).toBeGreaterThan(0);
    await w.close();
    expect((await readLines(file)).map((l) => l.n)).toEqual([1, 2, 3, 4]);
  });

  it('a lazy record that arrives during a write waits for its own flush; one that is not lazy follows the write at once', async () => {
    const file = path.join(dir, 'slow.jsonl');
    // The first write hangs until released (a busy thread pool).
    const disk = slowDisk((n) => n === 1);
    const w = new JsonlWriter(file, { flushIntervalMs: 60_000, openFile: disk.openFile });
    w.append({ n: 1 });
    await vi.waitFor(() => expect(disk.writes).toBe(1), EVENTUALLY);
    w.append({ n: 2 }, { lazy: true });
    disk.release();
    await vi.waitFor(() => expect(w.bytesWritten).toBeGreaterThan(0), EVENTUALLY);
    await new Promise((resolve) => setImmediate(resolve));
    expect(disk.writes).toBe(1);
    expect((await readLines(file)).map((l) => l.n)).toEqual([1]);
    w.append({ n: 3 });
    await vi.waitFor(async () => expect((await readLines(file)).map((l) => l.n)).toEqual([1, 2, 3]), EVENTUALLY);
    expect(disk.writes).toBe(2);
    await w.close();
  });

  it('appends to an existing file instead of replacing it', async () => {
    const file = path.join(dir, 'b.jsonl');
    await writeFile(file, '{"old":true}\n');
    const w = new JsonlWriter(file);
    w.append({ new: true });
    await w.close();
    expect(await readLines(file)).toEqual([{ old: true }, { new: true }]);
  });

  it('survives unserialisable records and reports an unwritable path without throwing', async () => {
    const file = path.join(dir, 'c.jsonl');
    const w = new JsonlWriter(file);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    w.append(cyclic);
    w.append({ ok: 1 });
    await w.close();
    expect(await readLines(file)).toEqual([{ meta: 'unserialisable-record' }, { ok: 1 }]);

    await writeFile(path.join(dir, 'blocker'), '');
    const onError = vi.fn();
    const bad = new JsonlWriter(path.join(dir, 'blocker', 'x.jsonl'), { onError });
    bad.append({ a: 1 });
    await bad.close();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(bad.error?.message).toMatch(/ENOTDIR/);
  });

  it('on a full disk: never a half record on disk, nothing lost that fits the queue, saving resumes when space returns', async () => {
    const file = path.join(dir, 'full.jsonl');
    const disk = fullDisk();
    const onError = vi.fn();
    const stalls: Error[] = [];
    let resumed = 0;
    const w = new JsonlWriter(file, { openFile: disk.openFile, retryDelayMs: 5, maxRetryDelayMs: 20, onError, onStall: (e) => stalls.push(e), onResume: () => resumed++ });
    w.append({ n: 0, text: 'before the disk filled' });
    await vi.waitFor(async () => expect(await readLines(file)).toHaveLength(1), EVENTUALLY);
    disk.room = 30; // part of the next record fits, then ENOSPC
    for (let n = 1; n <= 9; n++) w.append({ n, text: `final line ${n} `.repeat(4) });
    await until(() => (w.stalled ? true : undefined));
    expect(stalls).toHaveLength(1);
    // While stalled the file ends on a whole record: the torn part was cut back.
    const during = await readFile(file, 'utf8');
    expect(during.endsWith('\n')).toBe(true);
    expect(during.split('\n').filter(Boolean).map((l) => JSON.parse(l).n)).toEqual([0]);
    disk.room = undefined;
    await until(() => (w.pendingBytes === 0 && !w.stalled ? true : undefined));
    expect(resumed).toBe(1);
    await w.close();
    expect(onError).not.toHaveBeenCalled();
    expect((await readLines(file)).map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('records that do not fit the queue while the disk is full are counted in a records-lost line', async () => {
    const file = path.join(dir, 'lost.jsonl');
    const disk = fullDisk();
    const w = new JsonlWriter(file, { openFile: disk.openFile, maxPendingBytes: 2000, retryDelayMs: 5, maxRetryDelayMs: 20 });
    disk.room = 0;
    for (let n = 0; n < 100; n++) w.append({ n, pad: 'x'.repeat(80) });
    await until(() => (w.stalled ? true : undefined));
    expect(w.recordsLost).toBeGreaterThan(0);
    disk.room = undefined;
    await until(() => (w.pendingBytes === 0 && !w.stalled ? true : undefined));
    w.append({ n: 100 });
    await w.close();
    const lines = await readLines(file);
    const lost = lines.find((l) => l.meta === 'records-lost');
    expect(lost?.records).toBe(w.recordsLost);
    const kept = lines.filter((l) => typeof l.n === 'number').length;
    expect(kept + w.recordsLost).toBe(101);
    expect(lines.at(-1)?.n).toBe(100);
  });

  it('a disk still full at close leaves whole records only, and says so', async () => {
    const file = path.join(dir, 'full-at-close.jsonl');
    const disk = fullDisk();
    const onError = vi.fn();
    const w = new JsonlWriter(file, { openFile: disk.openFile, retryDelayMs: 5, onError });
    disk.room = 10;
    w.append({ n: 1, text: 'will not fit' });
    await until(() => (w.stalled ? true : undefined));
    await w.close();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('masks secrets in every line before it is queued', async () => {
    const file = path.join(dir, 'masked.jsonl');
    const w = new JsonlWriter(file, { redact: (line) => line.split('sk-secret-123').join('[redacted]') });
    w.append({ event: { type: 'transcript', transcript: 'the key is sk-secret-123' } });
    await w.close();
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('sk-secret-123');
    expect(JSON.parse(text).event.transcript).toBe('the key is [redacted]');
  });
});
