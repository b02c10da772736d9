/**
 * The streaming analyzer on its own, fed the simulator's tone renderer directly: results do not depend on how the
 * stream is cut into frames, levels read what was rendered, clipping is counted, and a loud line does not read as
 * speech once the floor has adapted to it.
 */
import { describe, expect, it } from 'vitest';
import { CallAudioAnalyzer } from '../src/live/audio-analysis.js';
import { ToneSource, type ActiveParties } from '../src/sim/audio.js';

const FORMAT = { sampleRate: 16000, channels: 2 as const };
const BLOCK = 4;

/** Customer 1.0–4.0 s, assistant 3.5–6.0 s (talking over the customer), customer again 7.2–8.0 s. */
function activeAt(ms: number): ActiveParties {
  return { customer: (ms >= 1000 && ms < 4000) || (ms >= 7200 && ms < 8000), assistant: ms >= 3500 && ms < 6000 };
}

function renderCall(totalMs: number, noiseFloorDbfs?: number): Buffer {
  const tone = new ToneSource(FORMAT, noiseFloorDbfs);
  const bytesPerMs = (FORMAT.sampleRate / 1000) * BLOCK;
  const out = Buffer.alloc(totalMs * bytesPerMs);
  for (let ms = 0; ms < totalMs; ms++) tone.render(out, ms * bytesPerMs, ms * bytesPerMs, bytesPerMs, activeAt(ms));
  return out;
}

function analyse(stream: Buffer, sizes: number[]): CallAudioAnalyzer {
  const analyzer = new CallAudioAnalyzer();
  analyzer.setFormat(FORMAT);
  let offset = 0;
  for (let i = 0; offset < stream.length; i++) {
    const size = sizes[i % sizes.length];
    analyzer.audio(stream.subarray(offset, offset + size));
    offset += size;
  }
  return analyzer;
}

describe('CallAudioAnalyzer', () => {
  it('measures the same whatever the frame sizes, including frames that split samples', () => {
    const stream = renderCall(9000, -60);
    const whole = analyse(stream, [1280]).metrics();
    expect(analyse(stream, [1, 3, 7, 333, 5000]).metrics()).toEqual(whole);
    // Odd byte offsets into the underlying memory take the copying path.
    const shifted = Buffer.alloc(stream.length + 1);
    stream.copy(shifted, 1);
    expect(analyse(shifted.subarray(1), [641]).metrics()).toEqual(whole);

    expect(whole.interruptions).toMatchObject({ count: 1, byAssistant: 1, byCustomer: 0 });
    expect(Math.abs(whole.interruptions.recent[0].overlapMs! - 500)).toBeLessThanOrEqual(20);
    // The customer's second turn answers nobody: no response latency for it, but 1.2 s of silence before it.
    expect(whole.responseLatency.count).toBe(0);
    expect(Math.abs(whole.longestSilenceMs - 1200)).toBeLessThanOrEqual(20);
    expect(Math.abs(whole.talkSeconds.customer - 3.8)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(whole.talkSeconds.assistant - 2.5)).toBeLessThanOrEqual(0.05);
  });

  it('reads levels per 100 ms window and counts clipped samples', () => {
    const analyzer = new CallAudioAnalyzer();
    analyzer.setFormat(FORMAT);
    const window = Buffer.alloc(1600 * BLOCK);
    for (let n = 0; n < 1600; n++) {
      window.writeInt16LE(n % 2 === 0 ? 16384 : -16384, n * BLOCK); // square wave at half scale: -6 dBFS
      window.writeInt16LE(n < 10 ? 32767 : 0, n * BLOCK + 2);
    }
    analyzer.audio(window);
    const { levels } = analyzer.metrics();
    expect(levels.customer).toEqual({ rmsDbfs: -6, peakDbfs: -6, clippedSamples: 0 });
    expect(levels.assistant!.peakDbfs).toBe(0);
    expect(levels.assistant!.clippedSamples).toBe(10);
  });

  it('adapts to a loud line: steady hiss is not speech, speech above it is', () => {
    const stream = renderCall(9000, -40);
    const metrics = analyse(stream, [1280]).metrics();
    expect(metrics.interruptions.count).toBe(1);
    expect(Math.abs(metrics.talkSeconds.customer - 3.8)).toBeLessThanOrEqual(0.08);
    expect(metrics.talking).toEqual({ customer: false, assistant: false });
  });

  it('takes turns from speech-update timings on a mono stream', () => {
    const analyzer = new CallAudioAnalyzer();
    analyzer.setFormat({ sampleRate: 16000, channels: 1 });
    const t0 = 1_000_000;
    const speech = (role: string, status: string, at: number) =>
      analyzer.event({ type: 'speech-update', role, status, timestamp: t0 + at }, 0);
    analyzer.event({ type: 'status-update', status: 'in-progress', timestamp: t0 }, 0);
    speech('user', 'started', 500);
    speech('user', 'stopped', 2000);
    speech('assistant', 'started', 2750);
    speech('user', 'started', 3000);
    speech('assistant', 'stopped', 3400);
    speech('user', 'stopped', 4000);
    const metrics = analyzer.metrics();
    expect(metrics.source).toBe('events');
    expect(metrics.responseLatency.recent).toEqual([{ atSeconds: 2.75, ms: 750 }]);
    expect(metrics.interruptions.recent).toEqual([{ atSeconds: 3, by: 'customer', overlapMs: 400 }]);
    expect(metrics.longestSilenceMs).toBe(750);
    expect(metrics.talkSeconds).toEqual({ customer: 2.5, assistant: 0.7 });
  });
});
