/**
 * Listen capacity: N concurrent real-time calls streamed by the simulator (its own process and core) to one
 * server process (its own core) that listens to all of them, writes WAV + JSONL, and notifies an MCP client
 * subscribed to every transcript. The ramp stops at the first N not held in real time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FIRST_MESSAGE } from '../../src/sim/index.js';
import { sleep, wallNow, waitUntil } from '../lib/clock.js';
import type { RunContext } from '../lib/context.js';
import { jsonlEventCounts, wavBytesOnDisk, wavDataSizes } from '../lib/files.js';
import { analyseLatency, type LatencyReport } from '../lib/latency.js';
import { mapLimit } from '../lib/pool.js';
import { cpuPercent, sampleProcess, stealMs } from '../lib/proc.js';
import { MAX_CONCURRENT_CALLS, ServerProcess, serverEnv, TEST_NUMBER } from '../lib/server-process.js';
import { SimHost } from '../lib/sim-host-client.js';
import type { Emissions, LoadGenSettings } from '../lib/sim-protocol.js';
import { linearFit, median, percentile, round } from '../lib/stats.js';
import type { CapacitySettings } from '../settings.js';
import type { RampOutcome } from './ramp.js';

/** 16 kHz × 2 channels × 2 bytes. */
export const BYTES_PER_SECOND = 64_000;
const BYTES_PER_MS = BYTES_PER_SECOND / 1000;
const MCP_CONCURRENCY = 16;
const GREETING_WORDS = DEFAULT_FIRST_MESSAGE.split(' ');
export const MIN_CALLS_FOR_FIT = 10;

export interface CapacityStep {
  calls: number;
  windowSeconds: number;
  setupSeconds: number;
  server: {
    cpuPercent: number;
    /** After initialize, before any call. */
    rssMbIdle: number;
    /** Median of the RSS samples taken every 250 ms over the window. */
    rssMb: number;
    rssMbPeak: number;
    /** (rssMb − rssMbIdle) / calls. */
    rssKbPerCall: number;
    /** Time the hypervisor took the server's core away during the window (VM steal), when pinned. */
    stealMs: number;
  };
  simulator: { cpuPercent: number; keptUp: boolean; sentVsExpected: number };
  latency: LatencyReport;
  notificationsInWindow: number;
  audio: {
    bytesSent: number;
    bytesWritten: number;
    /** Every call's WAV data (header and file) equals what the simulator sent it. */
    equal: boolean;
    callsMismatched: number;
    /** Audio sent but not yet on disk at the end of the window, per call, in ms of audio. */
    lagMsP99: number;
    lagMsMax: number;
  };
  transcripts: { eventsEmitted: number; eventsOnDisk: number; equal: boolean };
  held: boolean;
  /** Why the step was not held in real time (empty when held). */
  failures: string[];
}

/** A step that could not even be set up (for example the server stopped answering while calls were placed). */
export interface AbortedStep {
  calls: number;
  aborted: true;
  held: false;
  failures: string[];
}

export interface CapacityResult {
  /** Whether the server measured levels and voice-quality metrics (VAPI_AUDIO_ANALYSIS). */
  audioAnalysis: boolean;
  steps: (CapacityStep | AbortedStep)[];
  /** Largest N held in real time (0 if none). */
  maxHeld: number;
  /** Why the ramp stopped. */
  stoppedBecause: string;
  /** Least-squares RSS growth per call over the held steps of at least MIN_CALLS_FOR_FIT calls, KiB. */
  rssKbPerCallFit: number | null;
  /** The largest step in that fit. */
  rssFitMaxCalls: number;
}

