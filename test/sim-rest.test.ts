import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_SIM_API_KEY, type Simulator, type SimulatorOptions } from '../src/sim/index.js';
import { simApi, simulatorPool } from './helpers/sim.js';
import { EVENTUALLY } from './helpers/wait.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const INVALID_KEY_BODY = {
  message: 'Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.',
  error: 'Unauthorized',
  statusCode: 401,
};
const VALID_CALL = { assistantId: 'asst-1', phoneNumberId: 'pn-1', customer: { number: '+15550100' } };
// Calls stay queued: nothing in these tests needs them to progress.
const QUIET: SimulatorOptions = { ringMs: 1e9, seed: 11 };

const start = simulatorPool(QUIET);
const api = simApi;
const createCall = (sim: Simulator, body: unknown = VALID_CALL) => api(sim, 'POST', '/call', body);

describe('authentication', () => {
  it('accepts only the configured private key and answers everything else with the Vapi 401 body', async () => {
    const sim = await start({ ...QUIET, apiKey: 'my-private', publicKey: 'my-public' });
    expect(sim.apiKey).toBe('my-private');
    for (const key of [null, 'wrong', 'my-public', DEFAULT_SIM_API_KEY]) {
      const res = await api(sim, 'GET', '/call', undefined, key);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(INVALID_KEY_BODY);
    }
    expect((await api(sim, 'GET', '/call')).status).toBe(200);
  });

  it('defaults to the documented simulator key', async () => {
    const sim = await start();
    expect(sim.apiKey).toBe(DEFAULT_SIM_API_KEY);
    expect((await api(sim, 'GET', '/call', undefined, DEFAULT_SIM_API_KEY)).status).toBe(200);
  });
});

