import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import wavefile from 'wavefile';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WAV_HEADER_BYTES, WavWriter } from '../src/live/wav-writer.js';
import { frameSizes, parseWav, patternBytes, settledHeapBytes } from './helpers/listen-server.js';

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
        { interval: 10, timeout: 2000 },
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
        { interval: 10, timeout: 2000 },
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

  it('fails instead of growing when more than maxPendingBytes wait to be written', async () => {
    const file = path.join(dir, 'slow.wav');
    const onError = vi.fn();
    const writer = await WavWriter.open(file, { sampleRate: 16000, channels: 2 }, { maxPendingBytes: 10_000, onError });
    for (let i = 0; i < 20; i++) writer.write(patternBytes(1000));
    expect(writer.error?.message).toMatch(/disk too slow/);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(writer.pendingBytes).toBe(0);
    await writer.close();
    const wav = parseWav(await readFile(file));
    expect(wav.dataSize).toBe(writer.bytesWritten);
    expect(wav.fileSize).toBe(WAV_HEADER_BYTES + wav.dataSize);
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