export interface Alongside {
  windowStarted(): Promise<void>;
  windowEnded(windowMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Which server a ramp measures: this build or another (--ab), with the audio analysis on or off. */
export interface ServerUnderTest {
  audioAnalysis: boolean;
  /** More environment for the server (cluster mode's VAPI_MCP_REDIS_URL, say). */
  env?: Record<string, string>;
  /** Processes or probes that run beside the server for the step, told when the measured window starts and ends. */
  alongside?: (vapi: { baseUrl: string; apiKey: string }) => Promise<Alongside>;
  /** Another build's dist/index.js; default the context's. */
  entry?: string;
  /** Names the step's CPU profile. */
  label: string;
}

/** A ramp's steps summed up: largest N held, why it stopped, RSS per call. */
export function capacityResult(audioAnalysis: boolean, outcome: RampOutcome<CapacityStep | AbortedStep>): CapacityResult {
  const held = outcome.steps.filter((s): s is CapacityStep => s.held);
  // One or two calls mostly measure first-use costs (code paths compiled, pools created), not per-call state.
  const fitted = held.filter((s) => s.calls >= MIN_CALLS_FOR_FIT);
  const fit = linearFit(fitted.map((s) => ({ x: s.calls, y: s.server.rssMb * 1024 })));
  return {
    audioAnalysis,
    steps: outcome.steps,
    maxHeld: outcome.maxHeld,
    stoppedBecause: outcome.stoppedBecause,
    rssKbPerCallFit: fit ? round(fit.slope, 1) : null,
    rssFitMaxCalls: fitted.reduce((max, s) => Math.max(max, s.calls), 0),
  };
}

export async function runStepSafely(calls: number, settings: CapacitySettings, context: RunContext, server: ServerUnderTest): Promise<CapacityStep | AbortedStep> {
  try {
    return await runStep(calls, settings, context, server);
  } catch (error) {
    return { calls, aborted: true, held: false, failures: [`the step could not run: ${(error as Error).message.split('\n')[0]}`] };
  }
}

export function describeStep(s: CapacityStep | AbortedStep, label = ''): string {
  const name = `  ${String(s.calls).padStart(5)} calls${label ? ` (${label})` : ''}`;
  if ('aborted' in s) return `${name}: NOT held (${s.failures.join('; ')})`;
  const l = s.latency.unthrottled;
  return (
    `${name}: server CPU ${s.server.cpuPercent.toFixed(1)}%, RSS ${s.server.rssMb.toFixed(1)} MB, ` +
    `latency p50/p99/max ${l.p50 ?? '-'}/${l.p99 ?? '-'}/${l.max ?? '-'} ms (n=${l.n}), lag max ${s.audio.lagMsMax} ms, ` +
    `bytes ${s.audio.equal ? 'equal' : 'DIFFER'}, generator CPU ${s.simulator.cpuPercent.toFixed(0)}% → ${s.held ? 'held' : `NOT held (${s.failures.join('; ')})`}`
  );
}

async function runStep(
  calls: number,
  settings: CapacitySettings,
  { pinning, seed, profileDir, serverEntry }: RunContext,
  { audioAnalysis, entry, label, env, alongside }: ServerUnderTest,
): Promise<CapacityStep> {
  const sim = await SimHost.start(loadGenSettings(settings, seed), pinning?.loadCore, 'load-gen');
  const recordingsDir = await mkdtemp(join(tmpdir(), 'vapi-bench-capacity-'));
  const beside = await alongside?.({ baseUrl: sim.baseUrl, apiKey: sim.apiKey });
  const server = new ServerProcess({
    env: { ...serverEnv(sim.baseUrl, sim.apiKey, recordingsDir), VAPI_AUDIO_ANALYSIS: audioAnalysis ? '1' : '0', ...env },
    core: pinning?.measuredCore,
    entry: entry ?? serverEntry,
    nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=server-${calls}-calls-${label}.cpuprofile`] : [],
  });
  try {
    await server.initialize();
    const idle = sampleProcess(server.pid);
    const notified = new Map<string, number[]>();
    server.onNotification((method, params, receivedAt) => {
      if (method !== 'notifications/resources/updated') return;
      const callId = /^vapi:\/\/calls\/([^/]+)\/transcript$/.exec(String(params.uri))?.[1];
      if (callId) (notified.get(callId) ?? notified.set(callId, []).get(callId)!).push(receivedAt);
    });

    // Place every call through MCP (each starts its listener), then subscribe to every transcript. The simulator
    // runs one script for every call: starting the calls over `staggerMs`, each with a greeting of its own
    // length, keeps their events from arriving in lock-step, as independent real calls would not.
    // Past the server's own limit on calls placed at once, the generator places the calls and the server is asked
    // to listen to them (listen_call): the same listener either way.
    const placedElsewhere = calls > MAX_CONCURRENT_CALLS ? await sim.open(calls - MAX_CONCURRENT_CALLS) : [];
    const setupStarted = wallNow();
    const placed = await mapLimit(Array.from({ length: calls }, (_, i) => i), MCP_CONCURRENCY, async (i) => {
      const due = setupStarted + (settings.staggerMs * i) / calls - wallNow();
      if (due > 0) await sleep(due);
      const result =
        i < MAX_CONCURRENT_CALLS
          ? await server.callTool('create_call', { customer: { number: TEST_NUMBER }, firstMessage: greeting(i) })
          : await server.callTool('listen_call', { callId: placedElsewhere[i - MAX_CONCURRENT_CALLS].callId });
      const listening = result.listening as { audioPath?: string; transcriptPath?: string } | undefined;
      if (!listening?.audioPath || !listening.transcriptPath) throw new Error('the server did not start listening');
      return { callId: String(result.callId), audioPath: listening.audioPath, transcriptPath: listening.transcriptPath };
    });
    const callIds = placed.map((c) => c.callId);
    await mapLimit(callIds, MCP_CONCURRENCY, (id) => server.request('resources/subscribe', { uri: `vapi://calls/${id}/transcript` }));
    await waitUntil(async () => Object.values(await sim.bytesSent(callIds)).every((b) => b > 0), 'every call to stream audio', 60_000, 50);
    const setupSeconds = (wallNow() - setupStarted) / 1000;

    await sleep(settings.warmupMs);
    const counts = mergeCounts({}, await sim.drainEmissions());
    const sentBefore = sum(await sim.bytesSent(callIds));
    const simBefore = sampleProcess(sim.pid);
    const before = sampleProcess(server.pid);
    const stealBefore = pinning ? stealMs(pinning.measuredCore) : 0;
    await beside?.windowStarted();
    const windowStart = wallNow();
    // RSS swings by tens of MB with garbage collection: the window's median is the step's figure.
    const rssSamples = [before.rssKb];
    const sampler = setInterval(() => rssSamples.push(sampleProcess(server.pid).rssKb), 250);
    await sleep(settings.windowMs);
    clearInterval(sampler);
    const windowEnd = wallNow();
    const after = sampleProcess(server.pid);
    await beside?.windowEnded(windowEnd - windowStart);
    const stealDuring = pinning ? stealMs(pinning.measuredCore) - stealBefore : 0;
    const simAfter = sampleProcess(sim.pid);
    rssSamples.push(after.rssKb);
    const rssKb = median(rssSamples) ?? after.rssKb;
    const peakRssKb = Math.max(...rssSamples);
    // Disk first, then the simulator: a call's measured lag can only be overstated, never hidden.
    const onDisk = await mapLimit(placed, 32, (c) => wavBytesOnDisk(c.audioPath));
    const sentAtEnd = await sim.bytesSent(callIds);
    const lagsMs = placed.map((c, i) => Math.max(0, sentAtEnd[c.callId] - onDisk[i]) / BYTES_PER_MS).sort((a, b) => a - b);
    const windowEmissions = await sim.drainEmissions();
    mergeCounts(counts, windowEmissions);

    // End every call, let the server finalise the files, then compare them with what was sent.
    await sim.hangup(callIds);
    const finalSent = await sim.bytesSent(callIds);
    await waitUntil(
      async () => (await mapLimit(placed, 32, async (c) => (await wavDataSizes(c.audioPath).catch(() => ({ declared: -1 }))).declared === finalSent[c.callId])).every(Boolean),
      'every WAV file to be finalised',
      30_000,
      100,
    ).catch(() => {});
    mergeCounts(counts, await sim.drainEmissions());
    const sizes = await mapLimit(placed, 32, (c) => wavDataSizes(c.audioPath));
    const mismatched = placed.filter((c, i) => sizes[i].declared !== finalSent[c.callId] || sizes[i].onDisk !== finalSent[c.callId]).length;
    const onDiskEvents = await mapLimit(placed, 32, (c) => jsonlEventCounts(c.transcriptPath));
    const eventsEmitted = callIds.reduce((a, id) => a + (counts[id]?.transcript ?? 0), 0);
    const eventsOnDisk = onDiskEvents.reduce((a, c) => a + (c.transcript ?? 0), 0);

    const latency = analyseLatency({ emitted: windowEmissions.transcripts, notified, from: windowStart, to: windowEnd });
    const windowMs = windowEnd - windowStart;
    const expectedBytes = calls * BYTES_PER_MS * windowMs;
    const sentInWindow = sum(sentAtEnd) - sentBefore;
    const step: CapacityStep = {
      calls,
      windowSeconds: round(windowMs / 1000, 1) ?? 0,
      setupSeconds: round(setupSeconds, 1) ?? 0,
      server: {
        cpuPercent: round(cpuPercent(before, after, windowMs), 1) ?? 0,
        rssMbIdle: mb(idle.rssKb),
        rssMb: mb(rssKb),
        rssMbPeak: mb(peakRssKb),
        rssKbPerCall: round((rssKb - idle.rssKb) / calls, 1) ?? 0,
        stealMs: Math.round(stealDuring),
      },
      simulator: {
        cpuPercent: round(cpuPercent(simBefore, simAfter, windowMs), 1) ?? 0,
        sentVsExpected: round(sentInWindow / expectedBytes, 3) ?? 0,
        keptUp: sentInWindow >= expectedBytes * 0.97,
      },
      latency,
      notificationsInWindow: [...notified.values()].reduce((a, times) => a + times.filter((t) => t >= windowStart && t < windowEnd).length, 0),
      audio: {
        bytesSent: sum(finalSent),
        bytesWritten: sizes.reduce((a, s) => a + s.onDisk, 0),
        equal: mismatched === 0,
        callsMismatched: mismatched,
        lagMsP99: round(percentile(lagsMs, 99), 1) ?? 0,
        lagMsMax: round(lagsMs[lagsMs.length - 1] ?? 0, 1) ?? 0,
      },
      transcripts: { eventsEmitted, eventsOnDisk, equal: eventsEmitted === eventsOnDisk },
      held: false,
      failures: [],
    };
    step.failures = judge(step, settings);
    step.held = step.failures.length === 0;
    return step;
  } finally {
    await server.close().catch(() => {});
    await beside?.close().catch(() => {});
    await sim.close().catch(() => {});
    await rm(recordingsDir, { recursive: true, force: true });
  }
}

export function loadGenSettings(settings: CapacitySettings, seed: number): LoadGenSettings {
  return { seed, captureMinutes: settings.captureMinutes, tickMs: settings.tickMs };
}

/** The real-time criteria, in the order they are reported. */
function judge(step: CapacityStep, settings: CapacitySettings): string[] {
  const failures: string[] = [];
  if (!step.simulator.keptUp) failures.push(`the simulator itself fell behind (sent ${Math.round(step.simulator.sentVsExpected * 100)}% of real time): the load generator, not the server, is the limit`);
  if (step.audio.lagMsMax > settings.maxLagMs) failures.push(`audio on disk lagged up to ${step.audio.lagMsMax} ms behind the stream (limit ${settings.maxLagMs} ms)`);
  const p99 = step.latency.unthrottled.p99;
  if (p99 !== null && p99 > settings.maxLatencyP99Ms) failures.push(`update latency p99 ${p99} ms (limit ${settings.maxLatencyP99Ms} ms)`);
  if (step.latency.unnotified > 0) failures.push(`${step.latency.unnotified} transcript events never produced an update`);
  if (step.server.cpuPercent >= settings.maxCpuPercent) failures.push(`server CPU ${step.server.cpuPercent}% of its core (limit ${settings.maxCpuPercent}%)`);
  if (!step.audio.equal) failures.push(`${step.audio.callsMismatched} WAV files differ from the bytes sent`);
  if (!step.transcripts.equal) failures.push(`JSONL holds ${step.transcripts.eventsOnDisk} transcript events, ${step.transcripts.eventsEmitted} were sent`);
  return failures;
}

/** A greeting of 6 to 24 words, different from its neighbours'. */
function greeting(index: number): string {
  const words = GREETING_WORDS;
  const length = 6 + ((index * 7) % 19);
  return Array.from({ length }, (_, k) => words[k % words.length]).join(' ');
}

function mergeCounts(into: Record<string, Record<string, number>>, emissions: Emissions): Record<string, Record<string, number>> {
  for (const [callId, counts] of Object.entries(emissions.counts)) {
    const target = (into[callId] ??= {});
    for (const [type, n] of Object.entries(counts)) target[type] = (target[type] ?? 0) + n;
  }
  return into;
}

function sum(values: Record<string, number>): number {
  return Object.values(values).reduce((a, b) => a + b, 0);
}

function mb(kb: number): number {
  return round(kb / 1024, 1) ?? 0;
}
