import { describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import {
  ASSISTANT_TONE_HZ,
  CUSTOMER_TONE_HZ,
  TONE_PEAK_AMPLITUDE,
  type Simulator,
} from '../src/sim/index.js';
import { channel, frequency, peak, rms, speechWindows } from './helpers/audio.js';
import { CLINIC_CALL_BODY, CLINIC_SCRIPT, clinicSimulator, postCall, simulatorPool } from './helpers/sim.js';
import { EVENTUALLY } from './helpers/wait.js';

const CALL_BODY = CLINIC_CALL_BODY;
const BASE = clinicSimulator(5);

const start = simulatorPool(BASE);
const createCall = (sim: Simulator, body: object = CALL_BODY) => postCall(sim, body);

type Frame = { kind: 'text'; text: string } | { kind: 'binary'; data: Buffer };
interface ListenEventRecord {
  event: any;
  /** Audio bytes received before this event. */
  audioOffset: number;
}

/** A listen socket that records every frame in arrival order. */
class Capture {
  readonly frames: Frame[] = [];
  readonly events: ListenEventRecord[] = [];
  bytes = 0;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly ws: WebSocket;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        this.frames.push({ kind: 'binary', data });
        this.bytes += data.length;
      } else {
        const text = data.toString('utf8');
        this.frames.push({ kind: 'text', text });
        try {
          const parsed = JSON.parse(text);
          this.events.push({ event: parsed.message ?? parsed, audioOffset: this.bytes });
        } catch {
          // malformed frames stay in `frames` only
        }
      }
    });
  }

  audio(): Buffer {
    return Buffer.concat(this.frames.flatMap((frame) => (frame.kind === 'binary' ? [frame.data] : [])));
  }

  binarySizes(): number[] {
    return this.frames.flatMap((frame) => (frame.kind === 'binary' ? [frame.data.length] : []));
  }

  typed(type: string): any[] {
    return this.events.filter((record) => record.event.type === type).map((record) => record.event);
  }
}

async function listenToWholeCall(sim: Simulator, body: object = CALL_BODY): Promise<{ call: any; capture: Capture }> {
  const call = await createCall(sim, body);
  const capture = new Capture(call.monitor.listenUrl);
  await capture.opened;
  return { call, capture };
}

