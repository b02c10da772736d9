/** Simulators for tests that talk to the simulator's wire directly (not through the project's clients). */
import { request } from 'undici';
import { afterEach, expect } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';

/** Starts simulators with `base` options under each test and closes them all after it. */
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

/** POST /call with the simulator's key; expects 201 and returns the Call. */
export async function postCall(sim: Simulator, body: object): Promise<any> {
  const res = await request(`${sim.baseUrl}/call`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.statusCode).toBe(201);
  return res.body.json();
}
