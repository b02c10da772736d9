/**
 * The capacity section: the server's ramp with the audio analysis on and off, the least-work listener's ramp
 * (the physical limit on this core), and with --ab another build's ramp, all interleaved step by step in one run
 * (bench/sections/ramp.ts) against the same load generator.
 */
import type { RunContext } from '../lib/context.js';
import type { CapacitySettings } from '../settings.js';
import { capacityResult, describeStep, runStepSafely, type AbortedStep, type CapacityResult, type CapacityStep, type ServerUnderTest } from './capacity.js';
import { describeAnalysisProfile, profileAnalysis, type AnalysisProfile } from './analysis-profile.js';
import { describeLeastWorkStep, runLeastWorkStep, type LeastWorkStep } from './least-work.js';
import { rotate, runRamps, type RampOutcome, type RampSubject } from './ramp.js';

export interface LeastWorkResult {
  steps: LeastWorkStep[];
  maxHeld: number;
  stoppedBecause: string;
}

export interface ReferenceResult extends CapacityResult {
  /** The git ref given to --ab, and the commit it named. */
  ref: string;
  commit: string;
}

export interface CapacitySectionResult {
  capacity: CapacityResult;
  capacityNoAnalysis?: CapacityResult;
  leastWork?: LeastWorkResult;
  reference?: ReferenceResult;
  /** The load generator alone at settings.generatorProofCalls, against a receiver that only discards. */
  generatorProof?: LeastWorkStep;
  /** The analysis's share of ours's CPU profile at its highest held step. */
  analysisProfile?: AnalysisProfile | { calls: number; failed: string };
}

/** Another build to ramp beside this one (--ab). */
export interface ReferenceBuild {
  ref: string;
  commit: string;
  entry: string;
}

export async function runCapacitySection(settings: CapacitySettings, context: RunContext, reference?: ReferenceBuild): Promise<CapacitySectionResult> {
  const server = (name: string, target: ServerUnderTest): RampSubject<CapacityStep | AbortedStep> => ({
    name,
    run: (calls) => runStepSafely(calls, settings, context, target),
    describe: (step) => describeStep(step, name),
  });
  type AnyStep = CapacityStep | AbortedStep | LeastWorkStep;
  const subjects: RampSubject<AnyStep>[] = [server('ours', { audioAnalysis: true, label: 'ours' }) as RampSubject<AnyStep>];
  if (settings.compareAnalysisOff) subjects.push(server('ours, analysis off', { audioAnalysis: false, label: 'ours-no-analysis' }) as RampSubject<AnyStep>);
  if (reference) {
    // The reference runs as it was built; VAPI_AUDIO_ANALYSIS=0 turns the analysis off in builds that have one.
    subjects.push(server(`${reference.ref}`, { audioAnalysis: false, entry: reference.entry, label: `ref-${reference.commit.slice(0, 7)}` }) as RampSubject<AnyStep>);
  }
  if (settings.leastWork) {
    subjects.push({ name: 'least work', run: (calls) => runLeastWorkStep(calls, settings, context), describe: (s) => describeLeastWorkStep(s as LeastWorkStep) });
  }
  const plan = { steps: settings.steps, maxCalls: settings.maxCalls, growth: settings.growth, bisect: settings.bisect };
  const outcomes = await runRamps(subjects, plan, context.log);
  const byName = (name: string) => outcomes[subjects.findIndex((s) => s.name === name)];
  if (reference && settings.compareAnalysisOff && settings.abRepeats > 0) {
    const pair = [reference.ref, 'ours, analysis off'].map((name) => ({ subject: subjects.find((s) => s.name === name)!, outcome: byName(name) }));
    const heldByBoth = settings.steps.filter((calls) => pair.every(({ outcome }) => outcome.steps.some((s) => s.calls === calls && s.held)));
    const counts = heldByBoth.slice(-2);
    for (let round = 1; round <= settings.abRepeats; round++) {
      for (const calls of counts) {
        for (const { subject, outcome } of rotate(pair, round)) {
          const step = await subject.run(calls);
          outcome.steps.push(step);
          context.log(`${subject.describe(step)} (A/B repeat ${round})`);
        }
      }
    }
  }
  const asServer = (outcome: RampOutcome<AnyStep>) => outcome as RampOutcome<CapacityStep | AbortedStep>;
  const result: CapacitySectionResult = { capacity: capacityResult(true, asServer(byName('ours'))) };
  if (settings.compareAnalysisOff) result.capacityNoAnalysis = capacityResult(false, asServer(byName('ours, analysis off')));
  if (reference) result.reference = { ...capacityResult(false, asServer(byName(reference.ref))), ref: reference.ref, commit: reference.commit };
  if (settings.leastWork) {
    const outcome = byName('least work') as RampOutcome<LeastWorkStep>;
    result.leastWork = { steps: outcome.steps, maxHeld: outcome.maxHeld, stoppedBecause: outcome.stoppedBecause };
  }
  if (settings.profileAnalysis && result.capacity.maxHeld > 0) {
    result.analysisProfile = await profileAnalysis(result.capacity.maxHeld, settings, context);
    context.log(describeAnalysisProfile(result.analysisProfile));
  }
  if (settings.generatorProofCalls > 0) {
    // No listener holds this many calls: the receiver only discards, so what the generator spends is its own.
    result.generatorProof = await runLeastWorkStep(settings.generatorProofCalls, settings, context, 'drain-sink');
    context.log(describeLeastWorkStep(result.generatorProof).replace('(least work)', '(generator proof: drain sink)'));
  }
  return result;
}
