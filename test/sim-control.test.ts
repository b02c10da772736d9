import { describe, expect, it, vi } from 'vitest';
import { request } from 'undici';
import WebSocket from 'ws';
import type { ScriptTurn, Simulator, SimulatorOptions } from '../src/sim/index.js';
import { postCall, simulatorPool } from './helpers/sim.js';

const SCRIPT: ScriptTurn[] = [
  { role: 'customer', text: 'Hello, who is calling please?', pauseMs: 300 },
  { role: 'assistant', text: 'This is the clinic calling about your visit tomorrow.', pauseMs: 300 },
  { role: 'customer', text: 'Great, thanks for letting me know.', pauseMs: 300 },
];
const FIRST_MESSAGE = 'Hi there, this is Riley from the clinic.';
// Calls stay up after the script so each test decides how they end, and ring only once a listener is there, so
// it hears every word however slowly it connects.
const BASE: SimulatorOptions = { speed: 100, seed: 9, ringMs: 12_000, answerMs: 500, waitForListener: true, script: SCRIPT, hangupAfterScript: false };
const CALL_BODY = {
  assistantId: 'asst-1',
  phoneNumberId: 'pn-1',
  customer: { number: '+15550100' },
  assistantOverrides: { firstMessage: FIRST_MESSAGE },
};

const start = simulatorPool(BASE);
const createCall = (sim: Simulator, body: object = CALL_BODY) => postCall(sim, body);

async function control(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}

/** A listen socket collecting JSON events and per-channel audio energy. */
class Listener {
  readonly events: any[] = [];
  readonly closed: Promise<number>;
  readonly opened: Promise<void>;
  private readonly audio: Buffer[] = [];

  constructor(url: string) {
    const ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.audio.push(data);
      else this.events.push({ ...JSON.parse(data.toString()), audioBytes: this.audioLength() });
    });
  }

  audioLength(): number {
    return this.audio.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  finals(role?: string): string[] {
    return this.events
      .filter((event) => event.type === 'transcript' && event.transcriptType === 'final' && (!role || event.role === role))
      .map((event) => event.transcript);
  }

  statuses(): string[] {
    return this.events.filter((event) => event.type === 'status-update').map((event) => event.status);
  }

  /** Peak absolute sample of one stereo channel over a byte range of the stream. */
  channelPeak(index: number, fromByte = 0, toByte = Infinity): number {
    const audio = Buffer.concat(this.audio);
    let max = 0;
    const end = Math.min(audio.length, toByte) - 3;
    for (let offset = Math.ceil(fromByte / 4) * 4; offset < end; offset += 4) {
      max = Math.max(max, Math.abs(audio.readInt16LE(offset + index * 2)));
    }
    return max;
  }
}

/** A call and a listener on it; `beforeListening` runs while the call waits for the listener to ring. */
async function liveCall(sim: Simulator, body: object = CALL_BODY, beforeListening?: (call: any) => Promise<unknown>): Promise<{ call: any; listener: Listener }> {
  const call = await createCall(sim, body);
  await beforeListening?.(call);
  const listener = new Listener(call.monitor.listenUrl);
  await listener.opened;
  return { call, listener };
}

const until = (check: () => void) => vi.waitFor(check, { timeout: 15_000, interval: 5 });

