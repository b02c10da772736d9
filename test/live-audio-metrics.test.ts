/**
 * Voice-quality metrics measured by the real listener from the simulator's audio, compared with the simulator's
 * true speech intervals: the default call (response delays per seed, two interruptions, a dead-air gap) in every
 * stream variant that matters, with and without line hiss.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallListener } from '../src/live/listener.js';
import { silentLogger } from '../src/log.js';
import { DEAD_AIR_MS } from '../src/sim/script.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/sim/index.js';
import type { Call } from '../src/vapi/schemas.js';
import { measured } from './helpers/audio.js';
import { trueMetrics } from './helpers/speech-truth.js';

// Ringing only once the listener is there, so it hears the whole call from its start however slowly it connects.
const BASE: SimulatorOptions = { speed: 200, seed: 7, ringMs: 1000, answerMs: 1000, waitForListener: true };

let dir: string;
const simulators: Simulator[] = [];
const listeners: CallListener[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'audio-metrics-'));
});
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.stop()));
  await Promise.all(simulators.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function listenToWholeCall(options: SimulatorOptions): Promise<{ sim: Simulator; call: Call; listener: CallListener }> {
  const sim = await startSimulator({ ...BASE, ...options });
  simulators.push(sim);
  const auth = { authorization: `Bearer ${sim.apiKey}` };
  const res = await request(`${sim.baseUrl}/call`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ assistantId: 'asst-1', phoneNumberId: 'pn-1', customer: { number: '+15550100' } }),
  });
  expect(res.statusCode).toBe(201);
  const call = (await res.body.json()) as Call;
  const listener = new CallListener({
    callId: call.id,
    listenUrl: call.monitor!.listenUrl!,
    recordingsDir: dir,
    saveAudio: false,
    getCall: async (id) => (await (await request(`${sim.baseUrl}/call/${id}`, { headers: auth })).body.json()) as Call,
    logger: silentLogger,
    reconnect: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 20 },
    endGraceMs: 500,
  });
  listeners.push(listener);
  await listener.whenEnded();
  return { sim, call, listener };
}

const VARIANTS: [string, SimulatorOptions['listen']][] = [
  ['20 ms frames with a start frame', {}],
  ['line hiss at -60 dBFS', { noiseFloorDbfs: -60 }],
  ['frames of odd sizes that split samples, with hiss', { frameBytes: [333, 1280, 7, 4099], noiseFloorDbfs: -55 }],
  ['no start frame (default format)', { startFrame: false }],
  ['8 kHz with hiss', { sampleRate: 8000, noiseFloorDbfs: -60 }],
];

describe('metrics measured from stereo audio match the simulator', () => {
  it.each(VARIANTS)('%s', async (_name, listen) => {
    const { sim, call, listener } = await listenToWholeCall({ listen });
    const truth = trueMetrics(sim.speechIntervals(call.id));
    const audio = measured(listener.state().audio);

    expect(audio.source).toBe('audio');
    // The default call has the features the metrics are about.
    expect(truth.latenciesMs.length).toBeGreaterThanOrEqual(3);
    expect(truth.interruptions.map((i) => i.by)).toEqual(['customer', 'assistant']);
    expect(truth.longestSilenceMs).toBeGreaterThanOrEqual(DEAD_AIR_MS);

    // Every response latency within two 20 ms frames (the default call has at most five, all in `recent`).
    expect(audio.responseLatency.count).toBe(truth.latenciesMs.length);
    const latencies = audio.responseLatency.recent.map((turn) => turn.ms);
    expect(latencies.length).toBe(truth.latenciesMs.length);
    latencies.forEach((ms, i) => expect(Math.abs(ms - truth.latenciesMs[i])).toBeLessThanOrEqual(40));
    expect(Math.abs(audio.responseLatency.maxMs! - Math.max(...truth.latenciesMs))).toBeLessThanOrEqual(40);

    expect(audio.interruptions.count).toBe(truth.interruptions.length);
    expect(audio.interruptions.byCustomer).toBe(truth.interruptions.filter((i) => i.by === 'customer').length);
    expect(audio.interruptions.byAssistant).toBe(truth.interruptions.filter((i) => i.by === 'assistant').length);
    expect(audio.interruptions.recent.map((i) => i.by)).toEqual(truth.interruptions.map((i) => i.by));
    audio.interruptions.recent.forEach((record, i) => {
      expect(Math.abs(record.overlapMs! - truth.interruptions[i].overlapMs)).toBeLessThanOrEqual(40);
    });

    for (const party of ['customer', 'assistant'] as const) {
      const trueSeconds = truth.talkMs[party] / 1000;
      expect(Math.abs(audio.talkSeconds[party] - trueSeconds)).toBeLessThanOrEqual(trueSeconds * 0.02);
    }
    expect(Math.abs(audio.longestSilenceMs - truth.longestSilenceMs)).toBeLessThanOrEqual(40);
    expect(audio.talking).toEqual({ customer: false, assistant: false });
    if (listen?.noiseFloorDbfs === undefined) expect(audio.levels.customer!.rmsDbfs).toBe(-96);
    else expect(Math.abs(audio.levels.customer!.rmsDbfs - listen.noiseFloorDbfs)).toBeLessThanOrEqual(1.5);
  });
});

describe('mono streams', () => {
  it('fall back to the speech-update timings and say so', async () => {
    const { sim, call, listener } = await listenToWholeCall({ listen: { channels: 1, noiseFloorDbfs: -60 } });
    const truth = trueMetrics(sim.speechIntervals(call.id));
    const audio = measured(listener.state().audio);
    expect(audio.source).toBe('events');
    expect(audio.levels.mixed).toBeDefined();
    expect(audio.levels.customer).toBeUndefined();
    expect(audio.responseLatency.recent.map((t) => t.ms)).toEqual(truth.latenciesMs.map(Math.round));
    expect(audio.interruptions.recent.map((i) => i.by)).toEqual(['customer', 'assistant']);
    expect(Math.abs(audio.longestSilenceMs - truth.longestSilenceMs)).toBeLessThanOrEqual(1);
  });
});

describe('the event log', () => {
  it('ends with the final metrics', async () => {
    const { listener } = await listenToWholeCall({});
    const records = (await readFile(listener.transcriptPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    const metrics = records.find((r) => r.meta === 'metrics');
    expect(records.at(-2)).toBe(metrics);
    expect(metrics).toMatchObject({ source: 'audio', interruptions: { count: 2 } });
    expect(metrics.responseLatency).toEqual(measured(listener.state().audio).responseLatency);
  });
});
