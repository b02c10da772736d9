import type { AudioMetrics, AudioReading } from '../../src/live/audio-analysis.js';
/** Reading simulated call audio back: one channel of interleaved s16le PCM, its level and pitch, and when each party spoke. */

/** Samples [from, to) of channel `index` of interleaved 16-bit PCM. */
export function channel(data: Buffer, channels: number, index: number, from = 0, to = Infinity): Int16Array {
  const end = Math.min(Math.floor(data.length / (2 * channels)), to);
  const out = new Int16Array(Math.max(0, end - from));
  for (let s = from; s < end; s++) out[s - from] = data.readInt16LE((s * channels + index) * 2);
  return out;
}

export const peak = (samples: Int16Array): number => samples.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
export const rms = (samples: Int16Array): number => Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / Math.max(1, samples.length));

/** Frequency estimated from rising zero crossings. */
export function frequency(samples: Int16Array, sampleRate: number): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1] < 0 && samples[i] >= 0) crossings++;
  return (crossings * sampleRate) / samples.length;
}

/** An event with the audio bytes received before it (the JSONL's records, a test socket's capture). */
export interface TimedEvent {
  event?: any;
  audioOffset?: number;
}

/** Sample windows between speech-update started and stopped for a role, shrunk by `margin` samples at each end. */
export function speechWindows(records: readonly TimedEvent[], role: string, blockAlign: number, margin: number): [number, number][] {
  const windows: [number, number][] = [];
  let start: number | undefined;
  for (const r of records) {
    if (r.event?.type !== 'speech-update' || r.event.role !== role) continue;
    // Frames may split samples, so an event can arrive mid-sample: round to whole samples.
    const sample = Math.floor((r.audioOffset ?? 0) / blockAlign);
    if (r.event.status === 'started') start = sample;
    else if (start !== undefined) {
      windows.push([start + margin, sample - margin]);
      start = undefined;
    }
  }
  return windows;
}

/** The metrics of a reading; fails the test when they were unavailable (source "error"). */
export function measured(reading: AudioReading): AudioMetrics {
  if (reading.source === 'error') throw new Error(`audio metrics unavailable: ${reading.reason}`);
  return reading;
}