describe('control: say', () => {
  it('makes the assistant speak the content (and the legacy message field)', async () => {
    const sim = await start();
    const { call, listener } = await liveCall(sim);
    await until(() => expect(listener.finals()).toContain(SCRIPT[2].text));
    const accepted = await control(call.monitor.controlUrl, { type: 'say', content: 'One moment please.' });
    expect(accepted).toEqual({ status: 200, body: { ok: true } });
    await until(() => expect(listener.finals('assistant')).toContain('One moment please.'));
    await control(call.monitor.controlUrl, { type: 'say', message: 'Legacy field works too.' });
    await until(() => expect(listener.finals('assistant')).toContain('Legacy field works too.'));
    expect(sim.controlLog.map((entry) => entry.body)).toEqual([
      { type: 'say', content: 'One moment please.' },
      { type: 'say', message: 'Legacy field works too.' },
    ]);
    expect(sim.controlLog[0].callId).toBe(call.id);
    expect(sim.requests.map((r) => r.path)).toEqual(['/call']); // control is not a REST request
  });

  it('with endCallAfterSpoken ends the call after speaking, and control then answers 404', async () => {
    const sim = await start();
    const { call, listener } = await liveCall(sim);
    await until(() => expect(listener.statuses()).toContain('in-progress'));
    await control(call.monitor.controlUrl, { type: 'say', content: 'Goodbye for now.', endCallAfterSpoken: true });
    expect(await listener.closed).toBe(1000);
    expect(listener.finals('assistant').at(-1)).toBe('Goodbye for now.');
    expect(listener.events.at(-1)).toMatchObject({ type: 'status-update', status: 'ended', endedReason: 'assistant-ended-call-after-message-spoken' });
    expect(sim.getCall(call.id)?.endedReason).toBe('assistant-ended-call-after-message-spoken');
    const late = await control(call.monitor.controlUrl, { type: 'say', content: 'Too late' });
    expect(late.status).toBe(404);
    expect(late.body).toMatchObject({ error: 'Not Found', statusCode: 404 });
    expect(late.body.message).toContain('ended');
  });

  it('with interruptAssistantEnabled cuts the assistant off mid-sentence', async () => {
    const long = 'Let me read you the full list of documents you will need to bring along with you tomorrow morning including your card.';
    const sim = await start({ speed: 20, ringMs: 2400, script: [{ role: 'assistant', text: long, pauseMs: 100 }] });
    const { call, listener } = await liveCall(sim, { ...CALL_BODY, assistantOverrides: { firstMessage: '' } });
    await until(() => expect(listener.events.some((event) => event.type === 'transcript' && event.transcriptType === 'partial')).toBe(true));
    await control(call.monitor.controlUrl, { type: 'say', content: 'Sorry, one moment.', interruptAssistantEnabled: true });
    await until(() => expect(listener.finals('assistant')).toContain('Sorry, one moment.'));
    const [cut, said] = listener.finals('assistant');
    expect(long.startsWith(cut)).toBe(true);
    expect(cut.length).toBeLessThan(long.length);
    expect(said).toBe('Sorry, one moment.');
  });
});

describe('control: add-message', () => {
  it('triggers a deterministic assistant reply by default and records the message', async () => {
    const sim = await start();
    const { call, listener } = await liveCall(sim);
    await until(() => expect(listener.finals()).toContain(SCRIPT[2].text));
    await control(call.monitor.controlUrl, { type: 'add-message', message: { role: 'system', content: 'The customer is a VIP.' } });
    await until(() => expect(listener.finals('assistant').some((text) => text.includes('The customer is a VIP'))).toBe(true));
    const update = listener.events.filter((event) => event.type === 'conversation-update').at(-1);
    expect(update.messages).toContainEqual(expect.objectContaining({ role: 'system', message: 'The customer is a VIP.' }));
    expect(update.messagesOpenAIFormatted).toContainEqual({ role: 'system', content: 'The customer is a VIP.' });
  });

  it('stays silent with triggerResponseEnabled false', async () => {
    const sim = await start();
    const { call, listener } = await liveCall(sim);
    await until(() => expect(listener.finals()).toContain(SCRIPT[2].text));
    const before = listener.finals('assistant').length;
    await control(call.monitor.controlUrl, {
      type: 'add-message',
      message: { role: 'user', content: 'Quietly noted.' },
      triggerResponseEnabled: false,
    });
    await control(call.monitor.controlUrl, { type: 'say', content: 'Marker.' });
    await until(() => expect(listener.finals('assistant')).toContain('Marker.'));
    expect(listener.finals('assistant').slice(before)).toEqual(['Marker.']);
    sim.hangup(call.id);
    expect(sim.getCall(call.id)?.messages).toContainEqual(expect.objectContaining({ role: 'user', message: 'Quietly noted.' }));
  });
});

