/**
 * WavWriter batching: frames are coalesced into a few writes (one file-system round trip per 20 ms frame was most
 * of a busy server's CPU), a full batch is written at once, small frames are copied (so their buffers die young),
 * and close() never waits for the batching interval.
 */
import { mkdtemp, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WAV_HEADER_BYTES, WavWriter } from '../src/live/wav-writer.js';
import { patternBytes } from './helpers/listen-server.js';
import { slowDisk } from './helpers/slow-disk.js';
import { parseWav } from './helpers/wav.js';
import { EVENTUALLY } from './helpers/wait.js';

const FRAME = 1280;
let dir: string;
let dataWrites: number;
let restore: () => void;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wav-batching-'));
  // Count the writes that carry audio (the header is written at offsets 0, 4 and 40).
  const probe = await open(path.join(dir, 'probe'), 'w');
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = prototype.writev;
  dataWrites = 0;
  const spy = vi.spyOn(prototype, 'writev').mockImplementation(function (this: FileHandle, buffers, position) {
    if (position !== undefined && position >= WAV_HEADER_BYTES) dataWrites++;
    return original.call(this, buffers, position);
  });
  restore = () => spy.mockRestore();
});

afterEach(async () => {
  restore();
  await rm(dir, { recursive: true, force: true });
});

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('WavWriter batching', () => {
  it('writes frames that arrive within flushIntervalMs as one batch, not one write per frame', async () => {
    const file = path.join(dir, 'batched.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { flushIntervalMs: 200, headerPatchIntervalMs: 60_000 });
    for (let i = 0; i < 25; i++) {
      writer.write(patternBytes(FRAME, i * FRAME));
      await pause();
    }
    await vi.waitFor(() => expect(writer.bytesWritten).toBe(25 * FRAME), EVENTUALLY);
    // One write per frame would be 25; a slow machine may split the frames into a few batches.
    expect(dataWrites).toBeLessThanOrEqual(3);
    await writer.close();
    expect(parseWav(await readFile(file)).data.equals(patternBytes(25 * FRAME))).toBe(true);
  });

  it('writes at once when flushBytes are waiting, without waiting for the interval', async () => {
    const writer = await WavWriter.open(path.join(dir, 'full.wav'), { sampleRate: 16000, channels: 2 }, { flushIntervalMs: 60_000, flushBytes: 4 * FRAME });
    for (let i = 0; i < 4; i++) writer.write(patternBytes(FRAME, i * FRAME));
    await vi.waitFor(() => expect(writer.bytesWritten).toBe(4 * FRAME), EVENTUALLY);
    await writer.close();
  });

  it('copies small chunks: a caller may reuse its buffer at once, and recycled staging blocks keep every byte in order', async () => {
    const file = path.join(dir, 'reused.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { flushIntervalMs: 5, flushBytes: 8 * FRAME });
    const scratch = Buffer.alloc(FRAME);
    for (let i = 0; i < 200; i++) {
      patternBytes(FRAME, i * FRAME).copy(scratch);
      writer.write(scratch);
      if (i % 7 === 0) await pause();
    }
    await writer.close();
    expect(dataWrites).toBeGreaterThan(5);
    expect(parseWav(await readFile(file)).data.equals(patternBytes(200 * FRAME))).toBe(true);
  });

  it('close() writes what is waiting at once and finalises the header', async () => {
    const file = path.join(dir, 'closing.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { flushIntervalMs: 60_000 });
    writer.write(patternBytes(FRAME));
    expect(writer.bytesWritten).toBe(0);
    await writer.close(); // waiting out the 60 s flush interval would run into the test's timeout
    const wav = parseWav(await readFile(file));
    expect(wav.dataSize).toBe(FRAME);
    expect(wav.data.equals(patternBytes(FRAME))).toBe(true);
  });

  it('frames that arrive while a batch is written wait for their own flush, not the end of that write', async () => {
    const file = path.join(dir, 'slow-disk.wav');
    // The first audio write hangs until released (a busy thread pool).
    const disk = slowDisk((n) => n === 1, (position) => position !== undefined && position >= WAV_HEADER_BYTES);
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { flushIntervalMs: 60_000, flushBytes: 4 * FRAME, headerPatchIntervalMs: 60_000, openFile: disk.openFile });
    for (let i = 0; i < 4; i++) writer.write(patternBytes(FRAME, i * FRAME)); // a full batch: written at once
    await vi.waitFor(() => expect(disk.writes).toBe(1), EVENTUALLY);
    writer.write(patternBytes(FRAME, 4 * FRAME)); // arrives during that write
    disk.release();
    await vi.waitFor(() => expect(writer.bytesWritten).toBe(4 * FRAME), EVENTUALLY);
    await new Promise((resolve) => setImmediate(resolve));
    // The old loop wrote it right after the batch: one more write per call per write latency under load.
    expect(disk.writes).toBe(1);
    expect(writer.pendingBytes).toBe(FRAME);
    await writer.close();
    expect(disk.writes).toBe(2);
    expect(parseWav(await readFile(file)).data.equals(patternBytes(5 * FRAME))).toBe(true);
  });
});
