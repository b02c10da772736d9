import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JsonlWriter } from '../src/live/jsonl-writer.js';

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
    await vi.waitFor(async () => expect(await readLines(file)).toHaveLength(1), { interval: 5 });
    for (let i = 0; i < 200; i++) w.append({ receivedAt: i + 2, meta: 'n' });
    await w.close();
    const lines = await readLines(file);
    expect(lines).toHaveLength(201);
    expect(lines[0]).toEqual({ receivedAt: 1, event: { type: 'transcript', transcript: 'line\nbreak "quoted"' } });
    expect(lines.map((l) => l.receivedAt)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
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
});
