/**
 * Whole simulated calls through the real listener: every listen-format variant the simulator can produce, checked
 * against what it says it sent, down to which party is on which channel.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallListener } from '../src/live/listener.js';
import { silentLogger } from '../src/log.js';
import {
  ASSISTANT_CHANNEL,
  ASSISTANT_TONE_HZ,
  CUSTOMER_CHANNEL,
  CUSTOMER_TONE_HZ,
  TONE_PEAK_AMPLITUDE,
  type ListenOptions,
  type Simulator,
  type SimulatorOptions,
} from '../src/sim/index.js';
import type { Call } from '../src/vapi/schemas.js';
import { channel, frequency, peak, rms, speechWindows } from './helpers/audio.js';
import { CLINIC_CALL_BODY, CLINIC_FIRST_MESSAGE, CLINIC_SCRIPT, clinicSimulator, postCall, simApi, simulatorPool } from './helpers/sim.js';
import { parseWav } from './helpers/wav.js';
import { EVENTUALLY } from './helpers/wait.js';

const BASE = clinicSimulator(11);

let dir: string;
const startSim = simulatorPool(BASE);
const listeners: CallListener[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'live-sim-'));
});
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function startCall(options: SimulatorOptions = {}): Promise<{ sim: Simulator; call: Call; listener: CallListener }> {
  const sim = await startSim(options);
  const call = (await postCall(sim, CLINIC_CALL_BODY)) as Call;
  const getCall = async (id: string): Promise<Call> => (await simApi(sim, 'GET', `/call/${id}`)).body as Call;
  const listener = new CallListener({
    callId: call.id,
    listenUrl: call.monitor!.listenUrl!,
    recordingsDir: dir,
    saveAudio: true,
    getCall,
    logger: silentLogger,
    reconnect: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 20 },
    endGraceMs: 500,
  });
  listeners.push(listener);
  return { sim, call, listener };
}

interface EventRecord {
  receivedAt: number;
  audioOffset?: number;
  meta?: string;
  event?: { type: string; role?: string; status?: string };
  [k: string]: unknown;
}

async function readRecords(file: string): Promise<EventRecord[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as EventRecord);
}

/**
 * Checks every speech window (skipping any that straddles a reconnection gap): the speaker's channel carries its
 * tone, the other channel is digital silence. Returns the windows checked.
 */
function expectChannelMapping(data: Buffer, records: EventRecord[]): { customer: [number, number][]; assistant: [number, number][] } {
  const margin = 320; // one 20 ms frame at 16 kHz
  const gaps = records.filter((r) => r.meta === 'gap').map((r) => Math.floor((r.audioOffset ?? 0) / 4));
  const clean = (windows: [number, number][]) => windows.filter(([from, to]) => !gaps.some((g) => g >= from - margin && g <= to + margin));
  const customer = clean(speechWindows(records, 'user', 4, margin));
  const assistant = clean(speechWindows(records, 'assistant', 4, margin));
  const check = (windows: [number, number][], own: number, other: number, hz: number) => {
    for (const [from, to] of windows) {
      const samples = channel(data, 2, own, from, to);
      expect(peak(channel(data, 2, other, from, to))).toBe(0);
      expect(rms(samples)).toBeGreaterThan(3000);
      expect(frequency(samples, 16000)).toBeCloseTo(hz, -1);
    }
  };
  check(customer, CUSTOMER_CHANNEL, ASSISTANT_CHANNEL, CUSTOMER_TONE_HZ);
  check(assistant, ASSISTANT_CHANNEL, CUSTOMER_CHANNEL, ASSISTANT_TONE_HZ);
  return { customer, assistant };
}

const EXPECTED_LINES = [
  `assistant: ${CLINIC_FIRST_MESSAGE}`,
  ...CLINIC_SCRIPT.map((turn) => `${turn.role}: ${turn.text}`),
];

const VARIANTS: { name: string; listen: ListenOptions; expectFormat: { sampleRate: number; channels: number; source: string } }[] = [
  { name: 'defaults (start frame, bare events, 1280-byte frames)', listen: {}, expectFormat: { sampleRate: 16000, channels: 2, source: 'start-frame' } },
  {
    name: 'no start frame, wrapped events, 1/3/1279-byte frames',
    listen: { startFrame: false, wrapEvents: true, frameBytes: [1, 3, 1279] },
    expectFormat: { sampleRate: 16000, channels: 2, source: 'default' },
  },
  {
    name: 'start frame, bare events, 1/3/1279-byte frames',
    listen: { startFrame: true, frameBytes: [1, 3, 1279] },
    expectFormat: { sampleRate: 16000, channels: 2, source: 'start-frame' },
  },
  {
    name: '8 kHz mono, wrapped events, 1/3/1279-byte frames',
    listen: { sampleRate: 8000, channels: 1, wrapEvents: true, frameBytes: [1, 3, 1279] },
    expectFormat: { sampleRate: 8000, channels: 1, source: 'start-frame' },
  },
];

