/**
 * What a hostile world tries, through the MCP client against the simulator (or a small fake Vapi where the
 * simulator cannot misbehave that way): blocked numbers hidden in SIP/tel URIs, service-code prefixes and inline
 * assistant configuration; parallel bursts against the limits; Vapi answers that cannot be used.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { follow, startHarness, VALID_NUMBER, type Harness } from './helpers/harness.js';
import { startScriptedServer } from './helpers/scripted-http.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const ANY_CALL_ID = '7420f27a-0000-4000-8000-000000000001';
const posts = () => h.sim.requests.filter((r) => r.method === 'POST').length;

describe('blocked numbers are blocked in every written form', () => {
  const EMERGENCY_URIS = [
    'sip:911@example.com',
    'sips:999@example.com',
    'sip:112@example.com;user=phone',
    'sip:911;phone-context=+1@example.com',
    'sip:9-1-1@example.com',
    'sip:%39%31%31@example.com',
    'sip:+1911@example.com',
    'sip:*67911@example.com',
    'sip:call911@example.com',
    'sip:911:secret@example.com',
    'tel:911',
    'tel:+44-999',
    'tel:112;phone-context=+33',
  ];
  const PREMIUM_URIS = ['sip:+19005550100@example.com', 'sip:+1-900-555-0100@example.com', 'tel:+1(900)5550100', 'sip:9005550100;phone-context=+1@example.com'];

  it('checks the user part of sip:, sips: and tel: URIs in transfer_call like a dialled number', async () => {
    h = await startHarness();
    for (const sipUri of EMERGENCY_URIS) {
      const refused = await h.err('transfer_call', { callId: ANY_CALL_ID, sipUri });
      expect({ sipUri, code: refused.code, retryable: refused.retryable }).toEqual({ sipUri, code: 'emergency', retryable: false });
      expect(refused.suggestion).toMatch(/Do not retry/);
    }
    for (const sipUri of PREMIUM_URIS) {
      expect({ sipUri, code: (await h.err('transfer_call', { callId: ANY_CALL_ID, sipUri })).code }).toEqual({ sipUri, code: 'premium-rate' });
    }
    expect((await h.err('transfer_call', { callId: ANY_CALL_ID, sipUri: 'sip:611@example.com' })).code).toBe('short-code');
    // A tel: or sip: URI given as the number is the same number.
    expect((await h.err('transfer_call', { callId: ANY_CALL_ID, number: 'tel:+19005550100' })).code).toBe('premium-rate');
    expect((await h.err('transfer_call', { callId: ANY_CALL_ID, number: 'sip:911@example.com' })).code).toBe('emergency');
    expect(h.sim.requests).toHaveLength(0);
    expect(h.sim.controlLog).toHaveLength(0);
  });

  it('refuses vertical service code prefixes as the emergency number behind them', async () => {
    h = await startHarness();
    for (const number of ['*67 911', '*67911', '*82 112', '#31#999', '*31#112', '141 999', '9 911']) {
      const refused = await h.err('create_call', { customer: { number } });
      expect({ number, code: refused.code }).toEqual({ number, code: 'emergency' });
      expect(refused.reason).toMatch(/emergency/);
      expect(refused.suggestion).toMatch(/Do not retry in any form/);
    }
    expect(posts()).toBe(0);
  });

  it('applies the allow-list to SIP addresses: numbers are matched, names cannot be', async () => {
    h = await startHarness({ env: { VAPI_ALLOWED_NUMBERS: '+1415*' }, sim: { hangupAfterScript: false, speed: 40 } });
    expect((await h.err('transfer_call', { callId: ANY_CALL_ID, sipUri: 'sip:+12015550123@example.com' })).code).toBe('not-allowed');
    expect((await h.err('transfer_call', { callId: ANY_CALL_ID, sipUri: 'sip:support@example.com' })).code).toBe('not-allowed');
    const created = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    await follow(h, created.callId, (read) => read.status === 'in-progress');
    await h.ok('transfer_call', { callId: created.callId, sipUri: 'sip:+14155552671@pbx.example.com' });
    expect(h.sim.controlLog.map((c) => c.body)).toEqual([
      { type: 'transfer', destination: { type: 'sip', sipUri: 'sip:+14155552671@pbx.example.com' } },
    ]);
  });

  it('checks every number and SIP address in inline assistant configuration, or refuses the field', async () => {
    h = await startHarness();
    const transferTool = (destination: Record<string, unknown>) => ({ model: { provider: 'openai', model: 'gpt-4o', tools: [{ type: 'transferCall', destinations: [destination] }] } });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ assistantOverrides: { forwardingPhoneNumber: '+19005550100' } }, 'premium-rate', /assistantOverrides\.forwardingPhoneNumber/],
      [{ assistant: transferTool({ type: 'number', number: '911' }) }, 'emergency', /assistant\.model\.tools\[0\]\.destinations\[0\]\.number/],
      [{ assistantOverrides: transferTool({ type: 'sip', sipUri: 'sips:999@example.com' }) }, 'emergency', /sipUri/],
      [{ assistantOverrides: transferTool({ type: 'number', number: '{{target}}' }) }, 'field-not-allowed', /template/],
      [{ assistant: { hooks: [{ on: 'customer.speech.timeout', do: [{ type: 'transfer', destination: { type: 'number', number: '+1 (900) 555-0100' } }] }] } }, 'premium-rate', /hooks/],
      [{ assistant: { model: { provider: 'openai', model: 'gpt-4o', toolIds: ['t1'] } } }, 'field-not-allowed', /toolIds/],
      [{ assistantOverrides: { model: { tools: [{ type: 'function', server: { url: 'https://example.com/hook' } }] } } }, 'field-not-allowed', /webhook/],
      [{ assistantOverrides: { model: { messages: [{ role: 'system', content: 'transfer to tel:112 when asked' }], transferPlan: { twiml: '<Dial>911</Dial>' } } } }, 'field-not-allowed', /TwiML/],
      [{ variableValues: { target: '+19005550100' } }, 'premium-rate', /variableValues\.target/],
      [{ variableValues: { target: '911' } }, 'emergency', /variableValues\.target/],
      [{ assistantOverrides: { variableValues: { transferTo: 'sip:112@example.com' } } }, 'emergency', /assistantOverrides\.variableValues\.transferTo/],
    ];
    for (const [args, code, where] of cases) {
      for (const dryRun of [true, false]) {
        const refused = await h.err('create_call', { customer: { number: VALID_NUMBER }, dryRun, ...args });
        expect({ args, code: refused.code, retryable: refused.retryable }).toEqual({ args, code, retryable: false });
        expect(refused.reason).toMatch(where);
      }
    }
    // Plain prompts that mention numbers and order codes are not destinations.
    await h.ok('create_call', { customer: { number: VALID_NUMBER }, dryRun: true, variableValues: { orderNumber: '12345' }, assistantOverrides: { firstMessage: 'Your code is 911-ish' } });
    expect(posts()).toBe(0);
  });
});

describe('limits hold under parallel requests', () => {
  const burst = (count: number) =>
    Promise.all(Array.from({ length: count }, () => h.callTool('create_call', { customer: { number: VALID_NUMBER }, listen: false })));

  it('places exactly one call when five arrive at once with VAPI_MAX_CONCURRENT_CALLS=1', async () => {
    h = await startHarness({ env: { VAPI_MAX_CONCURRENT_CALLS: '1' }, sim: { hangupAfterScript: false } });
    const results = await burst(5);
    expect(results.filter((r) => !r.isError)).toHaveLength(1);
    const refusals = results.filter((r) => r.isError).map((r) => JSON.parse((r.content[0] as { text: string }).text).code);
    expect(refusals).toEqual(['concurrency', 'concurrency', 'concurrency', 'concurrency']);
    expect(posts()).toBe(1);
  });

  it('places exactly two calls when five arrive at once with VAPI_MAX_CALLS_PER_HOUR=2', async () => {
    h = await startHarness({ env: { VAPI_MAX_CALLS_PER_HOUR: '2' } });
    const results = await burst(5);
    expect(results.filter((r) => !r.isError)).toHaveLength(2);
    expect(posts()).toBe(2);
  });
});

describe('a Vapi that answers POST /call badly', () => {
  const json = (status: number, body: unknown) => (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fakeVapi = async (...replies: ((res: ServerResponse) => void)[]) => {
    const fake = await startScriptedServer(...replies);
    h = await startHarness({ config: { baseUrl: fake.url }, env: { VAPI_MAX_CONCURRENT_CALLS: '1' }, core: { placementLookup: { delayMs: 20 } } });
    return fake;
  };
  const place = () => h.callTool('create_call', { customer: { number: VALID_NUMBER }, listen: false });
  const code = async () => JSON.parse(((await place()).content[0] as { text: string }).text).code as string;

  it('gives the slot back when the refusal proves no call was placed', async () => {
    const fake = await fakeVapi(json(400, { message: ['assistantId must be a UUID'], error: 'Bad Request', statusCode: 400 }));
    expect(await code()).toBe('rejected');
    expect(await code()).toBe('rejected');
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('keeps the slot when the outcome is unknown', async () => {
    const fake = await fakeVapi(json(502, { message: 'Bad Gateway' }));
    const first = JSON.parse(((await place()).content[0] as { text: string }).text);
    expect(first).toMatchObject({ code: 'outcome-unknown', retryable: false });
    expect(await code()).toBe('concurrency');
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('when Vapi cannot even be asked, says so, and a retry with the same key asks again instead of placing', async () => {
    const fake = await fakeVapi(json(502, { message: 'Bad Gateway' }));
    const args = { customer: { number: VALID_NUMBER }, listen: false, idempotencyKey: 'k-unknown' };
    const first = JSON.parse(((await h.callTool('create_call', args)).content[0] as { text: string }).text);
    expect(first).toMatchObject({ code: 'outcome-unknown', retryable: false });
    expect(first.reason).toMatch(/could not be asked whether the call was placed/);
    expect(first.suggestion).toMatch(/idempotencyKey "k-unknown"/);
    const again = JSON.parse(((await h.callTool('create_call', args)).content[0] as { text: string }).text);
    expect(again).toMatchObject({ code: 'outcome-unknown' });
    expect(again.reason).toMatch(/earlier attempt with idempotency key k-unknown/);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('says a call with an unusable id was placed, never invites a retry, and keeps its slot', async () => {
    const fake = await fakeVapi(json(201, { id: '../../etc/passwd', status: 'queued' }));
    const first = JSON.parse(((await place()).content[0] as { text: string }).text);
    expect(first).toMatchObject({ code: 'placed-unreadable', retryable: false });
    expect(first.reason).toMatch(/accepted the call/);
    expect(first.suggestion).toMatch(/Do not place it again/);
    expect(await code()).toBe('concurrency');
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('says an unreadable answer placed the call', async () => {
    await fakeVapi(json(201, { status: 'queued' }));
    expect(JSON.parse(((await place()).content[0] as { text: string }).text)).toMatchObject({ code: 'placed-unreadable', retryable: false });
  });

  it('treats monitor URLs that are not ws(s) or http(s) as absent', async () => {
    await fakeVapi(
      json(201, { id: ANY_CALL_ID, status: 'queued', monitor: { listenUrl: 'file:///etc/passwd', controlUrl: 'javascript:alert(1)' } }),
    );
    const created = await h.ok<{ monitor: { listen: boolean; control: boolean }; note: string }>('create_call', { customer: { number: VALID_NUMBER } });
    expect(created.monitor).toEqual({ listen: false, control: false });
    expect(created.note).toMatch(/no usable listen URL/);
  });
});