describe('POST /call', () => {
  it('returns 201 with a queued outbound Call carrying monitor URLs and subscription limits', async () => {
    const sim = await start();
    const overrides = { firstMessage: 'Hello {{name}}', variableValues: { name: 'Ada' }, metadata: { ticket: 7 } };
    const res = await createCall(sim, { ...VALID_CALL, name: 'Reminder', assistantOverrides: overrides });
    expect(res.status).toBe(201);
    const call = res.body;
    expect(call.id).toMatch(UUID);
    expect(call.orgId).toMatch(UUID);
    expect(call.createdAt).toMatch(ISO);
    expect(call.updatedAt).toBe(call.createdAt);
    expect(call).toMatchObject({
      status: 'queued',
      type: 'outboundPhoneCall',
      assistantId: 'asst-1',
      phoneNumberId: 'pn-1',
      customer: { number: '+15550100' },
      assistantOverrides: overrides,
      name: 'Reminder',
      cost: 0,
      phoneCallProvider: 'twilio',
      phoneCallTransport: 'pstn',
      monitor: {
        listenUrl: `ws://127.0.0.1:${sim.port}/${call.id}/listen`,
        controlUrl: `http://127.0.0.1:${sim.port}/${call.id}/control`,
      },
      subscriptionLimits: { concurrencyBlocked: false, concurrencyLimit: 10, remainingConcurrentCalls: 9 },
    });
    expect(sim.baseUrl).toBe(`http://127.0.0.1:${sim.port}`);
    // subscriptionLimits belongs to the create response only
    expect((await api(sim, 'GET', `/call/${call.id}`)).body.subscriptionLimits).toBeUndefined();
  });

  it('echoes an inline assistant', async () => {
    const sim = await start();
    const assistant = { name: 'Inline', firstMessage: 'Hi!', model: { provider: 'openai', model: 'gpt-4o' } };
    const res = await createCall(sim, { assistant, phoneNumberId: 'pn-1', customer: { number: '+15550100' } });
    expect(res.status).toBe(201);
    expect(res.body.assistant).toEqual(assistant);
    expect(res.body.assistantId).toBeUndefined();
  });

  it('omits monitor URLs that monitorPlan disables, from overrides or from the inline assistant', async () => {
    const sim = await start();
    const noListen = await createCall(sim, { ...VALID_CALL, assistantOverrides: { monitorPlan: { listenEnabled: false } } });
    expect(noListen.body.monitor.listenUrl).toBeUndefined();
    expect(noListen.body.monitor.controlUrl).toContain('/control');
    const noControl = await createCall(sim, {
      assistant: { monitorPlan: { controlEnabled: false } },
      phoneNumberId: 'pn-1',
      customer: { number: '+15550100' },
    });
    expect(noControl.body.monitor.controlUrl).toBeUndefined();
    expect(noControl.body.monitor.listenUrl).toContain('/listen');
  });

  it('rejects unknown top-level properties with an array of messages', async () => {
    const sim = await start();
    const res = await createCall(sim, { ...VALID_CALL, assistantOverride: {}, foo: 1 });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      message: ['property assistantOverride should not exist', 'property foo should not exist'],
      error: 'Bad Request',
      statusCode: 400,
    });
    const nested = await createCall(sim, { ...VALID_CALL, customer: { number: '+15550100', phone: 'x' } });
    expect(nested.body.message).toEqual(['customer.property phone should not exist']);
  });

  it('accepts a top-level metadata unless strict', async () => {
    const lenient = await start();
    expect((await createCall(lenient, { ...VALID_CALL, metadata: { a: 1 } })).status).toBe(201);
    const strict = await start({ ...QUIET, strict: true });
    const res = await createCall(strict, { ...VALID_CALL, metadata: { a: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.message).toEqual(['property metadata should not exist']);
  });

  it('needs a phone number, an assistant and a customer (string messages)', async () => {
    const sim = await start();
    const noNumber = await createCall(sim, { assistantId: 'a', customer: { number: '+15550100' } });
    expect(noNumber.status).toBe(400);
    expect(noNumber.body).toEqual({
      message: "Couldn't Get Phone Number. Need Either `phoneNumberId` Or `phoneNumber`.",
      error: 'Bad Request',
      statusCode: 400,
    });
    const noAssistant = await createCall(sim, { phoneNumberId: 'pn', customer: { number: '+15550100' } });
    expect(noAssistant.status).toBe(400);
    expect(typeof noAssistant.body.message).toBe('string');
    expect(noAssistant.body.message).toContain('assistantId');
    const noCustomer = await createCall(sim, { phoneNumberId: 'pn', assistantId: 'a' });
    expect(noCustomer.status).toBe(400);
    expect(typeof noCustomer.body.message).toBe('string');
    expect((await api(sim, 'GET', '/call')).body).toEqual([]);
  });

  it('checks customer.number is E.164 unless the check is disabled', async () => {
    const sim = await start();
    const bad = await createCall(sim, { ...VALID_CALL, customer: { number: '5550100' } });
    expect(bad.status).toBe(400);
    expect(Array.isArray(bad.body.message)).toBe(true);
    expect(bad.body.message[0]).toMatch(/^customer\.number must be a valid phone number in the E\.164 format/);
    const unchecked = await createCall(sim, { ...VALID_CALL, customer: { number: '5550100', numberE164CheckEnabled: false } });
    expect(unchecked.status).toBe(201);
  });

  it('rejects a body that is not JSON', async () => {
    const sim = await start();
    const res = await api(sim, 'POST', '/call', '{"assistantId":');
    expect(res.status).toBe(400);
    expect(res.body.statusCode).toBe(400);
  });

  it('creates a batch from customers[] and reports per-customer errors', async () => {
    const sim = await start();
    const res = await createCall(sim, {
      assistantId: 'a',
      phoneNumberId: 'pn',
      customers: [{ number: '+15550101' }, { number: 'not-a-number' }, { number: '+15550102', name: 'Bo' }],
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['errors', 'results', 'subscriptionLimits']);
    expect(res.body.results.map((call: any) => call.customer.number)).toEqual(['+15550101', '+15550102']);
    expect(res.body.results[1].customer.name).toBe('Bo');
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].customer).toEqual({ number: 'not-a-number' });
    expect(res.body.errors[0].error).toContain('E.164');
    expect(res.body.subscriptionLimits.remainingConcurrentCalls).toBe(8);
  });

  it('schedules a call with a future earliestAt and queues it at that time', async () => {
    const sim = await start({ ringMs: 1e9, speed: 1 });
    // Far enough ahead that a slow request on a busy machine still arrives before it.
    const earliestAt = new Date(Date.now() + 2000).toISOString();
    const res = await createCall(sim, { ...VALID_CALL, schedulePlan: { earliestAt } });
    expect(res.body.status).toBe('scheduled');
    await vi.waitFor(() => expect(sim.getCall(res.body.id)?.status).toBe('queued'), { timeout: 15_000, interval: 10 });
    const past = await createCall(sim, { ...VALID_CALL, schedulePlan: { earliestAt: '2020-01-01T00:00:00Z' } });
    expect(past.body.status).toBe('queued');
    const invalid = await createCall(sim, { ...VALID_CALL, schedulePlan: { earliestAt: 'tomorrow' } });
    expect(invalid.body.message).toEqual(['schedulePlan.earliestAt must be a valid ISO 8601 date string']);
  });
});

