/**
 * A refused listen handshake (any non-101 answer) against the simulator: the listener checks GET /call/{id}
 * after each refusal, then waits for the answer, or ends because the call is over, or stops with "listening
 * unavailable" and the HTTP status, after a bounded number of tries.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallListener } from '../src/live/listener.js';
import { silentLogger } from '../src/log.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/sim/index.js';
import { VapiRestClient } from '../src/vapi/rest.js';
import { until } from './helpers/harness.js';

const CALL = { assistantId: 'asst-1', phoneNumberId: 'pn-1', customer: { number: '+14155550100' } };
const MAX_ATTEMPTS = 2;

let sim: Simulator | undefined;
let dir: string;
const listeners: CallListener[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'refusal-'));
});
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.stop()));
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

async function setUp(options: SimulatorOptions) {
  sim = await startSimulator({ seed: 4, ...options });
  const rest = new VapiRestClient({ baseUrl: sim.baseUrl, apiKey: sim.apiKey, retry: { baseDelayMs: 2, maxDelayMs: 10 } });
  const call = await rest.createCall(CALL);
  const statusChecks = () => sim!.requests.filter((r) => r.method === 'GET' && r.path === `/call/${call.id}`).length;
  const listen = () => {
    const listener = new CallListener({
      callId: call.id,
      listenUrl: call.monitor!.listenUrl!,
      recordingsDir: dir,
      saveAudio: false,
      getCall: (id) => rest.getCall(id),
      logger: silentLogger,
      reconnect: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 5, maxDelayMs: 20 },
      endGraceMs: 50,
    });
    listeners.push(listener);
    return listener;
  };
  return { sim, call, listen, statusChecks };
}

const untilStatus = (sim: Simulator, id: string, status: string) =>
  until(() => sim.getCall(id)?.status === status || undefined, 10_000, `call ${status}`);

describe('refused listen handshakes', () => {
  it('on a live call: a GET /call check after each refusal, then "listening unavailable" with the status, bounded', async () => {
    const { sim, call, listen, statusChecks } = await setUp({ speed: 20, ringMs: 0, answerMs: 0, hangupAfterScript: false });
    await untilStatus(sim, call.id, 'in-progress');
    sim.faults.rejectListenUpgrades(100, 400);
    const listener = listen();
    await listener.whenEnded();
    const state = listener.state();
    expect(state).toMatchObject({ listening: false, connected: false, ended: false, status: 'in-progress' });
    expect(state.listenError).toMatch(/^listening unavailable: .*HTTP 400 "Bad Request".*after 2 retries; the call was in-progress/);
    // The first try and MAX_ATTEMPTS retries, each refusal checked against GET /call/{id}: nothing more.
    expect(statusChecks()).toBe(MAX_ATTEMPTS + 1);
    expect(sim.getCall(call.id)?.status).toBe('in-progress');
  });

  it('on a call that is over: "call is over" after one check, no error and no retry', async () => {
    const { sim, call, listen, statusChecks } = await setUp({ speed: 20 });
    sim.hangup(call.id, 'call.forwarding.no-answer');
    sim.faults.rejectListenUpgrades(100, 400);
    const listener = listen();
    await listener.whenEnded();
    expect(listener.state()).toMatchObject({ ended: true, endedReason: 'call.forwarding.no-answer', listening: false });
    expect(listener.state().listenError).toBeUndefined();
    expect(statusChecks()).toBe(1);
  });

  it('before the answer: refusals cost no attempts while GET /call says ringing, then it listens', async () => {
    // Rings for 60 s of call time (6 s of wall time): the refusals below all happen before the answer.
    const { sim, call, listen, statusChecks } = await setUp({ speed: 10, ringMs: 0, answerMs: 60_000 });
    await untilStatus(sim, call.id, 'ringing');
    const refusals = MAX_ATTEMPTS + 3;
    sim.faults.rejectListenUpgrades(refusals, 400);
    const listener = listen();
    await until(() => listener.state().connected || !listener.state().listening || undefined, 10_000, 'connected');
    expect(listener.state()).toMatchObject({ connected: true, listening: true });
    expect(listener.state().listenError).toBeUndefined();
    expect(statusChecks()).toBe(refusals);
    expect(sim.getCall(call.id)?.status).toBe('ringing');
    sim.hangup(call.id);
    await listener.whenEnded();
    expect(listener.state()).toMatchObject({ ended: true, endedReason: 'customer-ended-call' });
  });

  it('a refused key (401/403) still checks the call first: an ended call is not reported as a key problem', async () => {
    const { sim, call, listen, statusChecks } = await setUp({ speed: 20 });
    sim.hangup(call.id);
    sim.faults.rejectListenUpgrades(1, 403);
    const listener = listen();
    await listener.whenEnded();
    expect(listener.state()).toMatchObject({ ended: true });
    expect(listener.state().listenError).toBeUndefined();
    expect(statusChecks()).toBe(1);
  });
});
