/**
 * Every call tool through a real SDK Client against the simulator over real sockets: happy paths, the exact
 * bodies that reach Vapi, and each error path. structuredContent is validated by the client against each
 * tool's outputSchema (the harness lists tools first).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { follow, startHarness, VALID_NUMBER, type Harness } from './helpers/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

interface Created {
  callId: string;
  status: string;
  transcriptUri: string;
  listening?: { active: boolean; audioPath?: string; transcriptPath?: string };
  monitor: { listen: boolean; control: boolean };
  call: { id: string; customerNumber: string };
  idempotencyKey: string;
}

function posts(sim: Harness['sim']) {
  return sim.requests.filter((r) => r.method === 'POST' && r.path === '/call');
}

async function liveCall(args: Record<string, unknown> = {}): Promise<string> {
  const created = await h.ok<Created>('create_call', { customer: { number: VALID_NUMBER }, ...args });
  await follow(h, created.callId, (read) => read.status === 'in-progress');
  return created.callId;
}

describe('create_call', () => {
  it('places a monitorable call, listens at once, and names the transcript resource in the JSON', async () => {
    h = await startHarness();
    const result = await h.callTool('create_call', { customer: { number: '+1 (415) 555-2671', name: 'Ada' }, firstMessage: 'Hi Ada!' });
    expect(result.isError).toBeFalsy();
    const created = result.structuredContent as unknown as Created;
    expect(created.callId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.status).toBe('queued');
    expect(created.call.customerNumber).toBe(VALID_NUMBER);
    expect(created.monitor).toEqual({ listen: true, control: true });
    expect(created.transcriptUri).toBe(`vapi://calls/${created.callId}/transcript`);
    expect(created.listening?.active).toBe(true);
    expect(created.listening?.audioPath).toBe(`${h.recordingsDir}/${created.callId}.wav`);
    // One text block, the content type every framework takes, carrying the same JSON as structuredContent.
    expect(result.content.map((block) => block.type)).toEqual(['text']);
    expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual(result.structuredContent);

    const [post] = posts(h.sim);
    expect(post.body).toEqual({
      phoneNumberId: 'phone-test',
      assistantId: 'assistant-test',
      customer: { number: VALID_NUMBER, name: 'Ada' },
      assistantOverrides: {
        firstMessage: 'Hi Ada!',
        monitorPlan: { listenEnabled: true, controlEnabled: true },
        maxDurationSeconds: 600,
        metadata: { idempotencyKey: created.idempotencyKey },
      },
    });
    expect(post.authorization).toBe(`Bearer ${h.apiKey}`);
    // Monitor URLs are bearer capabilities: they never reach the model.
    expect(h.wire.join('\n')).not.toMatch(/\/listen|\/control/);
  });

  it('dry run checks everything and returns the exact request without placing anything', async () => {
    h = await startHarness();
    const dry = await h.ok<{ dryRun: boolean; status: string; idempotencyKey: string; request: { method: string; url: string; body: Record<string, unknown> } }>(
      'create_call',
      { customer: { number: '+44 20 7183 8750' }, dryRun: true, variableValues: [{ name: 'slot', value: '3pm' }], name: 'reminder' },
    );
    expect(dry.dryRun).toBe(true);
    expect(dry.status).toBe('dry-run');
    expect(dry.request).toEqual({
      method: 'POST',
      url: `${h.sim.baseUrl}/call`,
      body: {
        phoneNumberId: 'phone-test',
        assistantId: 'assistant-test',
        customer: { number: '+442071838750' },
        assistantOverrides: {
          variableValues: { slot: '3pm' },
          monitorPlan: { listenEnabled: true, controlEnabled: true },
          maxDurationSeconds: 600,
          metadata: { idempotencyKey: dry.idempotencyKey },
        },
        name: 'reminder',
      },
    });
    expect(posts(h.sim)).toHaveLength(0);
  });

  it('refuses emergency numbers before anything else, without a request', async () => {
    h = await startHarness();
    for (const number of ['911', '+1 911', '112', '999']) {
      const failure = await h.err('create_call', { customer: { number } });
      expect(failure.code).toBe('emergency');
      expect(failure.retryable).toBe(false);
    }
    expect(h.sim.requests).toHaveLength(0);
  });

  it('does not listen when listen is false', async () => {
    h = await startHarness();
    const created = await h.ok<Created>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(created.listening).toBeUndefined();
    expect(h.server.core.listeners.get(created.callId)).toBeUndefined();
  });

  it('explains a missing phone number id', async () => {
    h = await startHarness({ config: { phoneNumberId: undefined } });
    const failure = await h.err('create_call', { customer: { number: VALID_NUMBER } });
    expect(failure.code).toBe('missing-phone-number');
    expect(failure.suggestion).toMatch(/VAPI_PHONE_NUMBER_ID/);
  });

  it('reports a bad API key as its own error, without the key', async () => {
    h = await startHarness({ config: { apiKey: 'definitely-the-wrong-key' } });
    const failure = await h.err('create_call', { customer: { number: VALID_NUMBER } });
    expect(failure.code).toBe('unauthorized');
    expect(failure.reason).toMatch(/401/);
    expect(failure.suggestion).toMatch(/VAPI_API_KEY/);
    expect(JSON.stringify(failure)).not.toContain('definitely-the-wrong-key');
  });

  it('never retries a failed POST /call; it asks Vapi by idempotency key and says no call was placed', async () => {
    h = await startHarness({ core: { placementLookup: { delayMs: 20 } } });
    h.sim.faults.failNext(1, 500);
    const failure = await h.err('create_call', { customer: { number: VALID_NUMBER }, idempotencyKey: 'k-500' });
    expect(failure.code).toBe('not-placed');
    expect(failure.retryable).toBe(true);
    expect(failure.reason).toMatch(/no call carries idempotency key k-500/);
    expect(failure.suggestion).toMatch(/idempotencyKey "k-500"/);
    expect(posts(h.sim)).toHaveLength(1);
  });
});

describe('list_calls', () => {
  it('passes exactly the given filters, unchanged, plus a default limit', async () => {
    h = await startHarness();
    await h.ok('list_calls', {});
    await h.ok('list_calls', {
      assistantId: 'assistant-test',
      phoneNumberId: 'phone-test',
      limit: 7,
      createdAtGt: '2026-01-01T00:00:00Z',
      createdAtLe: '2030-01-01T00:00:00.000Z',
      updatedAtGe: '2026-01-02T00:00:00Z',
    });
    const gets = h.sim.requests.filter((r) => r.method === 'GET' && r.path === '/call');
    expect(gets[0].query).toEqual({ limit: '20' });
    expect(gets[1].query).toEqual({
      assistantId: 'assistant-test',
      phoneNumberId: 'phone-test',
      limit: '7',
      createdAtGt: '2026-01-01T00:00:00Z',
      createdAtLe: '2030-01-01T00:00:00.000Z',
      updatedAtGe: '2026-01-02T00:00:00Z',
    });
  });

  it('returns compact rows newest first, flags full pages and filters status locally', async () => {
    h = await startHarness();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.ok<Created>('create_call', { customer: { number: VALID_NUMBER }, listen: false })).callId);
    const page = await h.ok<{ calls: { id: string; customerNumber: string }[]; mayHaveMore: boolean; next?: { createdAtLt: string } }>(
      'list_calls',
      { limit: 2 },
    );
    expect(page.calls.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    expect(page.calls[0].customerNumber).toBe(VALID_NUMBER);
    expect(page.mayHaveMore).toBe(true);
    const older = await h.ok<{ calls: { id: string }[]; mayHaveMore: boolean }>('list_calls', { limit: 2, createdAtLt: page.next!.createdAtLt });
    expect(older.calls.map((c) => c.id)).toEqual([ids[0]]);
    expect(older.mayHaveMore).toBe(false);
    const none = await h.ok<{ calls: unknown[] }>('list_calls', { status: 'forwarding' });
    expect(none.calls).toEqual([]);
  });

  it("shows Vapi's 400 message word for word", async () => {
    h = await startHarness();
    const failure = await h.err('list_calls', { createdAtGt: 'yesterday' });
    expect(failure.code).toBe('rejected');
    const gets = h.sim.requests.filter((r) => r.path === '/call');
    expect(gets.at(-1)!.query.createdAtGt).toBe('yesterday');
    expect(failure.reason).toMatch(/Vapi said: ".*createdAtGt.*"/);
  });
});

describe('get_call', () => {
  it('always asks Vapi and shows the full outcome once the call has ended', async () => {
    h = await startHarness({ sim: { speed: 200 } });
    const created = await h.ok<Created>('create_call', { customer: { number: VALID_NUMBER } });
    await follow(h, created.callId, (read) => read.ended);
    const before = h.sim.requests.filter((r) => r.method === 'GET').length;
    const call = await h.ok<Record<string, unknown> & { messages: { role: string; text: string }[]; recordingUrls: Record<string, string> }>(
      'get_call',
      { callId: created.callId },
    );
    expect(h.sim.requests.filter((r) => r.method === 'GET').length).toBe(before + 1);
    const server = h.sim.getCall(created.callId)!;
    expect(call.status).toBe('ended');
    expect(call.endedReason).toBe(server.endedReason);
    expect(call.cost).toBe(server.cost);
    expect(typeof call.cost).toBe('number');
    expect(call.transcript).toBe(server.artifact?.transcript);
    expect(call.messages.some((m) => m.role === 'assistant')).toBe(true);
    expect(call.messages.some((m) => m.role === 'customer')).toBe(true);
    expect(call.recordingUrls.mono).toBeTruthy();
    expect(call.durationSeconds).toBeGreaterThan(0);
  });

  it('caps long transcripts with maxChars, keeping the newest part', async () => {
    h = await startHarness({ sim: { speed: 200 } });
    const created = await h.ok<Created>('create_call', { customer: { number: VALID_NUMBER } });
    await follow(h, created.callId, (read) => read.ended);
    const call = await h.ok<{ transcript: string; truncated: boolean }>('get_call', { callId: created.callId, maxChars: 200 });
    expect(call.truncated).toBe(true);
    expect(call.transcript.length).toBeLessThanOrEqual(200);
    expect(h.sim.getCall(created.callId)!.artifact!.transcript!.endsWith(call.transcript.slice(1))).toBe(true);
  });

  it('says "not found" for an unknown call and refuses ids that are not UUIDs', async () => {
    h = await startHarness();
    const missing = await h.err('get_call', { callId: '7420f27a-0000-4000-8000-000000000001' });
    expect(missing.code).toBe('not-found');
    expect(missing.reason).toMatch(/not found/);
    const invalid = await h.err('get_call', { callId: '../../etc/passwd' });
    expect(invalid.code).toBe('invalid-call-id');
    expect(h.sim.requests.filter((r) => r.path.includes('etc'))).toHaveLength(0);
  });
});

describe('live control', () => {
  const simOptions = { sim: { hangupAfterScript: false, speed: 40 } };

  it('inject_say sends exactly Vapi\'s say body and the assistant speaks it', async () => {
    h = await startHarness(simOptions);
    const callId = await liveCall();
    const said = await h.ok<{ accepted: boolean; action: string }>('inject_say', { callId, content: 'Your order ships today.' });
    expect(said).toMatchObject({ accepted: true, action: 'say' });
    // Heard before the interrupting say below: sent while it is being spoken, that one would cut it off.
    await follow(h, callId, (_read, lines) => lines.some((l) => l.role === 'assistant' && l.text.includes('Your order ships today')));
    await h.ok('inject_say', { callId, content: 'One more thing.', interruptAssistant: true, endCallAfterSpoken: false });
    const bodies = h.sim.controlLog.filter((c) => c.callId === callId).map((c) => c.body);
    expect(bodies).toEqual([
      { type: 'say', content: 'Your order ships today.' },
      { type: 'say', content: 'One more thing.', endCallAfterSpoken: false, interruptAssistantEnabled: true },
    ]);
    expect(h.sim.controlLog.every((c) => c.authorization === `Bearer ${h.publicKey}`)).toBe(true);
  });

  it('add_message, set_mute, transfer_call and end_call send Vapi\'s exact bodies', async () => {
    h = await startHarness(simOptions);
    const callId = await liveCall();
    await h.ok('add_message', { callId, role: 'system', content: 'The customer is a VIP.' });
    await h.ok('add_message', { callId, role: 'user', content: 'quiet note', triggerResponse: false });
    await h.ok('set_mute', { callId, party: 'assistant', muted: true });
    await h.ok('set_mute', { callId, party: 'assistant', muted: false });
    await h.ok('set_mute', { callId, party: 'customer', muted: true });
    await h.ok('set_mute', { callId, party: 'customer', muted: false });
    await h.ok('end_call', { callId });
    expect(h.sim.controlLog.filter((c) => c.callId === callId).map((c) => c.body)).toEqual([
      { type: 'add-message', message: { role: 'system', content: 'The customer is a VIP.' }, triggerResponseEnabled: true },
      { type: 'add-message', message: { role: 'user', content: 'quiet note' }, triggerResponseEnabled: false },
      { type: 'control', control: 'mute-assistant' },
      { type: 'control', control: 'unmute-assistant' },
      { type: 'control', control: 'mute-customer' },
      { type: 'control', control: 'unmute-customer' },
      { type: 'end-call' },
    ]);
    const ended = await follow(h, callId, (read) => read.ended);
    expect(ended.last.status).toBe('ended');
  });

  it('transfer_call sends number and SIP destinations and refuses bad ones', async () => {
    h = await startHarness(simOptions);
    const first = await liveCall();
    const second = await liveCall();
    await h.ok('transfer_call', { callId: first, number: '+44 20 7183 8750', content: 'Transferring you now.', mode: 'warm-transfer-say-message' });
    await h.ok('transfer_call', { callId: second, sipUri: 'sip:desk@example.com' });
    expect(h.sim.controlLog.map((c) => c.body)).toEqual([
      {
        type: 'transfer',
        destination: { type: 'number', number: '+442071838750', transferPlan: { mode: 'warm-transfer-say-message' } },
        content: 'Transferring you now.',
      },
      { type: 'transfer', destination: { type: 'sip', sipUri: 'sip:desk@example.com' } },
    ]);
    const done = await follow(h, first, (read) => read.ended);
    expect(done.last.endedReason).toBe('assistant-forwarded-call');

    const both = await h.err('transfer_call', { callId: second, number: VALID_NUMBER, sipUri: 'sip:a@b' });
    expect(both.code).toBe('invalid-destination');
    const emergency = await h.err('transfer_call', { callId: second, number: '911' });
    expect(emergency.code).toBe('emergency');
  });

  it('explains that an ended call cannot be steered and points to get_call', async () => {
    h = await startHarness(simOptions);
    const callId = await liveCall();
    await h.ok('end_call', { callId });
    await follow(h, callId, (read) => read.ended);
    const failure = await h.err('inject_say', { callId, content: 'hello?' });
    expect(failure.code).toBe('call-ended');
    expect(failure.reason).toContain(callId);
    expect(failure.suggestion).toMatch(/get_call/);
  });

  it('explains a call that has no control URL', async () => {
    h = await startHarness(simOptions);
    const created = await h.ok<Created>('create_call', {
      customer: { number: VALID_NUMBER },
      monitor: false,
      assistantOverrides: { monitorPlan: { listenEnabled: true, controlEnabled: false } },
    });
    expect(created.monitor).toEqual({ listen: true, control: false });
    const failure = await h.err('inject_say', { callId: created.callId, content: 'hi' });
    expect(failure.code).toBe('control-unavailable');
  });

  it('reports an unreachable Vapi as retryable', async () => {
    h = await startHarness({ config: { baseUrl: 'http://127.0.0.1:9' } });
    const failure = await h.err('list_calls', {});
    expect(failure.code).toBe('unreachable');
    expect(failure.retryable).toBe(true);
  });
});

describe('read-only mode', () => {
  it('exposes only tools that cannot change a call', async () => {
    h = await startHarness({ config: { readOnly: true } });
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['console_updates', 'get_call', 'list_calls', 'listen_call', 'read_transcript', 'read_transcripts', 'stop_listening']);
  });
});