/** The HTTP status a rejected handshake answered with. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('handshake unexpectedly succeeded'));
    });
    ws.on('error', () => {});
  });
}

describe('listen stream', () => {
  it('sends a start frame, 20 ms stereo frames, events, then status-update ended and close 1000', async () => {
    const sim = await start();
    const { call, capture } = await listenToWholeCall(sim);
    const { code } = await capture.closed;
    expect(code).toBe(1000);
    expect(capture.frames[0]).toEqual({
      kind: 'text',
      text: JSON.stringify({ type: 'start', encoding: 'linear16', container: 'raw', sampleRate: 16000, channels: 2 }),
    });
    const sizes = capture.binarySizes();
    expect(sizes.length).toBeGreaterThan(100);
    expect(sizes.slice(0, -1).every((size) => size === 1280)).toBe(true);
    expect(capture.bytes).toBe(sim.audioBytesSent(call.id));
    expect(capture.bytes % 4).toBe(0);
    const last = capture.frames.at(-1)!;
    expect(last.kind).toBe('text');
    expect(JSON.parse((last as { text: string }).text)).toMatchObject({
      type: 'status-update',
      status: 'ended',
      endedReason: 'customer-ended-call',
    });
    expect(capture.typed('status-update').map((event) => event.status)).toEqual(['ringing', 'in-progress', 'ended']);
    // Audio covers exactly the answered part of the call.
    const ended = sim.getCall(call.id)!;
    const answeredMs = Date.parse(ended.endedAt!) - Date.parse(ended.startedAt!);
    expect(Math.abs(capture.bytes / 64 - answeredMs)).toBeLessThanOrEqual(2);
  });

  it('sends transcripts as speech-update, cumulative partials, final, stopped and conversation-update', async () => {
    const sim = await start();
    const { capture } = await listenToWholeCall(sim);
    await capture.closed;
    const speech = capture.events
      .map((record) => record.event)
      .filter((event) => ['speech-update', 'transcript', 'conversation-update'].includes(event.type));
    const firstTurn = speech.slice(0, speech.findIndex((event) => event.type === 'conversation-update') + 1);
    expect(firstTurn[0]).toMatchObject({ type: 'speech-update', status: 'started', role: 'assistant', turn: 0 });
    const partials = firstTurn.filter((event) => event.transcriptType === 'partial');
    expect(partials.length).toBeGreaterThanOrEqual(1);
    const final = firstTurn.find((event) => event.transcriptType === 'final');
    expect(final).toMatchObject({ role: 'assistant', transcript: 'Hi there, this is Riley from the clinic.' });
    for (const partial of partials) expect(final.transcript.startsWith(partial.transcript)).toBe(true);
    expect(typeof final.timestamp).toBe('number');
    expect(firstTurn.at(-2)).toMatchObject({ type: 'speech-update', status: 'stopped', role: 'assistant' });
    expect(firstTurn.at(-1).messages).toEqual([expect.objectContaining({ role: 'bot', message: final.transcript })]);
    expect(firstTurn.at(-1).messagesOpenAIFormatted).toEqual([{ role: 'assistant', content: final.transcript }]);
    const finals = capture.typed('transcript').filter((event) => event.transcriptType === 'final');
    expect(finals.map((event) => `${event.role}: ${event.transcript}`)).toEqual([
      'assistant: Hi there, this is Riley from the clinic.',
      ...CLINIC_SCRIPT.map((turn) => `${turn.role === 'customer' ? 'user' : 'assistant'}: ${turn.text}`),
    ]);
  });

  it('can leave out the start frame', async () => {
    const sim = await start({ listen: { startFrame: false } });
    const { capture } = await listenToWholeCall(sim);
    await capture.closed;
    expect(capture.bytes).toBeGreaterThan(0);
    expect(capture.typed('start')).toEqual([]);
    expect(capture.typed('status-update').at(-1).status).toBe('ended');
  });

  it('wraps events in {"message": …} when asked, but never the start frame', async () => {
    const sim = await start({ listen: { wrapEvents: true } });
    const { capture } = await listenToWholeCall(sim);
    await capture.closed;
    const texts = capture.frames.flatMap((frame) => (frame.kind === 'text' ? [JSON.parse(frame.text)] : []));
    expect(texts[0].type).toBe('start');
    expect(texts.length).toBeGreaterThan(10);
    for (const wrapped of texts.slice(1)) {
      expect(Object.keys(wrapped)).toEqual(['message']);
      expect(typeof wrapped.message.type).toBe('string');
    }
  });

  it('cycles odd frame sizes, splitting samples, without changing the byte stream', async () => {
    const odd = await start({ listen: { frameBytes: [1, 3, 1279] } });
    const even = await start();
    const [a, b] = await Promise.all([listenToWholeCall(odd), listenToWholeCall(even)]);
    await Promise.all([a.capture.closed, b.capture.closed]);
    const sizes = a.capture.binarySizes();
    const pattern = [1, 3, 1279];
    expect(sizes.slice(0, -1).every((size, i) => size === pattern[i % 3])).toBe(true);
    expect(sizes.at(-1)).toBeLessThanOrEqual(pattern[(sizes.length - 1) % 3]);
    expect(a.capture.bytes).toBe(odd.audioBytesSent(a.call.id));
    // Same seed, same inputs: the concatenated audio is identical whatever the framing.
    expect(a.capture.audio().equals(b.capture.audio())).toBe(true);
  });

  it('streams 8 kHz mono when configured', async () => {
    const sim = await start({ listen: { sampleRate: 8000, channels: 1 } });
    const { call, capture } = await listenToWholeCall(sim);
    await capture.closed;
    expect(JSON.parse((capture.frames[0] as { text: string }).text)).toMatchObject({ sampleRate: 8000, channels: 1 });
    expect(capture.binarySizes().slice(0, -1).every((size) => size === 320)).toBe(true);
    const ended = sim.getCall(call.id)!;
    const answeredMs = Date.parse(ended.endedAt!) - Date.parse(ended.startedAt!);
    expect(Math.abs(capture.bytes / 16 - answeredMs)).toBeLessThanOrEqual(2);
    const samples = channel(capture.audio(), 1, 0);
    expect(peak(samples)).toBeGreaterThan(TONE_PEAK_AMPLITUDE * 0.9);
    expect(peak(samples)).toBeLessThanOrEqual(TONE_PEAK_AMPLITUDE);
  });

  it('puts customer speech only on channel 0 and assistant speech only on channel 1', async () => {
    const sim = await start();
    const { capture } = await listenToWholeCall(sim);
    await capture.closed;
    const audio = capture.audio();
    const margin = 320; // one 20 ms frame
    const customer = speechWindows(capture.events, 'user', 4, margin);
    const assistant = speechWindows(capture.events, 'assistant', 4, margin);
    expect(customer).toHaveLength(2);
    expect(assistant).toHaveLength(2);
    for (const [from, to] of customer) {
      const left = channel(audio, 2, 0, from, to);
      expect(peak(channel(audio, 2, 1, from, to))).toBe(0);
      expect(rms(left)).toBeGreaterThan(3000);
      expect(frequency(left, 16000)).toBeCloseTo(CUSTOMER_TONE_HZ, -1);
    }
    for (const [from, to] of assistant) {
      const right = channel(audio, 2, 1, from, to);
      expect(peak(channel(audio, 2, 0, from, to))).toBe(0);
      expect(rms(right)).toBeGreaterThan(3000);
      expect(frequency(right, 16000)).toBeCloseTo(ASSISTANT_TONE_HZ, -1);
    }
    // Before the first utterance (the pause after answering) both channels are digital silence.
    const firstSpeech = Math.min(customer[0][0], assistant[0][0]) - margin;
    expect(peak(channel(audio, 2, 0, 0, firstSpeech))).toBe(0);
    expect(peak(channel(audio, 2, 1, 0, firstSpeech))).toBe(0);
  });

  it('serves several listeners at once and sums their bytes; a late joiner hears the rest of the call', async () => {
    const sim = await start({ ringMs: 20_000, speed: 100 });
    const { call, capture: early } = await listenToWholeCall(sim);
    await vi.waitFor(() => expect(early.typed('transcript').length).toBeGreaterThan(0), EVENTUALLY);
    const late = new Capture(call.monitor.listenUrl);
    await late.opened;
    await Promise.all([early.closed, late.closed]);
    expect(late.bytes).toBeGreaterThan(0);
    expect(late.bytes).toBeLessThan(early.bytes);
    expect(sim.audioBytesSent(call.id)).toBe(early.bytes + late.bytes);
    const earlyAudio = early.audio();
    expect(late.audio().equals(earlyAudio.subarray(earlyAudio.length - late.bytes))).toBe(true);
    expect(late.typed('status-update').at(-1).status).toBe('ended');
  });
});

describe('listen handshake', () => {
  it('rejects unknown calls, ended calls and other paths with 404', async () => {
    const sim = await start();
    expect(await upgradeStatus(`ws://127.0.0.1:${sim.port}/00000000-0000-4000-8000-000000000000/listen`)).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${sim.port}/not-a-call/listen`)).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${sim.port}/somewhere`)).toBe(404);
    const call = await createCall(sim);
    sim.hangup(call.id);
    expect(sim.getCall(call.id)?.endedReason).toBe('customer-ended-call');
    expect(await upgradeStatus(call.monitor.listenUrl)).toBe(404);
  });

  it('requires the public key when listenAuthenticationEnabled', async () => {
    const sim = await start({ publicKey: 'pub-123' });
    const call = await createCall(sim, {
      ...CALL_BODY,
      assistantOverrides: { monitorPlan: { listenEnabled: true, listenAuthenticationEnabled: true } },
    });
    expect(await upgradeStatus(call.monitor.listenUrl)).toBe(401);
    expect(await upgradeStatus(call.monitor.listenUrl, { authorization: `Bearer ${sim.apiKey}` })).toBe(401);
    const capture = new Capture(call.monitor.listenUrl, { authorization: 'Bearer pub-123' });
    await capture.opened;
    // Without authentication enabled, no header is needed.
    const open = await createCall(sim);
    const anonymous = new Capture(open.monitor.listenUrl);
    await anonymous.opened;
  });
});

describe('listen faults', () => {
  it('dropListen cuts the socket without a close frame and the call goes on', async () => {
    const sim = await start({ hangupAfterScript: false });
    const { call, capture } = await listenToWholeCall(sim);
    await vi.waitFor(() => expect(capture.bytes).toBeGreaterThan(0), EVENTUALLY);
    sim.faults.dropListen(call.id);
    const { code } = await capture.closed;
    expect(code).toBe(1006);
    expect(capture.typed('status-update').map((event) => event.status)).not.toContain('ended');
    expect(sim.getCall(call.id)?.status).toBe('in-progress');
    const bytesBefore = sim.audioBytesSent(call.id);
    const again = new Capture(call.monitor.listenUrl);
    await again.opened;
    await vi.waitFor(() => expect(again.bytes).toBeGreaterThan(0), EVENTUALLY);
    sim.hangup(call.id);
    expect(await again.closed).toEqual({ code: 1000, reason: 'call ended' });
    expect(sim.audioBytesSent(call.id)).toBe(bytesBefore + again.bytes);
  });

  it('rejectListenUpgrades fails the next N handshakes (500 by default)', async () => {
    const sim = await start();
    const call = await createCall(sim);
    sim.faults.rejectListenUpgrades(2);
    sim.faults.rejectListenUpgrades(1, 503);
    expect(await upgradeStatus(call.monitor.listenUrl)).toBe(500);
    expect(await upgradeStatus(call.monitor.listenUrl)).toBe(500);
    expect(await upgradeStatus(call.monitor.listenUrl)).toBe(503);
    const capture = new Capture(call.monitor.listenUrl);
    await capture.opened;
  });

  it('sendMalformed sends bad JSON, a truncated binary frame, a 1 MiB frame and an unknown event', async () => {
    const sim = await start({ hangupAfterScript: false });
    const { call, capture } = await listenToWholeCall(sim);
    await vi.waitFor(() => expect(capture.bytes).toBeGreaterThan(0), EVENTUALLY);
    for (const kind of ['bad-json', 'truncated-binary', 'giant-frame', 'unknown-event'] as const) {
      sim.faults.sendMalformed(call.id, kind);
    }
    await vi.waitFor(() => expect(capture.typed('weird-future-event')).toHaveLength(1), EVENTUALLY);
    expect(capture.frames).toContainEqual({ kind: 'text', text: '{not json' });
    const sizes = capture.binarySizes();
    expect(sizes).toContain(3);
    expect(sizes).toContain(1024 * 1024);
    const giant = capture.frames.find((frame) => frame.kind === 'binary' && frame.data.length === 1024 * 1024);
    expect((giant as { data: Buffer }).data.every((byte) => byte === 0)).toBe(true);
    expect(capture.typed('weird-future-event')[0]).toEqual({ type: 'weird-future-event', x: 1 });
    sim.hangup(call.id);
    await capture.closed;
    expect(capture.bytes).toBe(sim.audioBytesSent(call.id));
  });
});

describe('determinism', () => {
  it('the same seed gives the same ids, event sequence and audio; another seed different ids', async () => {
    const runs = await Promise.all(
      [5, 5, 6].map(async (seed) => {
        const sim = await start({ seed, script: undefined, speed: 400, ringMs: 80_000 });
        const { call, capture } = await listenToWholeCall(sim);
        await capture.closed;
        const events = capture.events
          .map((record) => record.event)
          .filter((event) => event.type === 'transcript' || event.type === 'speech-update')
          .map(({ timestamp: _timestamp, ...rest }) => rest);
        // A call id starts with its creation time (UUIDv7); the rest comes from the seed.
        return { id: call.id.slice(14), orgId: call.orgId, events, audio: createHash('sha256').update(capture.audio()).digest('hex') };
      }),
    );
    expect(runs[0].events.length).toBeGreaterThan(40);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2].id).not.toBe(runs[0].id);
  });
});

describe('wire conditions', () => {
  /** The audible stretches of the call (either party), merged, in samples since answer at `rate`. */
  function audibleSamples(sim: Simulator, callId: string, rate: number): [number, number][] {
    const merged: [number, number][] = [];
    const toSample = (ms: number) => Math.round((ms * rate) / 1000);
    for (const { startMs, endMs } of [...sim.speechIntervals(callId)].sort((a, b) => a.startMs - b.startMs)) {
      const last = merged.at(-1);
      if (last && toSample(startMs) <= last[1]) last[1] = Math.max(last[1], toSample(endMs));
      else merged.push([toSample(startMs), toSample(endMs)]);
    }
    return merged;
  }

  it("frames: 'while-speaking' sends binary frames only while someone is audible: exactly the continuous stream's audible stretches", async () => {
    const [sparse, full] = await Promise.all([start({ listen: { frames: 'while-speaking' } }), start()]);
    const [a, b] = await Promise.all([listenToWholeCall(sparse), listenToWholeCall(full)]);
    await Promise.all([a.capture.closed, b.capture.closed]);
    // Walking the socket in order: no binary frame arrives while no party is between speech-update started and stopped.
    const speaking = new Set<string>();
    let framesWhileSilent = 0;
    let framesWhileSpeaking = 0;
    for (const frame of a.capture.frames) {
      if (frame.kind === 'binary') {
        if (speaking.size === 0) framesWhileSilent++;
        else framesWhileSpeaking++;
        continue;
      }
      const event = JSON.parse(frame.text);
      if (event.type !== 'speech-update') continue;
      if (event.status === 'started') speaking.add(event.role);
      else speaking.delete(event.role);
    }
    expect(framesWhileSpeaking).toBeGreaterThan(100);
    expect(framesWhileSilent).toBe(0);
    expect(a.capture.bytes).toBe(sparse.audioBytesSent(a.call.id));
    // The bytes are the continuous stream with the silent stretches cut out, sample for sample.
    const stretches = audibleSamples(sparse, a.call.id, 16000);
    expect(stretches.length).toBeGreaterThanOrEqual(4);
    const continuous = b.capture.audio();
    const expected = Buffer.concat(stretches.map(([from, to]) => continuous.subarray(from * 4, to * 4)));
    expect(a.capture.bytes).toBeLessThan(continuous.length * 0.8);
    expect(a.capture.audio().equals(expected)).toBe(true);
  });

  it('stalls hold the audio frames back for holdMs, then send them at once; events are not held and no byte is lost', async () => {
    const stalls = { everyMs: 2000, holdMs: 1200 };
    const [stalled, steady] = await Promise.all([start({ listen: { stalls } }), start()]);
    const [a, b] = await Promise.all([listenToWholeCall(stalled), listenToWholeCall(steady)]);
    await Promise.all([a.capture.closed, b.capture.closed]);
    expect(a.capture.audio().equals(b.capture.audio())).toBe(true);
    expect(a.capture.bytes).toBe(stalled.audioBytesSent(a.call.id));
    // Lag of the audio behind each event: how much of the call it stood for had not arrived yet.
    const answeredAt = a.capture.typed('status-update').find((event) => event.status === 'in-progress').timestamp;
    const frameMs = 20;
    let lagged = 0;
    for (const { event, audioOffset } of a.capture.events) {
      if (typeof event.timestamp !== 'number' || event.timestamp <= answeredAt || event.type === 'status-update') continue;
      const ms = event.timestamp - answeredAt;
      const heardMs = audioOffset / 64;
      const stall = Math.floor(ms / stalls.everyMs);
      const inStall = stall >= 1 && ms - stall * stalls.everyMs < stalls.holdMs;
      // Inside a stall the audio stops where the stall began; outside, it is as current as without stalls.
      const expectedMs = inStall ? stall * stalls.everyMs : ms;
      expect(Math.abs(heardMs - expectedMs), `${event.type} at ${ms} ms`).toBeLessThanOrEqual(2 * frameMs);
      if (inStall && ms - expectedMs > 300) lagged++;
    }
    expect(lagged).toBeGreaterThanOrEqual(3);
  });

  it('leaves the turn number out of speech-update when speechUpdateTurn is false', async () => {
    const [without, withTurn] = await Promise.all([start({ listen: { speechUpdateTurn: false } }), start()]);
    const [a, b] = await Promise.all([listenToWholeCall(without), listenToWholeCall(withTurn)]);
    await Promise.all([a.capture.closed, b.capture.closed]);
    const bare = a.capture.typed('speech-update');
    expect(bare.length).toBeGreaterThanOrEqual(8);
    for (const event of bare) expect(Object.keys(event).sort()).toEqual(['role', 'status', 'timestamp', 'type']);
    expect(b.capture.typed('speech-update').map((event) => event.turn)).toEqual(bare.map((_, i) => Math.floor(i / 2)));
  });

  it('refuses frames and stalls it cannot honour', async () => {
    await expect(start({ listen: { frames: 'sometimes' as 'continuous' } })).rejects.toThrow(/listen\.frames/);
    await expect(start({ listen: { stalls: { everyMs: 1000, holdMs: 1000 } } })).rejects.toThrow(/listen\.stalls/);
    await expect(start({ listen: { stalls: { everyMs: 1000, holdMs: 0 } } })).rejects.toThrow(/listen\.stalls/);
  });
});
