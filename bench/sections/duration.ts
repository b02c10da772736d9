/**
 * Memory over a long call: one call streamed through the server at many times real time, with the server's RSS
 * sampled when the call reaches each mark (1, 10, 30, 60 minutes of call time). A listener that kept the call in
 * memory would grow by 3.84 MB per minute of audio. RSS also moves with V8's heap sizing, so a second run of the
 * same call takes heap snapshots (each after a full GC) at the second and the last mark: the live heap is what
 * the server actually retains.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, wallNow, waitUntil } from '../lib/clock.js';
import type { RunContext } from '../lib/context.js';
import { jsonlEventCounts, wavDataSizes } from '../lib/files.js';
import { heapSnapshotArgs, liveHeapMb } from '../lib/heap.js';
import { analyseLatency, type LatencyReport } from '../lib/latency.js';
import { sampleProcess } from '../lib/proc.js';
import { ServerProcess, serverEnv, TEST_NUMBER } from '../lib/server-process.js';
import { SimHost } from '../lib/sim-host-client.js';
import { round } from '../lib/stats.js';
import type { BenchSettings } from '../settings.js';
import { BYTES_PER_SECOND } from './capacity.js';

/** No audio for this long (wall time) means the call ended early: the section fails rather than wait for ever. */
const STALL_MS = 30_000;

export interface DurationResult {
  speed: number;
  wallSeconds: number;
  /** Server RSS when the call reached each mark. */
  marks: { callMinutes: number; rssMb: number }[];
  /** RSS at the last mark minus RSS at the first. */
  growthMb: number;
  /** RSS at the last mark minus RSS at the second (after the server's heap has grown to its working size). */
  growthAfterWarmupMb: number;
  /** Peak RSS of the server over its whole life (VmHWM). */
  peakRssMb: number;
  /** Live heap after a full GC (heap snapshots, separate run), when measured. */
  liveHeap?: { callMinutes: number; mb: number }[];
  /** RSS every ~250 ms: [call minutes, MB]. */
  series: [number, number][];
  /**
   * Event → update latency at this speed: transcript events arrive many times faster than at real time, so most
   * land inside the per-URI throttle window. Shows the throttle's share separately from the server's own.
   */
  latency: LatencyReport;
  /** Mean wall time between two transcript events of the call. */
  eventIntervalMs: number;
  audio: { bytesSent: number; bytesWritten: number; equal: boolean };
  transcripts: { eventsEmitted: number; eventsOnDisk: number; equal: boolean };
}

/** Growth after warm-up below this counts as flat (heap sizing moves RSS by a few MB either way). */
export const FLAT_GROWTH_MB = 8;
/** Live-heap growth below this counts as flat: the transcript alone may keep up to 500 lines (≈0.1 MB). */
export const FLAT_LIVE_HEAP_MB = 1;

export async function runDuration(settings: BenchSettings['duration'], context: RunContext): Promise<DurationResult> {
  const { speed, marksMinutes } = settings;
  const marks: DurationResult['marks'] = [];
  const run = await streamLongCall(speed, marksMinutes, context, async (minutes, pid) => {
    marks.push({ callMinutes: minutes, rssMb: round(sampleProcess(pid).rssKb / 1024, 1) ?? 0 });
    context.log(`  call time ${minutes} min: server RSS ${marks[marks.length - 1].rssMb} MB`);
  });
  let liveHeap: DurationResult['liveHeap'];
  if (settings.heapSnapshots && marksMinutes.length >= 2) {
    const snapshotDir = await mkdtemp(join(tmpdir(), 'vapi-bench-heap-'));
    try {
      liveHeap = [];
      const checked = [marksMinutes[1], marksMinutes[marksMinutes.length - 1]];
      // Live heap does not depend on pace: this run goes twice as fast.
      await streamLongCall(speed * 2, checked, context, async (minutes, pid) => {
        const mb = round(await liveHeapMb(pid, snapshotDir), 2) ?? 0;
        liveHeap!.push({ callMinutes: minutes, mb });
        context.log(`  call time ${minutes} min: server live heap ${mb} MB (heap snapshot)`);
      }, heapSnapshotArgs(snapshotDir));
    } finally {
      await rm(snapshotDir, { recursive: true, force: true });
    }
  }
  const first = marks[0].rssMb;
  const second = marks[Math.min(1, marks.length - 1)].rssMb;
  const last = marks[marks.length - 1].rssMb;
  return {
    speed,
    wallSeconds: run.wallSeconds,
    marks,
    growthMb: round(last - first, 1) ?? 0,
    growthAfterWarmupMb: round(last - second, 1) ?? 0,
    peakRssMb: run.peakRssMb,
    ...(liveHeap && { liveHeap }),
    series: run.series,
    latency: run.latency,
    eventIntervalMs: run.eventIntervalMs,
    audio: run.audio,
    transcripts: run.transcripts,
  };
}