describe('control: mute', () => {
  it('mute-assistant silences channel 1 and its transcripts until unmuted', async () => {
    // The customer speaks while the assistant is muted; once unmuted, the assistant is told to speak.
    const sim = await start({ script: [SCRIPT[0]] });
    const mute = (call: any) => control(call.monitor.controlUrl, { type: 'control', control: 'mute-assistant' });
    const { call, listener } = await liveCall(sim, CALL_BODY, mute); // before it rings
    await until(() => expect(listener.finals('user')).toContain(SCRIPT[0].text));
    expect(listener.finals('assistant')).toEqual([]);
    expect(listener.channelPeak(1)).toBe(0);
    expect(listener.channelPeak(0)).toBeGreaterThan(4000);
    await control(call.monitor.controlUrl, { type: 'control', control: 'unmute-assistant' });
    const unmutedAt = listener.audioLength();
    await control(call.monitor.controlUrl, { type: 'say', content: SCRIPT[1].text });
    await until(() => expect(listener.finals('assistant')).toEqual([SCRIPT[1].text]));
    sim.hangup(call.id);
    expect(await listener.closed).toBe(1000);
    expect(listener.finals('assistant')).toEqual([SCRIPT[1].text]);
    expect(listener.channelPeak(1, unmutedAt)).toBeGreaterThan(4000);
    expect(sim.getCall(call.id)?.artifact?.transcript).not.toContain(FIRST_MESSAGE);
  });

  it('mute-customer silences channel 0 and the customer transcripts', async () => {
    const sim = await start({ hangupAfterScript: true });
    const { listener } = await liveCall(sim, CALL_BODY, (call) => control(call.monitor.controlUrl, { type: 'control', control: 'mute-customer' }));
    expect(await listener.closed).toBe(1000);
    expect(listener.finals('user')).toEqual([]);
    expect(listener.finals('assistant')).toEqual([FIRST_MESSAGE, SCRIPT[1].text]);
    expect(listener.channelPeak(0)).toBe(0);
    expect(listener.channelPeak(1)).toBeGreaterThan(4000);
  });

  it('say-first-message repeats the first message', async () => {
    const sim = await start();
    const { call, listener } = await liveCall(sim);
    await until(() => expect(listener.finals()).toContain(SCRIPT[2].text));
    await control(call.monitor.controlUrl, { type: 'control', control: 'say-first-message' });
    await until(() => expect(listener.finals('assistant').filter((text) => text === FIRST_MESSAGE)).toHaveLength(2));
  });
});

