import { describe, expect, it } from 'vitest';
import { abPairs } from '../bench/report-capacity.js';
import type { CapacityResult, CapacityStep } from '../bench/sections/capacity.js';
import { runRamps, type RampStep, type RampSubject } from '../bench/sections/ramp.js';

/** A subject that holds every count up to `ceiling`, recording what it was asked to run. */
function subject(name: string, ceiling: number, asked: number[]): RampSubject<RampStep> {
  return {
    name,
    run: async (calls) => {
      asked.push(calls);
      return { calls, held: calls <= ceiling, failures: calls <= ceiling ? [] : ['over the ceiling'] };
    },
    describe: (step) => `${name} ${step.calls}`,
  };
}

describe('the capacity ramps', () => {
  it('grow past the listed steps by the growth factor, stop when every subject failed, then bisect each', async () => {
    const low: number[] = [];
    const high: number[] = [];
    const [a, b] = await runRamps([subject('low', 620, low), subject('high', 900, high)], { steps: [100, 400, 800], maxCalls: 12_800, growth: 1.25, bisect: 2 }, () => {});
    // 800 × 1.25 = 1,000: the highest step is a quarter above the last one held, not twice it.
    expect(high).toEqual([100, 400, 800, 1000, 900, 950]);
    expect(low).toEqual([100, 400, 800, 600, 700]);
    expect(a.maxHeld).toBe(600);
    expect(b.maxHeld).toBe(900);
    expect(b.stoppedBecause).toMatch(/^1000 calls not held/);
  });

  it('end at maxCalls with every step held', async () => {
    const asked: number[] = [];
    const [outcome] = await runRamps([subject('all', 10_000, asked)], { steps: [10], maxCalls: 20, growth: 1.25, bisect: 3 }, () => {});
    // Growth never stalls below 50 calls: each step is at least one call more.
    expect(asked).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(outcome.stoppedBecause).toBe('the ramp ended at 20 calls with every step held');
  });
});

describe('the A/B pairs', () => {
  const step = (calls: number, cpuPercent: number, held = true) => ({ calls, held, failures: [], server: { cpuPercent } }) as unknown as CapacityStep;
  const result = (steps: CapacityStep[]) => ({ steps }) as CapacityResult;

  it('pair the n-th run of a count in one build with the n-th in the other, only where both held', () => {
    const ref = result([step(100, 20), step(400, 50), step(800, 90), step(400, 52), step(800, 88, false), step(400, 49)]);
    const ours = result([step(100, 19), step(400, 47), step(800, 92), step(400, 55), step(800, 86), step(900, 99, false)]);
    expect(abPairs(ref, ours)).toEqual([
      { calls: 100, ref: 20, ours: 19 },
      { calls: 400, ref: 50, ours: 47 },
      { calls: 400, ref: 52, ours: 55 },
      { calls: 800, ref: 90, ours: 92 },
    ]);
  });
});
