/**
 * Ours against the naive baseline: the same captured call (1, 10, 30 minutes of audio) replayed to a child
 * running this project's CallListener and to a child running the pattern from Vapi's documentation
 * (Buffer.concat per frame, write at close), one after the other on the measured core, at `replaySpeed` × real
 * time (or slower, as fast as the listener reads). The naive pattern copies everything received so far for every
 * frame, so its cost grows with the square of the call's length: runs longer than `naiveCapMs` are stopped and the
 * rest is extrapolated from the measured curve (and marked as such).
 *
 * Two more listeners on the same stream put our cost in proportion: ours with the audio analysis off (what the
 * analysis costs) and the least work that saves the same bytes (`bytes-listener`: frames appended to files, no
 * parsing), of which our CPU is reported as a multiple.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, wallNow } from '../lib/clock.js';
import type { RunContext } from '../lib/context.js';
import type { ListenerChildArgs, ListenerDone, ListenerMessage, ListenerProgress } from '../lib/listener-protocol.js';
import { childScript } from '../lib/paths.js';
import { nodeCommand } from '../lib/proc.js';
import { captureCall, startReplay, type CapturedStream } from '../lib/replay.js';
import { round } from '../lib/stats.js';
import type { BenchSettings } from '../settings.js';
import { BYTES_PER_SECOND } from './capacity.js';

const FRAME_BYTES = 1280;
const FRAME_MS = 20;

export interface ListenerRun {
  /** Finished, with every byte of the stream in its file. */
  completed: boolean;
  /** CPU seconds (user + system, all threads) from connecting to the files being written. */
  cpuSeconds: number;
  peakRssMb: number;
  baselineRssMb: number;
  wallSeconds: number;
  bytesOnDisk: number;
  /** When cut at the cap: how far the measured run got (the figures above are extrapolated). */
  measuredMinutes?: number;
  extrapolated?: boolean;
}

export interface BaselineRow {
  minutes: number;
  audioBytes: number;
  ours: ListenerRun;
  /** Ours with VAPI_AUDIO_ANALYSIS off. */
  oursNoAnalysis: ListenerRun;
  /** Frames appended to files, nothing else. */
  minimal: ListenerRun;
  /** ours ÷ minimal CPU. */
  oursVsMinimal: number;
  naive: ListenerRun;
  /** naive ÷ ours. */
  cpuRatio: number;
  peakRssRatio: number;
}

export interface BaselineResult {
  rows: BaselineRow[];
  /** From the naive cost curve: the call length after which one naive listener needs more than 20 ms of CPU per 20 ms frame. */
  naiveRealTimeLimitMinutes: number | null;
}

export async function runBaseline(settings: BenchSettings['baseline'], context: RunContext): Promise<BaselineResult> {
  const rows: BaselineRow[] = [];
  let curve: QuadraticCost | undefined;
  // Once a naive run has been cut, a longer call (the same seed makes it the same conversation) would be cut at
  // the same point: it is not run again, only extrapolated from that run's curve.
  let cutRun: ChildRun | undefined;
  for (const minutes of settings.minutes) {
    const stream = await captureCall(minutes, context.seed);
    const ours = await runListener('ours-listener', stream, context, Infinity, settings.replaySpeed);
    const oursOff = await runListener('ours-listener', stream, context, Infinity, settings.replaySpeed, false);
    const minimalRun = await runListener('bytes-listener', stream, context, Infinity, settings.replaySpeed);
    const naiveRun = cutRun ?? (await runListener('naive-listener', stream, context, settings.naiveCapMs, settings.replaySpeed));
    if (!naiveRun.done) cutRun = naiveRun;
    curve = fitQuadratic(naiveRun.progress) ?? curve;
    const naive = naiveRun.done ? fromDone(naiveRun.done, stream.audioBytes) : extrapolate(naiveRun.progress, stream.audioBytes, naiveRun.baselineRssKb, curve, naiveRun.wallMs);
    const oursResult = ours.done ? fromDone(ours.done, stream.audioBytes) : failed(ours.wallMs);
    const oursNoAnalysis = oursOff.done ? fromDone(oursOff.done, stream.audioBytes) : failed(oursOff.wallMs);
    const minimal = minimalRun.done ? fromDone(minimalRun.done, stream.audioBytes) : failed(minimalRun.wallMs);
    rows.push({
      minutes,
      audioBytes: stream.audioBytes,
      ours: oursResult,
      oursNoAnalysis,
      minimal,
      oursVsMinimal: round(oursResult.cpuSeconds / Math.max(minimal.cpuSeconds, 0.001), 2) ?? 0,
      naive,
      cpuRatio: ratio(naive.cpuSeconds, oursResult.cpuSeconds),
      peakRssRatio: round(naive.peakRssMb / Math.max(oursResult.peakRssMb, 1), 1) ?? 0,
    });
    context.log(
      `  ${minutes} min: ours ${oursResult.cpuSeconds} s CPU (${oursNoAnalysis.cpuSeconds} s without analysis; least work ${minimal.cpuSeconds} s, ours = ${round(oursResult.cpuSeconds / Math.max(minimal.cpuSeconds, 0.001), 2)}×) / ${oursResult.peakRssMb} MB peak; naive ${naive.extrapolated ? '≈' : ''}${naive.cpuSeconds} s CPU / ${naive.extrapolated ? '≥' : ''}${naive.peakRssMb} MB peak${naive.extrapolated ? ` (cut at ${naive.measuredMinutes} min, extrapolated)` : ''}`,
    );
  }
  return { rows, naiveRealTimeLimitMinutes: curve ? realTimeLimitMinutes(curve) : null };
}

interface ChildRun {
  done?: ListenerDone;
  progress: ListenerProgress[];
  baselineRssKb: number;
  wallMs: number;
}

