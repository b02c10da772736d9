/**
 * Whatever arrives on the wire, the analyzer's metrics stay finite, non-negative where they cannot be negative,
 * and within what was analysed: any frames (digital silence, full scale, noise; any size, 8–48 kHz, mono or
 * stereo, formats that change mid-stream), interleaved in any order with speech-update, status and transcript
 * events whose timestamps may be missing, repeated, out of order or far off.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CallAudioAnalyzer, type AudioMetrics } from '../src/live/audio-analysis.js';

type Step =
  | { kind: 'format'; sampleRate: number; channels: number }
  | { kind: 'audio'; fill: 'zeros' | 'full-scale' | 'random' | 'one-channel'; bytes: number; seed: number }
  | { kind: 'event'; event: Record<string, unknown>; receivedAt: number }
  | { kind: 'end-of-connection' };

const sampleRate = fc.oneof(fc.constantFrom(8000, 16000, 24000, 44100, 48000), fc.integer({ min: 8000, max: 48000 }));
const formatStep = fc.record({ kind: fc.constant('format' as const), sampleRate, channels: fc.constantFrom(1, 2) });
const audioStep = fc.record({
  kind: fc.constant('audio' as const),
  fill: fc.constantFrom('zeros' as const, 'full-scale' as const, 'random' as const, 'one-channel' as const),
  bytes: fc.oneof(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 8, max: 4099 }), fc.integer({ min: 4100, max: 96_000 })),
  seed: fc.integer(),
});
const BASE = 1_765_000_000_000;
const timestamp = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: BASE - 60_000, max: BASE + 3_600_000 }),
  fc.constantFrom(0, -1, Number.NaN, Number.POSITIVE_INFINITY, -Number.MAX_VALUE, Number.MAX_VALUE, 1e300),
  fc.string({ maxLength: 4 }),
);
const role = fc.constantFrom('user', 'assistant', 'bot', 'system', undefined, 7);
const eventBody = fc.oneof(
  fc.record({
    type: fc.constant('speech-update'),
    status: fc.constantFrom('started', 'stopped', 'weird'),
    role,
    turn: fc.option(fc.integer({ min: -1, max: 50 }), { nil: undefined }),
    timestamp,
  }),
  fc.record({ type: fc.constant('status-update'), status: fc.constantFrom('ringing', 'in-progress', 'ended'), timestamp }),
  fc.record({ type: fc.constant('transcript'), role, transcriptType: fc.constantFrom('partial', 'final'), transcript: fc.string({ maxLength: 20 }), timestamp }),
);
const eventStep = fc.record({
  kind: fc.constant('event' as const),
  event: eventBody,
  receivedAt: fc.oneof(fc.integer({ min: BASE, max: BASE + 3_600_000 }), fc.constant(BASE)),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: formatStep },
  { weight: 5, arbitrary: audioStep },
  { weight: 4, arbitrary: eventStep },
  { weight: 1, arbitrary: fc.constant({ kind: 'end-of-connection' as const }) },
);

function frame(step: Extract<Step, { kind: 'audio' }>): Buffer {
  const buffer = Buffer.alloc(step.bytes);
  let state = step.seed | 1;
  for (let i = 0; i + 1 < buffer.length; i += 2) {
    let sample = 0;
    if (step.fill === 'full-scale') sample = (i >> 1) % 2 === 0 ? 32767 : -32768;
    else if (step.fill === 'random' || step.fill === 'one-channel') {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      sample = (state % 32768) | 0;
      // One channel speaks while the other is exact digital silence (an idle TTS channel).
      if (step.fill === 'one-channel' && (i >> 1) % 2 === 1) sample = 0;
    }
    buffer.writeInt16LE(sample, i);
  }
  return buffer;
}

function run(steps: Step[], initialFormat?: { sampleRate: number; channels: number }): AudioMetrics[] {
  const analyzer = new CallAudioAnalyzer();
  if (initialFormat) analyzer.setFormat(initialFormat);
  const readings: AudioMetrics[] = [];
  for (const s of steps) {
    if (s.kind === 'format') analyzer.setFormat(s);
    else if (s.kind === 'audio') analyzer.audio(frame(s));
    else if (s.kind === 'event') analyzer.event(s.event, s.receivedAt);
    else analyzer.endOfConnection();
    readings.push(analyzer.metrics());
  }
  analyzer.summaryLine();
  return readings;
}

/** Every invariant a reader of the metrics relies on. */
function checkInvariants(m: AudioMetrics): void {
  // What JSON carries is what was computed: NaN and Infinity would turn into null.
  expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  const numbers: number[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'number') numbers.push(value);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) collect(v);
  };
  collect(m);
  for (const n of numbers) expect(Number.isFinite(n)).toBe(true);

  expect(m.analyzedSeconds).toBeGreaterThanOrEqual(0);
  for (const party of ['customer', 'assistant'] as const) {
    expect(m.talkSeconds[party]).toBeGreaterThanOrEqual(0);
    expect(m.talkSeconds[party]).toBeLessThanOrEqual(m.analyzedSeconds);
  }
  if (m.assistantTalkShare !== undefined) {
    expect(m.assistantTalkShare).toBeGreaterThanOrEqual(0);
    expect(m.assistantTalkShare).toBeLessThanOrEqual(1);
  }
  expect(m.longestSilenceMs).toBeGreaterThanOrEqual(0);
  expect(m.deadAirMs).toBeGreaterThanOrEqual(m.longestSilenceMs);
  expect(m.longestSilenceMs).toBeLessThanOrEqual(Math.round(m.analyzedSeconds * 1000) + 50);
  const latency = m.responseLatency;
  expect(latency.count).toBeGreaterThanOrEqual(0);
  for (const value of [latency.p50Ms, latency.p90Ms, latency.maxMs]) if (value !== undefined) expect(value).toBeGreaterThanOrEqual(0);
  if (latency.count > 0) {
    expect(latency.p50Ms!).toBeLessThanOrEqual(latency.p90Ms!);
    expect(latency.p90Ms!).toBeLessThanOrEqual(latency.maxMs!);
  }
  for (const turn of latency.recent) {
    expect(turn.ms).toBeGreaterThanOrEqual(0);
    expect(turn.atSeconds).toBeGreaterThanOrEqual(0);
  }
  const interruptions = m.interruptions;
  expect(interruptions.count).toBe(interruptions.byCustomer + interruptions.byAssistant);
  for (const record of interruptions.recent) {
    expect(record.atSeconds).toBeGreaterThanOrEqual(0);
    if (record.overlapMs !== undefined) expect(record.overlapMs).toBeGreaterThanOrEqual(0);
  }
  for (const level of Object.values(m.levels)) {
    expect(level.rmsDbfs).toBeGreaterThanOrEqual(-96);
    expect(level.rmsDbfs).toBeLessThanOrEqual(0);
    expect(level.peakDbfs).toBeGreaterThanOrEqual(-96);
    expect(level.peakDbfs).toBeLessThanOrEqual(0);
    expect(level.clippedSamples).toBeGreaterThanOrEqual(0);
  }
}

