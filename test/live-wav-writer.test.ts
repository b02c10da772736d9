import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import wavefile from 'wavefile';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WAV_HEADER_BYTES, WavWriter, type AudioGap } from '../src/live/wav-writer.js';
import { fullDisk } from './helpers/full-disk.js';
import { until } from './helpers/harness.js';
import { frameSizes, patternBytes, settledHeapBytes } from './helpers/listen-server.js';
import { parseWav } from './helpers/wav.js';
import { EVENTUALLY } from './helpers/wait.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wav-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Lets timers and file-system completions run (a burst every millisecond is still ~250x real time). */
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('WavWriter', () => {
  it('writes every byte in arrival order behind a canonical 44-byte header, data chunk last', async () => {
    const file = path.join(dir, 'a.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 });
    const sizes = frameSizes(64_000, [1, 3, 1279, 1280, 5]);
    let offset = 0;
    for (const size of sizes) {
      writer.write(patternBytes(size, offset));
      offset += size;
    }
    await writer.close();

    const bytes = await readFile(file);
    const wav = parseWav(bytes);
    expect(wav.chunkIds).toEqual(['fmt ', 'data']);
    expect(bytes.indexOf('data')).toBe(36);
    expect(wav).toMatchObject({ audioFormat: 1, channels: 2, sampleRate: 16000, byteRate: 64000, blockAlign: 4, bitsPerSample: 16 });
    expect(wav.dataSize).toBe(64_000);
    expect(wav.riffSize).toBe(36 + 64_000);
    expect(wav.fileSize).toBe(WAV_HEADER_BYTES + 64_000);
    expect(wav.data.equals(patternBytes(64_000))).toBe(true);
    expect(writer.bytesReceived).toBe(64_000);
    expect(writer.bytesWritten).toBe(64_000);
    expect(writer.durationSeconds).toBe(1);

    const parsed = new wavefile.WaveFile(bytes);
    const fmt = parsed.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
    expect(fmt).toMatchObject({ sampleRate: 16000, numChannels: 2, bitsPerSample: 16 });
    expect((parsed.data as { chunkSize: number }).chunkSize).toBe(64_000);
    const samples = parsed.getSamples(true, Int16Array) as unknown as Int16Array;
    expect(samples.length).toBe(32_000);
    expect(samples[1]).toBe(patternBytes(4).readInt16LE(2));
  });

  it('creates the file with mode 0600', async () => {
    const file = path.join(dir, 'mode.wav');
    const writer = await WavWriter.open(file, { sampleRate: 8000, channels: 1 });
    await writer.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('zero-pads a trailing partial block on close, keeping every received byte', async () => {
    const file = path.join(dir, 'pad.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 });
    writer.write(patternBytes(4 * 100 + 3));
    await writer.close();
    const wav = parseWav(await readFile(file));
    expect(wav.dataSize).toBe(404);
    expect(wav.data.subarray(0, 403).equals(patternBytes(403))).toBe(true);
    expect(wav.data[403]).toBe(0);
    expect(writer.paddingBytes).toBe(1);
    expect(writer.bytesReceived).toBe(403);
  });

  it('padToBlock() completes a torn block mid-file so the next stream stays sample-aligned', async () => {
    const file = path.join(dir, 'torn.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 });
    writer.write(patternBytes(5));
    expect(writer.padToBlock()).toBe(3);
    expect(writer.padToBlock()).toBe(0);
    writer.write(patternBytes(4, 100));
    await writer.close();
    const wav = parseWav(await readFile(file));
    expect(wav.data.equals(Buffer.concat([patternBytes(5), Buffer.alloc(3), patternBytes(4, 100)]))).toBe(true);
    expect(writer).toMatchObject({ bytesReceived: 9, paddingBytes: 3, bytesWritten: 12 });
  });

  it('8 kHz mono: blockAlign 2 and an odd byte count padded by one', async () => {
    const file = path.join(dir, 'mono.wav');
    const writer = await WavWriter.open(file, { sampleRate: 8000, channels: 1 });
    writer.write(patternBytes(1));
    writer.write(patternBytes(2, 1));
    await writer.close();
    const wav = parseWav(await readFile(file));
    expect(wav).toMatchObject({ channels: 1, sampleRate: 8000, byteRate: 16000, blockAlign: 2, dataSize: 4 });
  });

  it('patches the header periodically so that mid-stream its sizes match the data on disk', async () => {
    const file = path.join(dir, 'live.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { headerPatchIntervalMs: 20 });
    try {
      writer.write(patternBytes(1281));
      await vi.waitFor(
        async () => {
          const bytes = await readFile(file);
          expect(bytes.length).toBe(WAV_HEADER_BYTES + 1281);
          expect(bytes.readUInt32LE(40)).toBe(1281);
          expect(bytes.readUInt32LE(4)).toBe(36 + 1281);
        },
        EVENTUALLY,
      );
      writer.write(patternBytes(5119, 1281));
      await vi.waitFor(
        async () => {
          const bytes = await readFile(file);
          expect(bytes.readUInt32LE(40)).toBe(6400);
          expect(bytes.length).toBe(WAV_HEADER_BYTES + 6400);
          // A reader that trusts the header sees exactly the audio written so far.
          expect(parseWav(bytes).data.equals(patternBytes(6400))).toBe(true);
        },
        EVENTUALLY,
      );
    } finally {
      await writer.close();
    }
  });

  it('keeps memory flat while streaming 100k small frames: the pending queue stays bounded', async () => {
    const file = path.join(dir, 'many.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 });
    let maxPending = 0;
    let offset = 0;
    const stream = async (frames: number) => {
      for (let i = 0; i < frames; i++) {
        writer.write(patternBytes(64, offset));
        offset += 64;
        maxPending = Math.max(maxPending, writer.pendingBytes);
        if (i % 500 === 499) await pause();
      }
    };
    await stream(50_000);
    const heapAtHalf = settledHeapBytes();
    await stream(50_000);
    const heapAtEnd = settledHeapBytes();
    await writer.close();
    expect(writer.bytesWritten).toBe(6_400_000);
    expect((await stat(file)).size).toBe(WAV_HEADER_BYTES + 6_400_000);
    // Written at the pace it arrives: a few 32 KB bursts at most, never a sizeable part of the 6.4 MB stream.
    expect(maxPending).toBeLessThan(2 * 1024 * 1024);
    expect(heapAtEnd - heapAtHalf).toBeLessThan(2 * 1024 * 1024);
  });

  it('a full disk stalls the writer instead of stopping it: audio over the backlog is dropped, saving resumes when space returns, the gap is reported and aligned', async () => {
    const file = path.join(dir, 'full.wav');
    const disk = fullDisk();
    const onError = vi.fn();
    const stalls: Error[] = [];
    let resumed = 0;
    const gaps: AudioGap[] = [];
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, {
      openFile: disk.openFile,
      maxPendingBytes: 10_000,
      flushBytes: 1000,
      retryDelayMs: 5,
      maxRetryDelayMs: 20,
      onError,
      onStall: (e) => stalls.push(e),
      onResume: () => resumed++,
      onGap: (g) => gaps.push(g),
    });
    disk.room = 2500; // room for part of the audio: the rest fails with ENOSPC
    for (let i = 0; i < 3; i++) writer.write(patternBytes(1001, i * 1001));
    await until(() => (writer.stalled ? true : undefined));
    expect(stalls).toHaveLength(1);
    // While full: the backlog fills to maxPendingBytes, then arriving audio is dropped, memory stays bounded.
    for (let i = 3; i < 40; i++) writer.write(patternBytes(1001, i * 1001));
    expect(writer.pendingBytes).toBeLessThanOrEqual(10_000 + 1001);
    expect(writer.droppedBytes).toBeGreaterThan(0);
    expect(disk.failures).toBeGreaterThanOrEqual(1);
    disk.room = undefined; // space freed
    await until(() => (writer.pendingBytes === 0 && !writer.stalled ? true : undefined));
    expect(resumed).toBe(1);
    writer.write(patternBytes(400, 40 * 1001)); // accepted again: the gap closes here
    await writer.close();
    expect(onError).not.toHaveBeenCalled();
    expect(writer.error).toBeUndefined();
    expect(gaps).toHaveLength(1);
    expect(gaps[0].droppedBytes).toBe(writer.droppedBytes);
    expect(writer.bytesReceived + writer.droppedBytes).toBe(40 * 1001 + 400);
    // Zeros keep the sample grid of the stream: file offset ≡ stream offset (mod 4) after the gap.
    expect((gaps[0].fileOffset + gaps[0].paddingBytes) % 4).toBe((gaps[0].fileOffset + gaps[0].droppedBytes) % 4);
    const wav = parseWav(await readFile(file));
    expect(wav.dataSize).toBe(writer.bytesWritten);
    expect(wav.dataSize).toBe(writer.bytesReceived + writer.paddingBytes);
    expect(wav.dataSize % 4).toBe(0);
    expect(wav.fileSize).toBe(WAV_HEADER_BYTES + wav.dataSize);
    // The audio before the gap is there byte for byte.
    const data = (await readFile(file)).subarray(WAV_HEADER_BYTES);
    expect(data.subarray(0, gaps[0].fileOffset).equals(patternBytes(gaps[0].fileOffset))).toBe(true);
  });

  it('a disk already full at open waits too: the header goes first once space returns, every byte after it', async () => {
    const file = path.join(dir, 'full-at-open.wav');
    const disk = fullDisk();
    disk.room = 0;
    const onError = vi.fn();
    const writer = WavWriter.create(file, { sampleRate: 16000, channels: 2 }, { openFile: disk.openFile, retryDelayMs: 5, maxRetryDelayMs: 20, onError });
    writer.write(patternBytes(4000));
    await until(() => (writer.stalled ? true : undefined));
    disk.room = undefined;
    writer.write(patternBytes(4000, 4000));
    await writer.close();
    expect(onError).not.toHaveBeenCalled();
    const bytes = await readFile(file);
    const wav = parseWav(bytes);
    expect(wav.dataSize).toBe(8000);
    expect(wav.fileSize).toBe(WAV_HEADER_BYTES + 8000);
    expect(bytes.subarray(WAV_HEADER_BYTES).equals(patternBytes(8000))).toBe(true);
  });

  it('a disk still full at close stops the writer and cuts the file back to what the header says', async () => {
    const file = path.join(dir, 'full-at-close.wav');
    const disk = fullDisk();
    const onError = vi.fn();
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { openFile: disk.openFile, flushBytes: 1000, retryDelayMs: 5, onError });
    disk.room = 1003;
    writer.write(patternBytes(5000));
    await until(() => (writer.stalled ? true : undefined));
    await writer.close();
    expect(onError).toHaveBeenCalledTimes(1);
    const wav = parseWav(await readFile(file));
    expect(wav.dataSize % 4).toBe(0);
    expect(wav.fileSize).toBe(WAV_HEADER_BYTES + wav.dataSize);
  });

  it('accepts and writes through a single frame far above maxPendingBytes (back-pressure judges the disk, not one frame)', async () => {
    const file = path.join(dir, 'big-frame.wav');
    const onError = vi.fn();
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { maxPendingBytes: 64 * 1024, onError });
    const big = patternBytes(1024 * 1024);
    writer.write(patternBytes(640));
    // Written, not only taken from the queue: the big frame then starts a write of its own at once.
    await until(() => writer.bytesWritten === 640 || undefined);
    writer.write(big);
    for (let i = 0; i < 50; i++) writer.write(patternBytes(640, 640 * (i + 1)));
    await writer.close();
    expect(onError).not.toHaveBeenCalled();
    expect(writer.droppedBytes).toBe(0);
    const wav = parseWav(await readFile(file));
    expect(wav.dataSize).toBe(640 + 1024 * 1024 + 50 * 640);
  });

  it('reports an unwritable path through error/onError and open() rejects; write() never throws', async () => {
    const blocker = path.join(dir, 'file');
    await writeFile(blocker, 'x');
    const onError = vi.fn();
    const writer = WavWriter.create(path.join(blocker, 'x.wav'), { sampleRate: 16000, channels: 2 }, { onError });
    writer.write(patternBytes(100));
    await writer.close();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(writer.error?.message).toMatch(/ENOTDIR/);
    await expect(WavWriter.open(path.join(blocker, 'y.wav'), { sampleRate: 16000, channels: 2 })).rejects.toThrow(/ENOTDIR/);
  });

  it('refuses to replace an existing file when exclusive', async () => {
    const file = path.join(dir, 'taken.wav');
    await writeFile(file, 'keep');
    await expect(WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { exclusive: true })).rejects.toThrow(/EEXIST/);
    expect(await readFile(file, 'utf8')).toBe('keep');
  });

  it('close() is idempotent and later writes are ignored', async () => {
    const file = path.join(dir, 'twice.wav');
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 });
    writer.write(patternBytes(8));
    const first = writer.close();
    writer.write(patternBytes(8));
    await Promise.all([first, writer.close()]);
    expect(first).toBe(writer.close());
    expect(parseWav(await readFile(file)).dataSize).toBe(8);
  });
});
