/**
 * Live listening through the MCP surface: read_transcript's cursor and waits, the listen_call resource
 * (read, subscribe, throttled updates, listing, completion), stop_listening and the files on disk.
 */
import { ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { follow, startHarness, until, VALID_NUMBER, type Harness, type TranscriptRead } from './helpers/harness.js';
import { readWav } from './helpers/wav.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function place(args: Record<string, unknown> = {}): Promise<string> {
  return (await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER }, ...args })).callId;
}

describe('read_transcript', () => {
  it('follows a whole call with a cursor: every final line once, in order, from the first words', async () => {
    h = await startHarness({ sim: { speed: 100, waitForListener: true } });
    const callId = await place({ firstMessage: 'Hello, this is Riley from Northside Dental.' });
    const { last, lines } = await follow(h, callId, (read) => read.ended);
    expect(last.status).toBe('ended');
    expect(last.source).toBe('live');
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_l, i) => i + 1));
    expect(lines[0]).toMatchObject({ role: 'assistant', text: 'Hello, this is Riley from Northside Dental.' });
    expect(new Set(lines.map((l) => l.role))).toEqual(new Set(['customer', 'assistant']));
    const seconds = lines.map((l) => l.secondsFromStart);
    expect(seconds).toEqual([...seconds].sort((a, b) => a - b));

    // Read again from the start: the same lines; from the end: nothing new.
    const again = await h.ok<TranscriptRead>('read_transcript', { callId });
    expect(again.lines).toEqual(lines);
    const after = await h.ok<TranscriptRead>('read_transcript', { callId, sinceSeq: last.nextSeq });
    expect(after.lines).toEqual([]);
    expect(after.partials).toEqual([]);
  });

  it('returns early on news and at the deadline otherwise', async () => {
    h = await startHarness({
      sim: { speed: 20, hangupAfterScript: false, script: [{ role: 'customer', text: 'Hi there.' }] },
    });
    const callId = await place({ firstMessage: 'Good morning.' });
    const greeted = await follow(h, callId, (_r, lines) => lines.length >= 2);

    // Nothing more will be said: the wait runs to its deadline.
    const started = Date.now();
    const quiet = await h.ok<TranscriptRead>('read_transcript', { callId, sinceSeq: greeted.last.nextSeq, waitSeconds: 0.4 });
    const quietMs = Date.now() - started;
    expect(quiet.lines).toEqual([]);
    expect(quietMs).toBeGreaterThanOrEqual(380);

    // News (the assistant speaks injected words) ends a long wait early.
    const pending = h.ok<TranscriptRead>('read_transcript', { callId, sinceSeq: greeted.last.nextSeq, waitSeconds: 30 });
    await h.ok('inject_say', { callId, content: 'Are you still there?' });
    const news = await pending; // a wait that ran its 30 s would run into the test's timeout
    expect(news.lines.length > 0 || news.partials.length > 0 || news.status !== greeted.last.status).toBe(true);
  });

  it('honours cancellation of a long wait', async () => {
    h = await startHarness({ sim: { speed: 20, hangupAfterScript: false, script: [] } });
    const callId = await place();
    await follow(h, callId, (read) => read.status === 'in-progress');
    const controller = new AbortController();
    const call = h.client.callTool({ name: 'read_transcript', arguments: { callId, sinceSeq: 99, waitSeconds: 45 } }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    await expect(call).rejects.toThrow(); // a wait that ran its 45 s would run into the test's timeout
  });

  it("returns Vapi's record for a call that ended before anyone listened", async () => {
    h = await startHarness({ sim: { speed: 200 } });
    const callId = await place({ listen: false });
    // Wait for the end through get_call (this server is not listening).
    await until(async () => (await h.ok<{ status: string }>('get_call', { callId })).status === 'ended' || undefined, 10_000, 'the call to end');
    const read = await h.ok<TranscriptRead>('read_transcript', { callId });
    expect(read.source).toBe('vapi');
    expect(read.ended).toBe(true);
    expect(read.lines.length).toBeGreaterThan(1);
    const page = await h.ok<TranscriptRead>('read_transcript', { callId, sinceSeq: 2 });
    expect(page.lines[0].seq).toBe(2);
  });
});