describe('CallAudioAnalyzer properties', () => {
  it('keeps every metric finite and within bounds for any frames and events in any order', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.option(formatStep, { nil: undefined }), (steps, initial) => {
        for (const reading of run(steps, initial)) checkInvariants(reading);
      }),
      { numRuns: 400 },
    );
  });

  it('stays finite when speech events arrive before the first frame and one channel is digital silence', () => {
    // The call the simulator's default never produces: no start frame (the format comes with the first frame),
    // frames only while someone speaks, in bursts, the idle channel exact zeros.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 5000 }), (bursts, gapMs) => {
        const analyzer = new CallAudioAnalyzer();
        let at = BASE;
        bursts.forEach((frames, turn) => {
          const role = turn % 2 === 0 ? 'assistant' : 'user';
          const started: Record<string, unknown> = { type: 'speech-update', status: 'started', role, turn, timestamp: at };
          analyzer.event(started, at);
          analyzer.setFormat({ sampleRate: 16000, channels: 2 });
          for (let i = 0; i < frames; i++) analyzer.audio(frame({ kind: 'audio', fill: 'one-channel', bytes: 1280, seed: i + turn }));
          at += gapMs;
          const stopped: Record<string, unknown> = { type: 'speech-update', status: 'stopped', role, turn, timestamp: at };
          analyzer.event(stopped, at);
          checkInvariants(analyzer.metrics());
        });
      }),
      { numRuns: 200 },
    );
  });
});
