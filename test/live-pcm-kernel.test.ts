/**
 * The audio analysis's two per-sample kernels (src/live/pcm-kernel.ts) give the same figures: the WebAssembly SIMD
 * kernel and the plain JS one, kernel to kernel on any range of samples, and analyzer to analyzer on the same
 * frames (levels, peaks, clipped counts, voice activity and turns), whatever the frames' sizes, byte offsets, sample
 * rates and contents. The committed WebAssembly is what pcm-kernel.wat assembles to.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, without type declarations
import { assemble, BYTES_FILE, bytesModule } from '../scripts/build-pcm-kernel.mjs';
import { CallAudioAnalyzer } from '../src/live/audio-analysis.js';
import { pcmKernel, STAGING_BYTES, STAGING_START } from '../src/live/pcm-kernel.js';

/** A small seeded generator (mulberry32): the same PCM on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGES = [32767, -32768, -32767, 32766, -32766, 0, 1, -1];

/** Samples of one kind: noise at some level, full scale, silence, edges, or speech-like bursts. */
function pcm(kind: 'noise' | 'full-scale' | 'silence' | 'edges' | 'bursts', samples: number, rand: () => number): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    if (kind === 'noise') out[i] = Math.floor(rand() * 65536) - 32768;
    else if (kind === 'full-scale') out[i] = rand() < 0.5 ? -32768 : 32767;
    else if (kind === 'edges') out[i] = EDGES[Math.floor(rand() * EDGES.length)];
    else if (kind === 'bursts') {
      // Each channel talks in its own bursts of ~0.3-1 s, quiet noise in between.
      const loud = Math.floor(i / 9000 + (i % 2) * 0.5) % 3 === 0;
      out[i] = Math.round((rand() * 2 - 1) * (loud ? 20000 : 40));
    }
  }
  return out;
}

describe('the WebAssembly SIMD kernel', () => {
  it('is the committed bytes of pcm-kernel.wat, and this runtime runs it', async () => {
    expect(await readFile(BYTES_FILE, 'utf8')).toBe(bytesModule(await assemble()));
    expect(pcmKernel('wasm').kind).toBe('wasm');
    expect(pcmKernel('js').kind).toBe('js');
    expect(pcmKernel().kind).toBe('wasm');
  });

  it('measures any range of samples exactly as the JS kernel does', () => {
    const wasm = pcmKernel('wasm');
    const js = pcmKernel('js');
    const rand = random(20);
    const first = STAGING_START / 2;
    for (const kind of ['noise', 'full-scale', 'edges', 'silence'] as const) {
      for (let round = 0; round < 400; round++) {
        const channels = round % 2 === 0 ? 2 : 1;
        const count = round < 300 ? Math.floor(rand() * 40) : Math.floor(rand() * (STAGING_BYTES / 2));
        const samples = pcm(kind, count * channels, rand);
        const at = first + Math.floor(rand() * 8) * channels;
        const end = Math.min(at + samples.length, first + STAGING_BYTES / 2);
        for (const kernel of [wasm, js]) {
          kernel.samples.fill(-32768, first);
          kernel.samples.set(samples.subarray(0, end - at), at);
        }
        wasm.measure(at, end, channels);
        js.measure(at, end, channels);
        expect([...wasm.result], `${kind}, ${channels} channel(s), samples [${at}, ${end})`).toEqual([...js.result]);
      }
    }
    // The largest figures: a whole staging area at full scale.
    wasm.samples.fill(-32768, first, first + STAGING_BYTES / 2);
    wasm.measure(first, first + STAGING_BYTES / 2, 2);
    expect([...wasm.result]).toEqual([(STAGING_BYTES / 4) * 2 ** 30, (STAGING_BYTES / 4) * 2 ** 30, 2 ** 30, 2 ** 30]);
  });
});

describe('the analyzer with either kernel', () => {
  const cases = [
    { sampleRate: 16000, channels: 2, kinds: ['bursts', 'noise', 'silence', 'full-scale', 'edges'] as const },
    { sampleRate: 8000, channels: 1, kinds: ['bursts', 'edges', 'silence', 'full-scale', 'noise'] as const },
    { sampleRate: 384_000, channels: 2, kinds: ['noise', 'full-scale', 'bursts', 'silence'] as const },
    { sampleRate: 44100, channels: 1, kinds: ['full-scale', 'bursts', 'noise'] as const },
  ];
  for (const { sampleRate, channels, kinds } of cases) {
    it(`gives identical metrics at ${sampleRate} Hz, ${channels === 2 ? 'stereo' : 'mono'}, for frames of any size at any byte offset`, () => {
      const rand = random(sampleRate + channels);
      const analyzers = [new CallAudioAnalyzer({ kernel: 'wasm' }), new CallAudioAnalyzer({ kernel: 'js' })];
      for (const analyzer of analyzers) analyzer.setFormat({ sampleRate, channels });
      let compared = 0;
      for (const kind of kinds) {
        const samples = pcm(kind, Math.round(sampleRate * 1.5) * channels, rand);
        const bytes = Buffer.from(samples.buffer);
        let offset = 0;
        while (offset < bytes.length) {
          // 20 ms frames mostly; also torn samples (odd sizes), single bytes and chunks larger than the staging area.
          const pick = rand();
          const size = pick < 0.5 ? (sampleRate / 50) * channels * 2 : pick < 0.8 ? 1 + Math.floor(rand() * 5000) : pick < 0.9 ? 1 + Math.floor(rand() * 3) : STAGING_BYTES + 1 + Math.floor(rand() * 70_000);
          const frame = bytes.subarray(offset, offset + size);
          // The same bytes at an odd byte offset of a larger buffer, as a socket may hand them over.
          const shift = 1 + Math.floor(rand() * 3);
          const odd = Buffer.alloc(frame.length + shift).subarray(shift);
          frame.copy(odd);
          analyzers[0].audio(rand() < 0.5 ? frame : odd);
          analyzers[1].audio(rand() < 0.5 ? frame : odd);
          offset += size;
          expect(analyzers[0].metrics()).toEqual(analyzers[1].metrics());
          compared++;
        }
      }
      const metrics = analyzers[0].metrics();
      expect(compared).toBeGreaterThan(20);
      // The edge cases were really exercised: clipping counted, and (stereo) turns measured from the samples.
      const level = channels === 2 ? metrics.levels.customer! : metrics.levels.mixed!;
      expect(level.clippedSamples).toBeGreaterThan(0);
      if (channels === 2) expect(metrics.talkSeconds.customer + metrics.talkSeconds.assistant).toBeGreaterThan(0);
    });
  }
});