async function runListener(
  name: 'ours-listener' | 'naive-listener' | 'bytes-listener',
  stream: CapturedStream,
  context: RunContext,
  capMs: number,
  speed: number,
  audioAnalysis = true,
): Promise<ChildRun> {
  const outDir = await mkdtemp(join(tmpdir(), `vapi-bench-${name}-`));
  const replay = await startReplay(stream, speed);
  const args: ListenerChildArgs = { url: replay.url, callId: stream.callId, outDir, audioAnalysis };
  const profile = context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`, `--cpu-prof-name=${name}-${stream.callId}-${audioAnalysis ? 'analysis' : 'no-analysis'}.cpuprofile`] : [];
  const { command, args: argv } = nodeCommand([...profile, childScript(name), JSON.stringify(args)], context.pinning?.measuredCore);
  const child = spawn(command, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const progress: ListenerProgress[] = [];
  const started = wallNow();
  let allSent = false;
  void replay.sent.then(() => (allSent = true), () => {});
  try {
    const done = await new Promise<ListenerDone | undefined>((resolve, reject) => {
      const cap = Number.isFinite(capMs) ? setTimeout(() => resolve(undefined), capMs) : undefined;
      child.on('message', (message: ListenerMessage) => {
        if (message.type === 'progress') {
          progress.push(message);
          // Every byte is in: end the call the way Vapi does, by closing the socket.
          if (allSent && message.bytes === stream.audioBytes) replay.end();
        } else {
          clearTimeout(cap);
          resolve(message);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(cap);
        if (code !== 0) reject(new Error(`${name} exited with code ${code}`));
      });
    });
    return { done, progress, baselineRssKb: done?.baselineRssKb ?? progress[0]?.rssKb ?? 0, wallMs: wallNow() - started };
  } finally {
    // A profiled child writes its profile as it exits: give it the time to.
    if (profile.length > 0 && child.exitCode === null) await Promise.race([once(child, 'exit'), sleep(10_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await replay.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

/** A finished run; `completed` only when every byte of the stream reached the file. */
function fromDone(done: ListenerDone, streamBytes: number): ListenerRun {
  return {
    completed: done.bytesOnDisk === streamBytes,
    cpuSeconds: round(done.cpuMs / 1000, 2) ?? 0,
    peakRssMb: round(done.maxRssKb / 1024, 1) ?? 0,
    baselineRssMb: round(done.baselineRssKb / 1024, 1) ?? 0,
    wallSeconds: round(done.wallMs / 1000, 2) ?? 0,
    bytesOnDisk: done.bytesOnDisk,
  };
}

function ratio(naive: number, ours: number): number {
  const value = naive / Math.max(ours, 0.001);
  return round(value, value >= 100 ? 0 : 1) ?? 0;
}

function failed(wallMs: number): ListenerRun {
  return { completed: false, cpuSeconds: 0, peakRssMb: 0, baselineRssMb: 0, wallSeconds: round(wallMs / 1000, 2) ?? 0, bytesOnDisk: 0 };
}

/** CPU ms as a function of audio bytes received: a·x² + b·x (no copy before the first byte). */
interface QuadraticCost {
  a: number;
  b: number;
}

/**
 * Fitted on the later half of the measured run: early frames copy buffers that still fit in the CPU caches and
 * are cheaper per byte than the rest of a long call, so a fit over the whole run would flatter the naive pattern.
 */
export function fitQuadratic(samples: readonly ListenerProgress[]): QuadraticCost | undefined {
  const reached = samples.reduce((max, s) => Math.max(max, s.bytes), 0);
  const points = samples.filter((s) => s.bytes > 0 && s.bytes >= reached / 2);
  if (points.length < 3) return undefined;
  // Least squares for y = a·x² + b·x: normal equations of the two-column design [x², x].
  let s4 = 0;
  let s3 = 0;
  let s2 = 0;
  let y2 = 0;
  let y1 = 0;
  for (const { bytes: x, cpuMs: y } of points) {
    s4 += x ** 4;
    s3 += x ** 3;
    s2 += x ** 2;
    y2 += y * x ** 2;
    y1 += y * x;
  }
  const det = s4 * s2 - s3 * s3;
  if (det === 0) return undefined;
  return { a: (y2 * s2 - y1 * s3) / det, b: (s4 * y1 - s3 * y2) / det };
}

function extrapolate(progress: readonly ListenerProgress[], totalBytes: number, baselineRssKb: number, curve: QuadraticCost | undefined, wallMs: number): ListenerRun {
  const last = progress[progress.length - 1];
  const cpuMs = curve ? curve.a * totalBytes ** 2 + curve.b * totalBytes : NaN;
  return {
    completed: false,
    extrapolated: true,
    measuredMinutes: round((last?.bytes ?? 0) / BYTES_PER_SECOND / 60, 2) ?? 0,
    cpuSeconds: round(cpuMs / 1000, 0) ?? 0,
    // At the last frame the whole call is held twice: the old buffer and the new one Buffer.concat fills.
    peakRssMb: round((baselineRssKb * 1024 + 2 * totalBytes) / 2 ** 20, 0) ?? 0,
    baselineRssMb: round(baselineRssKb / 1024, 1) ?? 0,
    wallSeconds: round(wallMs / 1000, 1) ?? 0,
    bytesOnDisk: 0,
  };
}

function realTimeLimitMinutes({ a, b }: QuadraticCost): number | null {
  if (a <= 0) return null;
  // Marginal CPU per frame at x bytes: (2a·x + b)·FRAME_BYTES ms; real time allows FRAME_MS per frame.
  const bytes = (FRAME_MS / FRAME_BYTES - b) / (2 * a);
  return bytes > 0 ? round(bytes / BYTES_PER_SECOND / 60, 1) : 0;
}