describe('GET /call', () => {
  it('returns a plain array, newest first, honouring id, assistantId and phoneNumberId', async () => {
    const sim = await start();
    const a = (await createCall(sim, { ...VALID_CALL, assistantId: 'asst-a', phoneNumberId: 'pn-x' })).body;
    const b = (await createCall(sim, { ...VALID_CALL, assistantId: 'asst-b', phoneNumberId: 'pn-x' })).body;
    const c = (await createCall(sim, { ...VALID_CALL, assistantId: 'asst-a', phoneNumberId: 'pn-y' })).body;
    const all = await api(sim, 'GET', '/call');
    expect(all.status).toBe(200);
    expect(all.body.map((call: any) => call.id)).toEqual([c.id, b.id, a.id]);
    const ids = async (query: string) => (await api(sim, 'GET', `/call?${query}`)).body.map((call: any) => call.id);
    expect(await ids(`id=${b.id}`)).toEqual([b.id]);
    expect(await ids('assistantId=asst-a')).toEqual([c.id, a.id]);
    expect(await ids('phoneNumberId=pn-x')).toEqual([b.id, a.id]);
    expect(await ids('assistantId=asst-a&phoneNumberId=pn-x')).toEqual([a.id]);
    expect(await ids('assistantId=nobody')).toEqual([]);
  });

  it('applies limit (default 100, 0..1000) and rejects out-of-range values', async () => {
    const sim = await start();
    for (let i = 0; i < 101; i++) await createCall(sim);
    expect((await api(sim, 'GET', '/call')).body).toHaveLength(100);
    expect((await api(sim, 'GET', '/call?limit=1000')).body).toHaveLength(101);
    expect((await api(sim, 'GET', '/call?limit=2')).body).toHaveLength(2);
    expect((await api(sim, 'GET', '/call?limit=0')).body).toEqual([]);
    const tooBig = await api(sim, 'GET', '/call?limit=1001');
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.message).toEqual(['limit must not be greater than 1000']);
    expect((await api(sim, 'GET', '/call?limit=-1')).body.message).toEqual(['limit must not be less than 0']);
    expect((await api(sim, 'GET', '/call?limit=ten')).status).toBe(400);
  });

  it('honours the eight date filters', async () => {
    const sim = await start({ ringMs: 1e12, speed: 1000 });
    const first = (await createCall(sim)).body;
    const second = (await createCall(sim)).body;
    const third = (await createCall(sim)).body;
    expect(first.createdAt < second.createdAt && second.createdAt < third.createdAt).toBe(true);
    const patched = (await api(sim, 'PATCH', `/call/${first.id}`, { name: 'touched' })).body;
    expect(patched.updatedAt > third.createdAt).toBe(true);
    const ids = async (query: string) => (await api(sim, 'GET', `/call?${query}`)).body.map((call: any) => call.id);
    expect(await ids(`createdAtGt=${first.createdAt}`)).toEqual([third.id, second.id]);
    expect(await ids(`createdAtGe=${second.createdAt}`)).toEqual([third.id, second.id]);
    expect(await ids(`createdAtLt=${third.createdAt}`)).toEqual([second.id, first.id]);
    expect(await ids(`createdAtLe=${second.createdAt}`)).toEqual([second.id, first.id]);
    expect(await ids(`createdAtGt=${first.createdAt}&createdAtLt=${third.createdAt}`)).toEqual([second.id]);
    expect(await ids(`updatedAtGt=${third.updatedAt}`)).toEqual([first.id]);
    expect(await ids(`updatedAtGe=${patched.updatedAt}`)).toEqual([first.id]);
    expect(await ids(`updatedAtLt=${patched.updatedAt}`)).toEqual([third.id, second.id]);
    expect(await ids(`updatedAtLe=${second.updatedAt}`)).toEqual([second.id]);
  });

  it('rejects invalid dates and unknown parameters with array messages', async () => {
    const sim = await start();
    const badDate = await api(sim, 'GET', '/call?createdAtGt=yesterday');
    expect(badDate.status).toBe(400);
    expect(badDate.body).toEqual({
      message: ['createdAtGt must be a valid ISO 8601 date string'],
      error: 'Bad Request',
      statusCode: 400,
    });
    const unknown = await api(sim, 'GET', '/call?page=2&limit=5');
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toEqual(['property page should not exist']);
  });
});

