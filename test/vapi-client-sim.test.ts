import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { VapiError } from '../src/vapi/errors.js';
import { VapiControlClient } from '../src/vapi/control.js';
import { VapiRestClient } from '../src/vapi/rest.js';
import { vapiFailure } from './helpers/errors.js';
import { EVENTUALLY } from './helpers/wait.js';

const UNKNOWN_ID = '7420f27a-0000-4000-8000-00000000dead';
const CREATE_BODY = {
  assistantId: '5b0a4a08-0000-4000-8000-000000000001',
  phoneNumberId: '42b4b25d-0000-4000-8000-000000000001',
  customer: { number: '+14155550100' },
  assistantOverrides: { monitorPlan: { listenEnabled: true, controlEnabled: true } },
};

let sim: Simulator;
let rest: VapiRestClient;
const control = new VapiControlClient();

beforeEach(async () => {
  sim = await startSimulator({ seed: 7, speed: 50, hangupAfterScript: false });
  rest = new VapiRestClient({
    baseUrl: sim.baseUrl,
    apiKey: sim.apiKey,
    retry: { baseDelayMs: 2, maxDelayMs: 20, maxTotalMs: 5000 },
  });
});
afterEach(async () => {
  await sim.close();
});


describe('Vapi clients against the simulator', () => {
  it('creates, reads, lists, steers and ends a call', async () => {
    const created = await rest.createCall(CREATE_BODY);
    expect(created.status).toBe('queued');
    const controlUrl = created.monitor?.controlUrl;
    expect(controlUrl).toMatch(/\/control$/);

    expect((await rest.getCall(created.id)).id).toBe(created.id);

    const filters = { assistantId: CREATE_BODY.assistantId, createdAtGe: created.createdAt!, limit: 10 };
    const listed = await rest.listCalls(filters);
    expect(listed.map((c) => c.id)).toEqual([created.id]);
    const listRequest = sim.requests.find((r) => r.method === 'GET' && r.path === '/call');
    expect(listRequest?.query).toEqual({ ...filters, limit: '10' });
    expect(await rest.listCalls({ assistantId: '5b0a4a08-0000-4000-8000-0000000000ff' })).toEqual([]);

    await vi.waitFor(async () => expect((await rest.getCall(created.id)).status).toBe('in-progress'), EVENTUALLY);

    await control.say(controlUrl!, { content: 'One moment please.' });
    await control.endCall(controlUrl!);
    expect(sim.controlLog.map((entry) => entry.body)).toStrictEqual([
      { type: 'say', content: 'One moment please.' },
      { type: 'end-call' },
    ]);
    expect(sim.controlLog.every((entry) => entry.authorization === undefined)).toBe(true);

    await vi.waitFor(async () => expect((await rest.getCall(created.id)).status).toBe('ended'), EVENTUALLY);
    const ended = await rest.getCall(created.id);
    expect(ended.endedReason).toEqual(expect.any(String));
  });

  it('maps an unknown call id to a 404 VapiError', async () => {
    const error = await vapiFailure(rest.getCall(UNKNOWN_ID));
    expect(error).toMatchObject({ kind: 'http', status: 404, operation: 'GET /call/{id}' });
    expect(error.vapiMessage).toEqual(expect.any(String));
  });

  it('surfaces a wrong key as 401 with Vapi message and without the key', async () => {
    const wrongKey = 'wrong-private-key-123456';
    const error = await vapiFailure(new VapiRestClient({ baseUrl: sim.baseUrl, apiKey: wrongKey }).listCalls());
    expect(error.status).toBe(401);
    expect(error.vapiMessage).toMatch(/Invalid Key/);
    expect(error.message).not.toContain(wrongKey);
  });

  it('rejects an invalid create body with the validation messages', async () => {
    const error = await vapiFailure(rest.createCall({ ...CREATE_BODY, assistantOverride: {} }));
    expect(error).toMatchObject({ kind: 'http', status: 400, mayHaveSucceeded: false });
    expect(error.vapiMessage).toContain('property assistantOverride should not exist');
  });

  it('retries GET through two injected 503s', async () => {
    const created = await rest.createCall(CREATE_BODY);
    sim.faults.failNext(2, 503);
    expect((await rest.getCall(created.id)).id).toBe(created.id);
    const gets = sim.requests.filter((r) => r.method === 'GET' && r.path === `/call/${created.id}`);
    expect(gets).toHaveLength(3);
  });

  it('does not retry POST /call after an injected 500: exactly one POST', async () => {
    sim.faults.failNext(1, 500);
    const error = await vapiFailure(rest.createCall(CREATE_BODY));
    expect(error).toMatchObject({ kind: 'http', status: 500, mayHaveSucceeded: true });
    expect(sim.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('reports a control message to an ended call as an HTTP error', async () => {
    const created = await rest.createCall(CREATE_BODY);
    await vi.waitFor(async () => expect((await rest.getCall(created.id)).status).toBe('in-progress'), EVENTUALLY);
    sim.hangup(created.id);
    const error = await vapiFailure(control.endCall(created.monitor!.controlUrl!));
    expect(error).toMatchObject({ kind: 'http', status: 404, operation: 'control end-call' });
  });
});