interface LongCallRun {
  wallSeconds: number;
  latency: LatencyReport;
  eventIntervalMs: number;
  peakRssMb: number;
  series: [number, number][];
  audio: DurationResult['audio'];
  transcripts: DurationResult['transcripts'];
}

/** One call through a fresh server, calling `atMark` as the call's audio reaches each mark. */
async function streamLongCall(
  speed: number,
  marksMinutes: number[],
  context: RunContext,
  atMark: (minutes: number, serverPid: number) => Promise<void>,
  nodeArgs: string[] = [],
): Promise<LongCallRun> {
  const lastMark = marksMinutes[marksMinutes.length - 1];
  const sim = await SimHost.start({ speed, seed: context.seed, ringMs: 200, answerMs: 300, scriptRepeats: Math.ceil(lastMark) + 2 }, context.pinning?.loadCore);
  const recordingsDir = await mkdtemp(join(tmpdir(), 'vapi-bench-duration-'));
  const server = new ServerProcess({ env: serverEnv(sim.baseUrl, sim.apiKey, recordingsDir), core: context.pinning?.measuredCore, entry: context.serverEntry, nodeArgs });
  try {
    await server.initialize();
    const placed = await server.callTool('create_call', {
      customer: { number: TEST_NUMBER },
      assistantOverrides: { maxDurationSeconds: Math.ceil(lastMark * 60) + 600 },
    });
    const callId = String(placed.callId);
    const listening = placed.listening as { audioPath: string; transcriptPath: string };
    const notified: number[] = [];
    server.onNotification((method, params, receivedAt) => {
      if (method === 'notifications/resources/updated' && params.uri === `vapi://calls/${callId}/transcript`) notified.push(receivedAt);
    });
    await server.request('resources/subscribe', { uri: `vapi://calls/${callId}/transcript` });

    const started = wallNow();
    const series: [number, number][] = [];
    let lastSeriesAt = 0;
    let progressAt = wallNow();
    let lastSent = 0;
    for (const minutes of marksMinutes) {
      const target = minutes * 60 * BYTES_PER_SECOND;
      for (;;) {
        const sent = (await sim.bytesSent([callId]))[callId];
        const now = wallNow();
        if (sent > lastSent) {
          lastSent = sent;
          progressAt = now;
        } else if (now - progressAt > STALL_MS) {
          throw new Error(`the call stopped streaming at ${round(sent / BYTES_PER_SECOND / 60, 1)} min of call time (before the ${minutes}-minute mark)`);
        }
        if (now - lastSeriesAt >= 250) {
          lastSeriesAt = now;
          series.push([round(sent / BYTES_PER_SECOND / 60, 2) ?? 0, round(sampleProcess(server.pid).rssKb / 1024, 1) ?? 0]);
        }
        if (sent >= target) break;
        await sleep(10);
      }
      await atMark(minutes, server.pid);
    }
    const ended = wallNow();
    const wallSeconds = round((ended - started) / 1000, 1) ?? 0;

    await sim.hangup([callId]);
    const sent = (await sim.bytesSent([callId]))[callId];
    await waitUntil(async () => (await wavDataSizes(listening.audioPath)).declared === sent, 'the WAV file to be finalised', 60_000, 100).catch(() => {});
    const sizes = await wavDataSizes(listening.audioPath);
    const emissions = await sim.drainEmissions();
    const emitted = emissions.counts[callId]?.transcript ?? 0;
    const latency = analyseLatency({ emitted: emissions.transcripts, notified: new Map([[callId, notified]]), from: started, to: ended });
    const onDisk = (await jsonlEventCounts(listening.transcriptPath)).transcript ?? 0;
    return {
      wallSeconds,
      latency,
      eventIntervalMs: round((ended - started) / Math.max(1, latency.events), 1) ?? 0,
      peakRssMb: round(sampleProcess(server.pid).hwmKb / 1024, 1) ?? 0,
      series,
      audio: { bytesSent: sent, bytesWritten: sizes.onDisk, equal: sizes.onDisk === sent && sizes.declared === sent },
      transcripts: { eventsEmitted: emitted, eventsOnDisk: onDisk, equal: emitted === onDisk },
    };
  } finally {
    await server.close().catch(() => {});
    await sim.close().catch(() => {});
    await rm(recordingsDir, { recursive: true, force: true });
  }
}
