/**
 * The physical limit beside the server's: the least work that saves the same bytes (bench/children/bytes-listener.ts,
 * one socket and two append-only files per call, nothing parsed), listening to N real-time calls from the same
 * load generator, in one process on the same core as the server. Its ceiling is what Node can do on this machine;
 * the capacity section reports ours as a share of it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, wallNow, waitUntil } from '../lib/clock.js';
import type { RunContext } from '../lib/context.js';
import type { ManyListenerChildArgs, ManyListenerMessage } from '../lib/listener-protocol.js';
import { childScript } from '../lib/paths.js';
import { mapLimit } from '../lib/pool.js';
import { cpuPercent, nodeCommand, sampleProcess } from '../lib/proc.js';
import { SimHost } from '../lib/sim-host-client.js';
import { round } from '../lib/stats.js';
import type { CapacitySettings } from '../settings.js';
import { BYTES_PER_SECOND, loadGenSettings } from './capacity.js';

const BYTES_PER_MS = BYTES_PER_SECOND / 1000;

export interface LeastWorkStep {
  calls: number;
  windowSeconds: number;
  listener: { cpuPercent: number; rssMb: number };
  generator: { cpuPercent: number; keptUp: boolean; sentVsExpected: number };
  audio: { bytesSent: number; equal: boolean; callsMismatched: number; lagMsMax: number };
  held: boolean;
  failures: string[];
}

/**
 * `bytes-listener`: the least-work listener (the physical limit). `drain-sink`: a receiver that only reads and
 * discards (bench/children/drain-sink.ts), to measure the load generator itself at a count no listener holds.
 */
export type Receiver = 'bytes-listener' | 'drain-sink';

export async function runLeastWorkStep(calls: number, settings: CapacitySettings, { pinning, seed }: RunContext, receiver: Receiver = 'bytes-listener'): Promise<LeastWorkStep> {
  const savesFiles = receiver === 'bytes-listener';
  const generator = await SimHost.start(loadGenSettings(settings, seed), pinning?.loadCore, 'load-gen');
  const outDir = await mkdtemp(join(tmpdir(), 'vapi-bench-least-work-'));
  try {
    const opened = await generator.open(calls);
    const callIds = opened.map((c) => c.callId);
    const args: ManyListenerChildArgs = { calls: opened, outDir, staggerMs: settings.staggerMs };
    // Thousands of URLs are too long for one command-line argument: they go in a file.
    const argsFile = join(outDir, 'calls.json');
    await writeFile(argsFile, JSON.stringify(args));
    const { command, args: argv } = nodeCommand([childScript(receiver), `@${argsFile}`], pinning?.measuredCore);
    const child = spawn(command, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const messages: ManyListenerMessage[] = [];
    const message = (type: ManyListenerMessage['type']) =>
      waitUntil(() => messages.some((m) => m.type === type) || child.exitCode !== null, `the least-work listener to say ${type}`, 120_000, 50);
    child.on('message', (m: ManyListenerMessage) => messages.push(m));
    try {
      await message('open');
      if (child.exitCode !== null) throw new Error(`the least-work listener exited (code ${child.exitCode})`);
      await sleep(settings.warmupMs);
      const sentBefore = sum(await generator.bytesSent(callIds));
      const before = sampleProcess(child.pid!);
      const genBefore = sampleProcess(generator.pid);
      const windowStart = wallNow();
      await sleep(settings.windowMs);
      const windowMs = wallNow() - windowStart;
      const after = sampleProcess(child.pid!);
      const genAfter = sampleProcess(generator.pid);
      const onDisk = savesFiles ? await mapLimit(callIds, 32, (id) => fileSize(join(outDir, `${id}.pcm`))) : [];
      const sentAtEnd = await generator.bytesSent(callIds);
      const lagMsMax = savesFiles ? Math.max(0, ...callIds.map((id, i) => (sentAtEnd[id] - onDisk[i]) / BYTES_PER_MS)) : 0;
      await generator.hangup(callIds);
      await message('closed');
      const finalSent = await generator.bytesSent(callIds);
      const closed = messages.find((m): m is Extract<ManyListenerMessage, { type: 'closed' }> => m.type === 'closed');
      // The drain sink counts every byte it read (frame headers, events, handshake): only the listener saves audio alone.
      const mismatched = savesFiles ? callIds.filter((id) => closed?.bytes[id] !== finalSent[id]).length : callIds.filter((id) => (closed?.bytes[id] ?? 0) < finalSent[id]).length;
      const sentInWindow = sum(sentAtEnd) - sentBefore;
      const expected = calls * BYTES_PER_MS * windowMs;
      const step: LeastWorkStep = {
        calls,
        windowSeconds: round(windowMs / 1000, 1) ?? 0,
        listener: { cpuPercent: round(cpuPercent(before, after, windowMs), 1) ?? 0, rssMb: round(after.rssKb / 1024, 1) ?? 0 },
        generator: {
          cpuPercent: round(cpuPercent(genBefore, genAfter, windowMs), 1) ?? 0,
          sentVsExpected: round(sentInWindow / expected, 3) ?? 0,
          keptUp: sentInWindow >= expected * 0.97,
        },
        audio: { bytesSent: sum(finalSent), equal: mismatched === 0, callsMismatched: mismatched, lagMsMax: round(lagMsMax, 1) ?? 0 },
        held: false,
        failures: [],
      };
      step.failures = judgeLeastWork(step, settings);
      step.held = step.failures.length === 0;
      return step;
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
  } finally {
    await generator.close().catch(() => {});
    await rm(outDir, { recursive: true, force: true });
  }
}

/** The capacity section's real-time criteria that apply to a listener with no MCP client. */
function judgeLeastWork(step: LeastWorkStep, settings: CapacitySettings): string[] {
  const failures: string[] = [];
  if (!step.generator.keptUp) failures.push(`the load generator fell behind (sent ${Math.round(step.generator.sentVsExpected * 100)}% of real time)`);
  if (step.audio.lagMsMax > settings.maxLagMs) failures.push(`audio on disk lagged up to ${step.audio.lagMsMax} ms behind the stream (limit ${settings.maxLagMs} ms)`);
  if (step.listener.cpuPercent >= settings.maxCpuPercent) failures.push(`listener CPU ${step.listener.cpuPercent}% of its core (limit ${settings.maxCpuPercent}%)`);
  if (!step.audio.equal) failures.push(`${step.audio.callsMismatched} files differ from the bytes sent`);
  return failures;
}

export function describeLeastWorkStep(s: LeastWorkStep): string {
  return (
    `  ${String(s.calls).padStart(5)} calls (least work): CPU ${s.listener.cpuPercent.toFixed(1)}%, RSS ${s.listener.rssMb} MB, lag max ${s.audio.lagMsMax} ms, ` +
    `bytes ${s.audio.equal ? 'equal' : 'DIFFER'}, generator CPU ${s.generator.cpuPercent.toFixed(0)}% → ${s.held ? 'held' : `NOT held (${s.failures.join('; ')})`}`
  );
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function sum(values: Record<string, number>): number {
  return Object.values(values).reduce((a, b) => a + b, 0);
}