describe('listening to a simulated call', () => {
  it.each(VARIANTS)('$name: WAV bytes, header, transcript and auto-stop', async ({ listen, expectFormat }) => {
    const { sim, call, listener } = await startCall({ listen });
    await listener.whenEnded();

    const state = listener.state();
    expect(state).toMatchObject({ ended: true, endedReason: 'customer-ended-call', status: 'ended', listening: false, reconnects: 0, malformedFrames: 0 });
    expect(state.format).toEqual(expectFormat);
    expect(state.diskError).toBeUndefined();

    const sent = sim.audioBytesSent(call.id);
    expect(sent).toBeGreaterThan(100_000);
    expect(state.audioBytes).toBe(sent);
    const bytes = await readFile(state.audioPath!);
    const wav = parseWav(bytes);
    expect(wav.dataSize).toBe(sent);
    expect(wav.fileSize).toBe(44 + sent);
    expect(wav.chunkIds).toEqual(['fmt ', 'data']);
    expect({ sampleRate: wav.sampleRate, channels: wav.channels }).toEqual({ sampleRate: expectFormat.sampleRate, channels: expectFormat.channels });

    expect(listener.transcript.lines().map((l) => `${l.role}: ${l.text}`)).toEqual(EXPECTED_LINES);
    expect(listener.transcript.partials()).toEqual([]);
    const seconds = listener.transcript.lines().map((l) => l.secondsFromStart);
    expect([...seconds].sort((a, b) => a - b)).toEqual(seconds);

    const samples = channel(wav.data, wav.channels, 0);
    expect(peak(samples)).toBeGreaterThan(TONE_PEAK_AMPLITUDE * 0.9);
  });

  it('puts customer energy on the left channel only while the customer speaks, the assistant on the right', async () => {
    const { listener } = await startCall({ listen: { frameBytes: [1, 3, 1279] } });
    await listener.whenEnded();
    const { audioPath, transcriptPath } = listener.state();
    const wav = parseWav(await readFile(audioPath!));
    const records = await readRecords(transcriptPath);
    const { customer, assistant } = expectChannelMapping(wav.data, records);
    expect(customer).toHaveLength(2);
    expect(assistant).toHaveLength(2);
    const margin = 320;
    const firstSpeech = Math.min(customer[0][0], assistant[0][0]) - margin;
    expect(peak(channel(wav.data, 2, CUSTOMER_CHANNEL, 0, firstSpeech))).toBe(0);
    expect(peak(channel(wav.data, 2, ASSISTANT_CHANNEL, 0, firstSpeech))).toBe(0);
  });

  it('reconnects after the simulator drops the socket mid-call and keeps one byte-exact WAV', async () => {
    // The call only ends when told to, so the drop surely happens while it is live.
    const { sim, call, listener } = await startCall({ listen: { frameBytes: [1, 3, 1279] }, hangupAfterScript: false });
    await vi.waitFor(() => expect(listener.transcript.lines().length).toBeGreaterThanOrEqual(1), EVENTUALLY);
    sim.faults.dropListen(call.id);
    await vi.waitFor(() => expect(listener.state()).toMatchObject({ reconnects: 1, connected: true }), EVENTUALLY);
    // Whatever the simulator had queued at the drop is lost; something said now must arrive on the new connection.
    const said = await request(call.monitor!.controlUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'say', content: 'Are you still there?' }),
    });
    expect(said.statusCode).toBe(200);
    await said.body.dump();
    await vi.waitFor(() => expect(listener.transcript.lines().map((l) => l.text)).toContain('Are you still there?'), EVENTUALLY);
    sim.hangup(call.id);
    await listener.whenEnded();

    const state = listener.state();
    expect(state).toMatchObject({ ended: true, endedReason: 'customer-ended-call', reconnects: 1 });
    const sent = sim.audioBytesSent(call.id);
    expect(state.audioBytes).toBe(sent);
    const records = await readRecords(state.transcriptPath);
    // If the drop tore a sample, its block was completed with zeros (less than one block).
    const padding = records.reduce((sum, r) => sum + ((r.alignmentPaddingBytes as number | undefined) ?? 0), 0);
    expect(padding).toBeLessThan(4);
    const wav = parseWav(await readFile(state.audioPath!));
    expect(wav.dataSize).toBe(sent + padding);
    expect(wav.dataSize % 4).toBe(0);
    // Channels stay aligned after the reconnection.
    const { customer, assistant } = expectChannelMapping(wav.data, records);
    expect(customer.length + assistant.length).toBeGreaterThanOrEqual(2);

    const gaps = records.filter((r) => r.meta === 'gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ reconnectAttempt: 1 });
    expect(records.find((r) => r.meta === 'closed')).toMatchObject({ code: 1006 });
    // Utterances spoken during the gap may be lost; the ones heard are in order and not repeated.
    const heard = listener.transcript.lines().map((l) => `${l.role}: ${l.text}`);
    expect(heard[0]).toBe(EXPECTED_LINES[0]);
    expect(new Set(heard).size).toBe(heard.length);
    const scripted = heard.filter((line) => EXPECTED_LINES.includes(line));
    expect(scripted).toEqual(EXPECTED_LINES.filter((line) => scripted.includes(line)));
  });

  it('counts the simulator malformed frames and keeps the giant binary frame as audio', async () => {
    const { sim, call, listener } = await startCall({ hangupAfterScript: false });
    await vi.waitFor(() => expect(listener.state().audioBytes).toBeGreaterThan(0), EVENTUALLY);
    for (const kind of ['bad-json', 'unknown-event', 'giant-frame'] as const) sim.faults.sendMalformed(call.id, kind);
    await vi.waitFor(() => expect(listener.state().malformedFrames).toBe(1), EVENTUALLY);
    await vi.waitFor(() => expect(listener.state().audioBytes).toBeGreaterThan(1024 * 1024), EVENTUALLY);
    sim.hangup(call.id);
    await listener.whenEnded();
    const sent = sim.audioBytesSent(call.id);
    expect(listener.state().audioBytes).toBe(sent);
    expect(parseWav(await readFile(listener.state().audioPath!)).dataSize).toBe(sent);
    const records = await readRecords(listener.state().transcriptPath);
    expect(records.some((r) => r.event?.type === 'weird-future-event')).toBe(true);
  });
});