describe('GET, PATCH and DELETE /call/{id}', () => {
  it('gets a call, 400 for a non-uuid id, 404 for an unknown one', async () => {
    const sim = await start();
    const created = (await createCall(sim)).body;
    const { subscriptionLimits: _limits, ...stored } = created;
    expect((await api(sim, 'GET', `/call/${created.id}`)).body).toEqual(stored);
    const notUuid = await api(sim, 'GET', '/call/not-a-uuid');
    expect(notUuid.status).toBe(400);
    expect(notUuid.body).toEqual({ message: 'Validation failed (uuid is expected)', error: 'Bad Request', statusCode: 400 });
    const unknown = await api(sim, 'GET', '/call/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ message: 'Call not found', error: 'Not Found', statusCode: 404 });
  });

  it('patches only the name', async () => {
    const sim = await start({ ringMs: 1e12, speed: 1000 });
    const created = (await createCall(sim)).body;
    const patched = await api(sim, 'PATCH', `/call/${created.id}`, { name: 'Renamed' });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('Renamed');
    expect(patched.body.updatedAt > created.updatedAt).toBe(true);
    expect(sim.getCall(created.id)?.name).toBe('Renamed');
    const other = await api(sim, 'PATCH', `/call/${created.id}`, { status: 'ended' });
    expect(other.status).toBe(400);
    expect(other.body.message).toEqual(['property status should not exist']);
    const long = await api(sim, 'PATCH', `/call/${created.id}`, { name: 'x'.repeat(41) });
    expect(long.body.message).toEqual(['name must be shorter than or equal to 40 characters']);
    expect((await api(sim, 'PATCH', '/call/00000000-0000-4000-8000-000000000000', { name: 'a' })).status).toBe(404);
  });

  it('deletes a call, ending it first when live, and removes it afterwards', async () => {
    const sim = await start();
    const created = (await createCall(sim)).body;
    const deleted = await api(sim, 'DELETE', `/call/${created.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: created.id, status: 'ended', endedReason: 'call-deleted' });
    expect((await api(sim, 'GET', `/call/${created.id}`)).status).toBe(404);
    expect((await api(sim, 'GET', '/call')).body).toEqual([]);
    expect(sim.getCall(created.id)).toBeUndefined();
    expect((await api(sim, 'DELETE', `/call/${created.id}`)).status).toBe(404);
  });

  it('answers unknown routes with the NestJS 404 body', async () => {
    const sim = await start();
    const res = await api(sim, 'GET', '/assistant');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'Cannot GET /assistant', error: 'Not Found', statusCode: 404 });
    expect((await api(sim, 'PUT', '/call')).body.message).toBe('Cannot PUT /call');
  });
});

describe('request log', () => {
  it('records every REST request with method, path, query, body and authorization', async () => {
    const sim = await start();
    await createCall(sim);
    await api(sim, 'GET', '/call?limit=3&assistantId=a');
    await api(sim, 'GET', '/call', undefined, null);
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /call', 'GET /call', 'GET /call']);
    expect(sim.requests[0].body).toEqual(VALID_CALL);
    expect(sim.requests[0].authorization).toBe(`Bearer ${sim.apiKey}`);
    expect(sim.requests[1].query).toEqual({ limit: '3', assistantId: 'a' });
    expect(sim.requests[2].authorization).toBeUndefined();
    expect(typeof sim.requests[0].at).toBe('number');
  });
});

describe('REST faults', () => {
  it('failNext fails exactly the next N requests with the given status', async () => {
    const sim = await start();
    sim.faults.failNext(2, 503);
    const first = await createCall(sim);
    const second = await api(sim, 'GET', '/call');
    expect([first.status, second.status]).toEqual([503, 503]);
    expect(first.body).toEqual({ message: 'Service Unavailable', error: 'Service Unavailable', statusCode: 503 });
    expect((await api(sim, 'GET', '/call')).body).toEqual([]); // the failed POST created nothing
    expect((await createCall(sim)).status).toBe(201);
  });

  it('failNext 429 sends Retry-After when asked, and 500 the NestJS internal error body', async () => {
    const sim = await start();
    sim.faults.failNext(1, 429, { retryAfterSeconds: 7 });
    sim.faults.failNext(1, 429);
    sim.faults.failNext(1, 500);
    const limited = await api(sim, 'GET', '/call');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('7');
    expect(limited.body.statusCode).toBe(429);
    const bare = await api(sim, 'GET', '/call');
    expect(bare.status).toBe(429);
    expect(bare.headers['retry-after']).toBeUndefined();
    const internal = await api(sim, 'GET', '/call');
    expect(internal.body).toEqual({ statusCode: 500, message: 'Internal server error' });
    expect((await api(sim, 'GET', '/call')).status).toBe(200);
  });

  it('delayNext holds the response but processes the request', async () => {
    const sim = await start();
    sim.faults.delayNext(1, 200);
    const started = Date.now();
    const pending = createCall(sim);
    await vi.waitFor(() => expect(sim.requests).toHaveLength(1), EVENTUALLY);
    // The call exists before its response arrives, as when a client times out on a slow create.
    await vi.waitFor(
      async () => {
        const res = await api(sim, 'GET', '/call');
        expect(res.body).toHaveLength(1);
      },
      EVENTUALLY,
    );
    const res = await pending;
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
