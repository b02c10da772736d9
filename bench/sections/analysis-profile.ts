/**
 * What the audio analysis costs, attributed rather than subtracted: ours (analysis on) runs its highest held step
 * once more under V8's sampling profiler, and the analysis's modules' self time is taken as a share of the
 * server's busy time in the steady middle of the step. Two ramps' CPU differenced step by step (the other
 * measure, also reported) carries each step's noise twice, which on a shared machine is of the size of the share.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunContext } from '../lib/context.js';
import { round } from '../lib/stats.js';
import { summariseProfile, type CpuProfile } from '../profiling/cpuprofile-summary.js';
import type { CapacitySettings } from '../settings.js';
import { runStepSafely } from './capacity.js';

/** The analyzer's modules in the build (src/live/audio-analysis.ts and those it is made of). */
const ANALYSIS_FILES = ['dist/live/audio-analysis.js', 'dist/live/pcm-kernel.js', 'dist/live/voice-activity.js', 'dist/live/turn-taking.js'];
/**
 * Its WebAssembly kernel (src/live/pcm-kernel.wat): V8 profiles it under the url wasm://wasm/<module name>-<hash>,
 * the name being the one the .wat gives the module. Other WebAssembly in the server (undici's HTTP parser) is not it.
 */
const ANALYSIS_WASM = 'wasm://wasm/pcm_kernel-';
/** The streaming part of a step's profile: after the calls are placed and warmed up, before the hang-ups. */
const STEADY_WINDOW: [number, number] = [0.4, 0.8];

export interface AnalysisProfile {
  calls: number;
  /** Server CPU of the profiled step (the profiler adds its own). */
  serverCpuPercent: number;
  busyMs: number;
  analysisMs: number;
  /** analysisMs ÷ busyMs. */
  share: number;
  byFile: { file: string; selfMs: number }[];
}

export async function profileAnalysis(calls: number, settings: CapacitySettings, context: RunContext): Promise<AnalysisProfile | { calls: number; failed: string }> {
  const profileDir = await mkdtemp(join(tmpdir(), 'vapi-bench-analysis-profile-'));
  try {
    const step = await runStepSafely(calls, settings, { ...context, profileDir }, { audioAnalysis: true, label: 'ours-analysis-profile' });
    if ('aborted' in step) return { calls, failed: step.failures.join('; ') };
    const file = (await readdir(profileDir)).find((name) => name.endsWith('.cpuprofile'));
    if (!file) return { calls, failed: 'the server wrote no CPU profile' };
    const profile = JSON.parse(await readFile(join(profileDir, file), 'utf8')) as CpuProfile;
    const summary = summariseProfile(profile, Number.MAX_SAFE_INTEGER, STEADY_WINDOW);
    const busyMs = summary.totalMs - summary.idleMs;
    const byFile = ANALYSIS_FILES.map((file) => ({ file, selfMs: summary.files.find((f) => f.file.endsWith(file))?.selfMs ?? 0 }));
    const wasmMs = summary.files.filter((f) => f.file.startsWith(ANALYSIS_WASM)).reduce((sum, f) => sum + f.selfMs, 0);
    byFile.push({ file: 'pcm-kernel.wat (WebAssembly)', selfMs: round(wasmMs, 1) ?? 0 });
    const analysisMs = byFile.reduce((sum, f) => sum + f.selfMs, 0);
    return { calls, serverCpuPercent: step.server.cpuPercent, busyMs, analysisMs: round(analysisMs, 0) ?? 0, share: busyMs > 0 ? analysisMs / busyMs : 0, byFile };
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}

export function describeAnalysisProfile(p: AnalysisProfile | { calls: number; failed: string }): string {
  if ('failed' in p) return `  ${String(p.calls).padStart(5)} calls (ours, profiled): could not attribute the analysis (${p.failed})`;
  return `  ${String(p.calls).padStart(5)} calls (ours, profiled): the analysis is ${(p.share * 100).toFixed(1)}% of the server's busy time (${p.analysisMs} of ${p.busyMs} ms)`;
}
