/**
 * Simulators for tests that talk to the simulator's wire directly (not through the project's clients): a pool
 * closed after each test, raw REST requests, and the clinic call several listen tests replay.
 */
import { request } from 'undici';
import { afterEach, expect } from 'vitest';
import { startSimulator, type ScriptTurn, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';

/** Starts simulators with `base` options (overridden per call) under each test and closes them all after it. */
export function simulatorPool(base: SimulatorOptions): (options?: SimulatorOptions) => Promise<Simulator> {
  const simulators: Simulator[] = [];
  afterEach(async () => {
    await Promise.all(simulators.splice(0).map((sim) => sim.close()));
  });
  return async (options = {}) => {
    const sim = await startSimulator({ ...base, ...options });
    simulators.push(sim);
    return sim;
  };
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One REST request to the simulator, with its private key unless `key` says otherwise (null: no key). */
export async function simApi(sim: Simulator, method: string, path: string, body?: unknown, key: string | null = sim.apiKey): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${sim.baseUrl}${path}`, {
    method: method as 'GET',
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** POST /call with the simulator's key; expects 201 and returns the Call. */
export async function postCall(sim: Simulator, body: object): Promise<any> {
  const res = await simApi(sim, 'POST', '/call', body);
  expect(res.status).toBe(201);
  return res.body;
}

/** A short clinic call: the assistant's greeting, then three scripted turns. */
export const CLINIC_FIRST_MESSAGE = 'Hi there, this is Riley from the clinic.';
export const CLINIC_SCRIPT: ScriptTurn[] = [
  { role: 'customer', text: 'Hello, who is calling please?', pauseMs: 300 },
  { role: 'assistant', text: 'This is the clinic calling about your visit tomorrow.', pauseMs: 300 },
  { role: 'customer', text: 'Great, thanks for letting me know.', pauseMs: 300 },
];
export const CLINIC_CALL_BODY = {
  assistantId: 'asst-1',
  phoneNumberId: 'pn-1',
  customer: { number: '+15550100' },
  assistantOverrides: { firstMessage: CLINIC_FIRST_MESSAGE },
};
/** Fast, and ringing only once a listener is there, so it hears the whole call however slowly it connects. */
export function clinicSimulator(seed: number): SimulatorOptions {
  return { speed: 200, seed, ringMs: 1000, answerMs: 1000, waitForListener: true, script: CLINIC_SCRIPT };
}
