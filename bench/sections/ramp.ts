/**
 * Several ramps in one run, step by step: at each count of calls every subject that has not failed yet runs once,
 * in an order that rotates from step to step, so a neighbour's noise or the machine's drift falls on all of them
 * alike. Past the listed steps the count grows by `growth` (rounded to 50 calls) until every subject has failed (or
 * `maxCalls`); then each subject bisects between its largest held count and its first failure. A modest growth
 * keeps the highest step, where the load generator works hardest, near the subjects' ceilings.
 */

export interface RampStep {
  calls: number;
  held: boolean;
  failures: string[];
}

export interface RampSubject<S extends RampStep> {
  name: string;
  run(calls: number): Promise<S>;
  describe(step: S): string;
}

export interface RampOutcome<S extends RampStep> {
  steps: S[];
  /** Largest N held (0 if none). */
  maxHeld: number;
  stoppedBecause: string;
}

export interface RampPlan {
  steps: number[];
  /** Keep growing past the last listed step, up to this many calls. */
  maxCalls: number;
  /** Each step past the listed ones is this many times the one before. */
  growth: number;
  bisect: number;
}

export async function runRamps<S extends RampStep>(subjects: RampSubject<S>[], plan: RampPlan, log: (line: string) => void): Promise<RampOutcome<S>[]> {
  const state = subjects.map((subject) => ({ subject, steps: [] as S[], lastHeld: 0, failedAt: undefined as number | undefined, stoppedBecause: '' }));
  let round = 0;
  let calls = 0;
  for (let index = 0; ; index++, round++) {
    const next = index < plan.steps.length ? plan.steps[index] : grow(calls, plan.growth);
    const active = state.filter((s) => s.failedAt === undefined);
    if (active.length === 0) break;
    if (next > plan.maxCalls || next <= 0) {
      for (const s of active) s.stoppedBecause = `the ramp ended at ${calls} calls with every step held`;
      break;
    }
    calls = next;
    for (const s of rotate(active, round)) {
      const step = await s.subject.run(calls);
      s.steps.push(step);
      log(s.subject.describe(step));
      if (step.held) {
        s.lastHeld = calls;
      } else {
        s.failedAt = calls;
        s.stoppedBecause = `${calls} calls not held: ${step.failures.join('; ')}`;
      }
    }
  }
  for (let i = 0; i < plan.bisect; i++, round++) {
    const gaps = state.filter((s) => s.failedAt !== undefined && s.failedAt - s.lastHeld > 1);
    for (const s of rotate(gaps, round)) {
      const mid = Math.round((s.lastHeld + s.failedAt!) / 2);
      const step = await s.subject.run(mid);
      s.steps.push(step);
      log(s.subject.describe(step));
      if (step.held) s.lastHeld = mid;
      else s.failedAt = mid;
    }
  }
  return state.map((s) => ({ steps: s.steps, maxHeld: s.steps.reduce((max, step) => (step.held ? Math.max(max, step.calls) : max), 0), stoppedBecause: s.stoppedBecause }));
}

function grow(calls: number, growth: number): number {
  return Math.max(calls + 1, Math.round((calls * growth) / 50) * 50);
}

export function rotate<T>(items: T[], by: number): T[] {
  if (items.length === 0) return items;
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
