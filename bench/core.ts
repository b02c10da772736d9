/**
 * One benchmark run: the chosen sections in order, on pinned cores when possible, into one results object.
 * Used by the CLI (run.ts) and, in quick mode, by the smoke test.
 */
import { loadavg } from 'node:os';
import { wallNow } from './lib/clock.js';
import type { RunContext } from './lib/context.js';
import { machineInfo } from './lib/machine.js';
import type { BenchResults } from './lib/results.js';
import { choosePinning, pinSelf } from './lib/proc.js';
import { runBaseline } from './sections/baseline.js';
import { runCapacitySection, type ReferenceBuild } from './sections/capacity-section.js';
import { runClusterSection } from './sections/cluster.js';
import { runDuration } from './sections/duration.js';
import { runHttp } from './sections/http.js';
import { runOverhead } from './sections/overhead.js';
import { runStartup } from './sections/startup.js';
import type { BenchSettings } from './settings.js';
import { checkTargets } from './targets.js';
export type { BenchResults } from './lib/results.js';

export interface RunOptions {
  log?: (line: string) => void;
  serverEntry?: string;
  profileDir?: string;
  /** Another build to ramp beside this one in the capacity section (--ab). */
  reference?: ReferenceBuild;
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
        Object.assign(results, await runCapacitySection(settings.capacity, context, options.reference));
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
      case 'cluster':
        results.cluster = await runClusterSection(settings.cluster, settings.capacity, context);
        break;
    }
    log(`  (${((wallNow() - sectionStarted) / 1000).toFixed(1)} s)`);
  }
  results.wallSeconds = Math.round((wallNow() - started) / 100) / 10;
  results.targets = checkTargets(results);
  return results;
}
