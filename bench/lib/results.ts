/** What one bench run found: every section's results and the targets checked against them. */
import type { MachineInfo } from './machine.js';
import type { Pinning } from './proc.js';
import type { BaselineResult } from '../sections/baseline.js';
import type { CapacityResult } from '../sections/capacity.js';
import type { AnalysisProfile } from '../sections/analysis-profile.js';
import type { LeastWorkResult, ReferenceResult } from '../sections/capacity-section.js';
import type { LeastWorkStep } from '../sections/least-work.js';
import type { ClusterResult } from '../sections/cluster.js';
import type { DurationResult } from '../sections/duration.js';
import type { HttpResult } from '../sections/http.js';
import type { OverheadResult } from '../sections/overhead.js';
import type { StartupResult } from '../sections/startup.js';
import type { BenchSettings } from '../settings.js';

export interface TargetCheck {
  target: string;
  measured: string;
  /** null: not measured by this run; 'partly': see `measured`. */
  met: boolean | 'partly' | null;
}

export interface BenchResults {
  mode: BenchSettings['mode'];
  startedAt: string;
  wallSeconds: number;
  machine: MachineInfo;
  /** 1/5/15-minute load averages when the run started: other work on the machine skews every figure. */
  loadAverage: number[];
  pinning: Pinning | null;
  serverEntry: string | null;
  settings: BenchSettings;
  capacity?: CapacityResult;
  /** The same ramp with the audio analysis off, when settings.capacity.compareAnalysisOff. */
  capacityNoAnalysis?: CapacityResult;
  /** The least-work listener's ramp on the same core (the physical limit), when settings.capacity.leastWork. */
  leastWork?: LeastWorkResult;
  /** Another build's ramp in the same run (--ab). */
  reference?: ReferenceResult;
  /** The load generator alone at settings.capacity.generatorProofCalls, against a receiver that only discards. */
  generatorProof?: LeastWorkStep;
  /** The analysis's share of the server's CPU profile at ours's highest held step. */
  analysisProfile?: AnalysisProfile | { calls: number; failed: string };
  duration?: DurationResult;
  baseline?: BaselineResult;
  startup?: StartupResult;
  overhead?: OverheadResult;
  /** Calls watched by several Streamable HTTP sessions. */
  http?: HttpResult;
  /** Cluster mode against the in-memory default, and a failover. */
  cluster?: ClusterResult | { skipped: string };
  targets: TargetCheck[];
}