describe('control: end-call and transfer', () => {
  it('end-call ends the call with assistant-ended-call and closes listeners with 1000', async () => {
    const sim = await start();
    const { call, listener } = await liveCall(sim);
    await until(() => expect(listener.statuses()).toContain('in-progress'));
    expect((await control(call.monitor.controlUrl, { type: 'end-call' })).status).toBe(200);
    expect(await listener.closed).toBe(1000);
    expect(listener.events.at(-1)).toMatchObject({ type: 'status-update', status: 'ended', endedReason: 'assistant-ended-call' });
    expect(sim.getCall(call.id)).toMatchObject({ status: 'ended', endedReason: 'assistant-ended-call' });
    expect((await control(call.monitor.controlUrl, { type: 'end-call' })).status).toBe(404);
  });

  it('transfer announces, goes forwarding, then ends with assistant-forwarded-call and the destination', async () => {
    const sim = await start();
    const { call, listener } = await liveCall(sim);
    await until(() => expect(listener.finals()).toContain(FIRST_MESSAGE));
    const destination = { type: 'number', number: '+15550199' };
    const res = await control(call.monitor.controlUrl, { type: 'transfer', destination, content: 'Transferring you now.' });
    expect(res.status).toBe(200);
    expect(await listener.closed).toBe(1000);
    const announced = listener.events.findIndex((event) => event.transcript === 'Transferring you now.' && event.transcriptType === 'final');
    const forwarding = listener.events.findIndex((event) => event.type === 'status-update' && event.status === 'forwarding');
    expect(announced).toBeGreaterThan(-1);
    expect(forwarding).toBeGreaterThan(announced);
    expect(listener.events[forwarding].destination).toEqual(destination);
    expect(listener.events).toContainEqual(expect.objectContaining({ type: 'transfer-update', destination }));
    expect(listener.statuses().slice(-2)).toEqual(['forwarding', 'ended']);
    expect(sim.getCall(call.id)).toMatchObject({ status: 'ended', endedReason: 'assistant-forwarded-call', destination });
  });

  it('transfer to a SIP URI without an announcement forwards at once', async () => {
    const sim = await start();
    const { call, listener } = await liveCall(sim);
    await until(() => expect(listener.statuses()).toContain('in-progress'));
    await control(call.monitor.controlUrl, { type: 'transfer', destination: { type: 'sip', sipUri: 'sip:desk@example.com' } });
    await listener.closed;
    // As announced on the listen socket (at speed 100, polling could find the call already ended).
    expect(listener.statuses().slice(-2)).toEqual(['forwarding', 'ended']);
    expect(sim.getCall(call.id)?.endedReason).toBe('assistant-forwarded-call');
  });
});

describe('control errors', () => {
  it('answers 400 with a NestJS body for unknown types and missing fields', async () => {
    const sim = await start();
    const call = await createCall(sim);
    const bad = [
      { type: 'dance' },
      {},
      { type: 'say' },
      { type: 'say', content: 42 },
      { type: 'add-message', message: { role: 'robot', content: 'x' } },
      { type: 'add-message' },
      { type: 'control', control: 'mute-everyone' },
      { type: 'transfer' },
      { type: 'transfer', destination: { type: 'number' } },
      { type: 'transfer', destination: { type: 'carrier-pigeon' } },
      '[1,2,3]',
      '{"type":',
    ];
    for (const body of bad) {
      const res = await control(call.monitor.controlUrl, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: 'Bad Request', statusCode: 400 });
    }
    expect(sim.controlLog).toHaveLength(bad.length);
    expect(sim.getCall(call.id)?.status).not.toBe('ended');
  });

  it('answers 404 for unknown calls and for calls without a control URL', async () => {
    const sim = await start();
    const unknown = await control(`${sim.baseUrl}/00000000-0000-4000-8000-000000000000/control`, { type: 'end-call' });
    expect(unknown).toEqual({ status: 404, body: { message: 'Call not found', error: 'Not Found', statusCode: 404 } });
    const disabled = await createCall(sim, { ...CALL_BODY, assistantOverrides: { monitorPlan: { controlEnabled: false } } });
    expect(disabled.monitor.controlUrl).toBeUndefined();
    expect((await control(`${sim.baseUrl}/${disabled.id}/control`, { type: 'end-call' })).status).toBe(404);
  });

  it('requires the public key when controlAuthenticationEnabled', async () => {
    const sim = await start({ publicKey: 'pub-9' });
    const call = await createCall(sim, {
      ...CALL_BODY,
      assistantOverrides: { monitorPlan: { controlAuthenticationEnabled: true } },
    });
    const anonymous = await control(call.monitor.controlUrl, { type: 'end-call' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('Unauthorized');
    expect((await control(call.monitor.controlUrl, { type: 'end-call' }, { authorization: `Bearer ${sim.apiKey}` })).status).toBe(401);
    expect(sim.getCall(call.id)?.status).not.toBe('ended');
    const ok = await control(call.monitor.controlUrl, { type: 'end-call' }, { authorization: 'Bearer pub-9' });
    expect(ok.status).toBe(200);
    expect(sim.getCall(call.id)?.endedReason).toBe('assistant-ended-call');
    expect(sim.controlLog[2].authorization).toBe('Bearer pub-9');
  });
});
