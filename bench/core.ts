/**
 * One benchmark run: the chosen sections in order, on pinned cores when possible, into one results object.
 * Used by the CLI (run.ts) and, in quick mode, by the smoke test.
 */
import { loadavg } from 'node:os';
import { wallNow } from './lib/clock.js';
import type { RunContext } from './lib/context.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { choosePinning, pinSelf, type Pinning } from './lib/proc.js';
import { runBaseline, type BaselineResult } from './sections/baseline.js';
import { runCapacity, type CapacityResult } from './sections/capacity.js';
import { runDuration, type DurationResult } from './sections/duration.js';
import { runHttp, type HttpResult } from './sections/http.js';
import { runOverhead, type OverheadResult } from './sections/overhead.js';
import { runStartup, type StartupResult } from './sections/startup.js';
import type { BenchSettings } from './settings.js';
import { checkTargets, type TargetCheck } from './targets.js';

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
  duration?: DurationResult;
  baseline?: BaselineResult;
  startup?: StartupResult;
  overhead?: OverheadResult;
  http?: HttpResult;
  targets: TargetCheck[];
}

export interface RunOptions {
  log?: (line: string) => void;
  serverEntry?: string;
  profileDir?: string;
}

export async function runBench(settings: BenchSettings, options: RunOptions = {}): Promise<BenchResults> {
  const log = options.log ?? (() => {});
  // Before pinning: the core count reflects this process's CPU affinity.
  const machine = machineInfo();
  const pinning = settings.pin ? choosePinning() : undefined;
  if (pinning) pinSelf(pinning.loadCore);
  const context: RunContext = { pinning, seed: settings.seed, serverEntry: options.serverEntry, profileDir: options.profileDir, log };
  const started = wallNow();
  const results: BenchResults = {
    mode: settings.mode,
    startedAt: new Date().toISOString(),
    wallSeconds: 0,
    machine,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    pinning: pinning ?? null,
    serverEntry: options.serverEntry ?? null,
    settings,
    targets: [],
  };
  log(
    pinning
      ? `server and listeners pinned to core ${pinning.measuredCore}; simulator and driver to core ${pinning.loadCore}`
      : 'not pinned to cores (taskset unavailable, fewer than 2 cores, or --no-pin)',
  );
  for (const section of settings.sections) {
    const sectionStarted = wallNow();
    log(`${section}:`);
    switch (section) {
      case 'capacity':
        results.capacity = await runCapacity(settings.capacity, context);
        if (settings.capacity.compareAnalysisOff) {
          log('capacity with the audio analysis off:');
          results.capacityNoAnalysis = await runCapacity(settings.capacity, context, false);
        }
        break;
      case 'duration':
        results.duration = await runDuration(settings.duration, context);
        break;
      case 'baseline':
        results.baseline = await runBaseline(settings.baseline, context);
        break;
      case 'startup':
        results.startup = await runStartup(settings.startup, context);
        break;
      case 'overhead':
        results.overhead = await runOverhead(settings.overhead, context);
        break;
      case 'http':
        results.http = await runHttp(settings.http, context);
        break;
    }
    log(`  (${((wallNow() - sectionStarted) / 1000).toFixed(1)} s)`);
  }
  results.wallSeconds = Math.round((wallNow() - started) / 100) / 10;
  results.targets = checkTargets(results);
  return results;
}