describe('listen_call resource', () => {
  it('reads as text, lists listened calls, completes ids and notifies subscribers, throttled, ending on the final state', async () => {
    h = await startHarness({ sim: { speed: 60 } });
    let callId = '';
    /** For each notification received: whether the call's listener had reached its final state by then. */
    const updates: { final: boolean }[] = [];
    let listChanged = 0;
    h.client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => {
      updates.push({ final: h.server.core.listeners.get(callId)?.state().ended === true });
    });
    h.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      listChanged++;
    });

    callId = await place({ listen: false });
    const uri = `vapi://calls/${callId}/transcript`;
    await h.client.subscribeResource({ uri }); // starts the listener
    const listed = await h.client.listResources();
    expect(listed.resources.map((r) => r.uri)).toContain(uri);

    const completion = await h.client.complete({
      ref: { type: 'ref/resource', uri: 'vapi://calls/{callId}/transcript' },
      argument: { name: 'callId', value: callId.slice(0, 6) },
    });
    expect(completion.completion.values).toContain(callId);

    await follow(h, callId, (read) => read.ended);
    // The last change is always announced: a notification arrives once the listener reached its final state.
    await until(() => updates.some((update) => update.final) || undefined, 15_000, 'a notification of the final state');
    const text = (await h.client.readResource({ uri })).contents[0] as { text: string };
    expect(typeof text.text).toBe('string');
    expect(text.text).toContain(callId);
    expect(text.text).toMatch(/ended/);
    expect(text.text).toMatch(/^Assistant: /m);
    expect(text.text).toMatch(/^Customer: /m);

    expect(updates.length).toBeGreaterThan(2);
    // Throttled at the sender: at least 100 ms apart when sent (when received, a busy machine can bunch them up;
    // unthrottled, they would leave in bursts a few milliseconds apart).
    const sentAt = h.wire
      .map((message, i) => ({ message: JSON.parse(message) as { method?: string; params?: { uri?: string } }, at: h.wireSentAt[i] }))
      .filter(({ message }) => message.method === 'notifications/resources/updated' && message.params?.uri === uri)
      .map(({ at }) => at);
    expect(sentAt.length).toBeGreaterThan(2);
    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(98); // the throttle counts whole milliseconds of Date.now()
    expect(listChanged).toBeGreaterThan(0);
  });

  it('refuses URIs that do not name a call', async () => {
    h = await startHarness();
    await expect(h.client.readResource({ uri: 'vapi://calls/not-a-call/transcript' })).rejects.toThrow(/not a Vapi call id/);
    await expect(h.client.readResource({ uri: 'vapi://calls/7420f27a-0000-4000-8000-000000000001/transcript' })).rejects.toThrow(/not found/);
  });
});

describe('audio on disk', () => {
  it('auto-stops at the end with a final WAV holding every byte the call sent', async () => {
    h = await startHarness({ sim: { speed: 100, waitForListener: true } });
    const callId = await place();
    await follow(h, callId, (read) => read.ended);
    const listener = h.server.core.listeners.get(callId)!;
    await listener.whenEnded();
    const state = listener.state();
    expect(state.listening).toBe(false);
    const wav = readWav(state.audioPath!);
    expect(wav).toMatchObject({ sampleRate: 16000, channels: 2, bitsPerSample: 16, dataIsLast: true });
    expect(wav.dataSize).toBe(h.sim.audioBytesSent(callId));
    expect(state.audioBytes).toBe(h.sim.audioBytesSent(callId));
  });

  it('stop_listening finalises the files early and the call goes on', async () => {
    h = await startHarness({ sim: { speed: 20, hangupAfterScript: false } });
    const callId = await place();
    await follow(h, callId, (_r, lines) => lines.length >= 1);
    const stopped = await h.ok<{ listening: { active: boolean; audioPath: string; audioBytes: number; durationSeconds: number } }>(
      'stop_listening',
      { callId },
    );
    expect(stopped.listening.active).toBe(false);
    const wav = readWav(stopped.listening.audioPath);
    expect(wav.dataSize).toBe(Math.ceil(stopped.listening.audioBytes / 4) * 4); // a partial last block is zero-padded
    expect(stopped.listening.durationSeconds).toBeCloseTo(wav.dataSize / 64000, 1);
    expect(h.sim.getCall(callId)!.status).toBe('in-progress');
    const again = await h.err('stop_listening', { callId: '7420f27a-0000-4000-8000-000000000009' });
    expect(again.code).toBe('not-listening');
  });

  it('listens to many calls at once, one listener and one WAV each', async () => {
    h = await startHarness({ sim: { speed: 100, waitForListener: true } });
    const ids = await Promise.all(Array.from({ length: 8 }, () => place()));
    await Promise.all(ids.map((id) => follow(h, id, (read) => read.ended, 30_000)));
    for (const id of ids) {
      const listener = h.server.core.listeners.get(id)!;
      await listener.whenEnded();
      expect(readWav(listener.state().audioPath!).dataSize).toBe(h.sim.audioBytesSent(id));
    }
    // Asking again for a listened call returns the same listener.
    const again = await h.ok<{ listening: { audioPath: string } }>('listen_call', { callId: ids[0] });
    expect(again.listening.audioPath).toBe(h.server.core.listeners.get(ids[0])!.state().audioPath);
  });
});
