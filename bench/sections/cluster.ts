/**
 * Cluster mode (VAPI_MCP_REDIS_URL) against the in-memory default, on the capacity section's load generator:
 * - the same capacity step twice, interleaved: one server in memory, then one server in cluster mode with a
 *   second instance standing by on the same Valkey/Redis (the owner of every call is the measured server);
 *   reported: server CPU per call both ways, the standby's CPU, and Redis's commands and CPU per call-second;
 * - failover: calls placed on instance A, A killed with SIGKILL, and the time until instance B's listener is
 *   connected to each call again (the load generator records every listen socket's opening).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, wallNow, waitUntil } from '../lib/clock.js';
import type { RunContext } from '../lib/context.js';
import { mapLimit } from '../lib/pool.js';
import { cpuPercent, type ProcSample, sampleProcess } from '../lib/proc.js';
import { redisBinary, startBenchRedis, type BenchRedis } from '../lib/redis.js';
import { ServerProcess, serverEnv, TEST_NUMBER } from '../lib/server-process.js';
import { SimHost } from '../lib/sim-host-client.js';
import { percentile, round } from '../lib/stats.js';
import type { CapacitySettings, ClusterSettings } from '../settings.js';
import { loadGenSettings, runStepSafely, type AbortedStep, type Alongside, type CapacityStep } from './capacity.js';

export interface ClusterPair {
  calls: number;
  inMemory: CapacityStep | AbortedStep;
  cluster: CapacityStep | AbortedStep;
  /** The second instance, standing by (it sweeps for lapsed leases), % of a core. */
  standbyCpuPercent: number | null;
  redis: {
    cpuPercent: number;
    commandsPerSecond: number;
    /** Every command Redis ran, those run inside scripts included. */
    commandsPerCallSecond: number;
    /** EVAL and EVALSHA: each one a request that runs many of the commands above. */
    scriptRunsPerCallSecond?: number;
    /** Per command name (those run inside scripts included). */
    commandsByNamePerCallSecond?: Record<string, number>;
    cpuMsPerCallSecond: number;
  } | null;
}

export interface FailoverMeasure {
  calls: number;
  leaseMs: number;
  /** Calls whose listener was connected again by the surviving instance. */
  takenOver: number;
  /** From the SIGKILL to the surviving instance's listen socket opening, per call. */
  takeoverMsP50: number | null;
  takeoverMsMax: number | null;
}

export interface ClusterResult {
  pairs: ClusterPair[];
  failover: FailoverMeasure | { failed: string };
}

export async function runClusterSection(settings: ClusterSettings, capacity: CapacitySettings, context: RunContext): Promise<ClusterResult | { skipped: string }> {
  if (!redisBinary()) return { skipped: 'no valkey-server or redis-server on this machine' };
  const redis = await startBenchRedis(context.pinning?.loadCore);
  try {
    const pairs: ClusterPair[] = [];
    // One 12 s step carries a few points of noise on this machine, twice in a ratio: each pair is run `repeats`
    // times, and the target judges the sum over all of them.
    const rounds = Array.from({ length: settings.repeats }, () => settings.calls).flat();
    for (const [index, calls] of rounds.entries()) {
      const runInMemory = () => runStepSafely(calls, capacity, context, { audioAnalysis: true, label: 'in-memory' });
      const runCluster = () => clusterStep(calls, capacity, context, redis);
      // Alternate which goes first, so the machine's drift falls on both alike.
      let inMemory: CapacityStep | AbortedStep;
      let clustered: Awaited<ReturnType<typeof clusterStep>>;
      if (index % 2 === 0) {
        inMemory = await runInMemory();
        clustered = await runCluster();
      } else {
        clustered = await runCluster();
        inMemory = await runInMemory();
      }
      const pair: ClusterPair = { calls, inMemory, cluster: clustered.step, standbyCpuPercent: clustered.standbyCpuPercent, redis: clustered.redis };
      pairs.push(pair);
      context.log(describePair(pair));
    }
    const failover = await measureFailover(settings, capacity, context, redis).catch((error: Error) => ({ failed: error.message.split('\n')[0] }));
    context.log(describeFailover(failover));
    return { pairs, failover };
  } finally {
    await redis.stop();
  }
}

async function clusterStep(calls: number, capacity: CapacitySettings, context: RunContext, redis: BenchRedis) {
  await redis.flush();
  let standbyCpuPercent: number | null = null;
  let redisFigures: ClusterPair['redis'] = null;
  const alongside = async (vapi: { baseUrl: string; apiKey: string }): Promise<Alongside> => {
    const dir = await mkdtemp(join(tmpdir(), 'vapi-bench-standby-'));
    const standby = new ServerProcess({ env: { ...serverEnv(vapi.baseUrl, vapi.apiKey, dir), VAPI_MCP_REDIS_URL: redis.url }, core: context.pinning?.loadCore });
    await standby.initialize();
    let standbyBefore: ProcSample;
    let redisBefore: ProcSample;
    let commandsBefore: Record<string, number> = {};
    return {
      async windowStarted() {
        standbyBefore = sampleProcess(standby.pid);
        redisBefore = redis.sample();
        commandsBefore = await redis.commands();
      },
      async windowEnded(windowMs) {
        const after = await redis.commands();
        const redisAfter = redis.sample();
        standbyCpuPercent = round(cpuPercent(standbyBefore, sampleProcess(standby.pid), windowMs), 1);
        const callSeconds = (calls * windowMs) / 1000;
        const byName: Record<string, number> = {};
        let commands = 0;
        for (const [name, count] of Object.entries(after)) {
          const delta = count - (commandsBefore[name] ?? 0);
          if (delta <= 0) continue;
          commands += delta;
          byName[name] = round(delta / callSeconds, 2) ?? 0;
        }
        const scriptRuns = (byName.eval ?? 0) + (byName.evalsha ?? 0);
        redisFigures = {
          cpuPercent: round(cpuPercent(redisBefore, redisAfter, windowMs), 1) ?? 0,
          commandsPerSecond: Math.round(commands / (windowMs / 1000)),
          commandsPerCallSecond: round(commands / callSeconds, 1) ?? 0,
          scriptRunsPerCallSecond: round(scriptRuns, 2) ?? 0,
          commandsByNamePerCallSecond: byName,
          cpuMsPerCallSecond: round((redisAfter.cpuMs - redisBefore.cpuMs) / callSeconds, 3) ?? 0,
        };
      },
      async close() {
        await standby.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  };
  const step = await runStepSafely(calls, capacity, context, { audioAnalysis: true, label: 'cluster', env: { VAPI_MCP_REDIS_URL: redis.url }, alongside });
  return { step, standbyCpuPercent, redis: redisFigures };
}

async function measureFailover(settings: ClusterSettings, capacity: CapacitySettings, context: RunContext, redis: BenchRedis): Promise<FailoverMeasure> {
  await redis.flush();
  const { pinning, seed } = context;
  const generator = await SimHost.start(loadGenSettings(capacity, seed), pinning?.loadCore, 'load-gen');
  const dirs = [await mkdtemp(join(tmpdir(), 'vapi-bench-failover-a-')), await mkdtemp(join(tmpdir(), 'vapi-bench-failover-b-'))];
  const env = (dir: string) => ({ ...serverEnv(generator.baseUrl, generator.apiKey, dir), VAPI_MCP_REDIS_URL: redis.url, VAPI_MCP_LEASE_MS: String(settings.leaseMs) });
  const a = new ServerProcess({ env: env(dirs[0]), core: pinning?.measuredCore });
  const b = new ServerProcess({ env: env(dirs[1]), core: pinning?.loadCore });
  try {
    await Promise.all([a.initialize(), b.initialize()]);
    const callIds = await mapLimit(Array.from({ length: settings.failoverCalls }, (_, i) => i), 8, async () => {
      const placed = await a.callTool('create_call', { customer: { number: TEST_NUMBER } });
      return String(placed.callId);
    });
    await waitUntil(async () => Object.values(await generator.bytesSent(callIds)).every((bytes) => bytes > 0), 'every call to stream audio', 60_000, 50);
    // Long enough for every lease to have been renewed at least once.
    await sleep(settings.leaseMs);
    const killedAt = wallNow();
    a.child.kill('SIGKILL');
    const reopenedAfterKill = async () => {
      const opens = await generator.listenOpens(callIds);
      return callIds.map((id) => (opens[id] ?? []).find((at) => at > killedAt));
    };
    await waitUntil(async () => (await reopenedAfterKill()).every((at) => at !== undefined), 'the surviving instance to listen to every call', settings.leaseMs * 4 + 30_000, 50).catch(() => {});
    const takeovers = (await reopenedAfterKill()).filter((at): at is number => at !== undefined).map((at) => at - killedAt).sort((x, y) => x - y);
    await generator.hangup(callIds);
    return {
      calls: callIds.length,
      leaseMs: settings.leaseMs,
      takenOver: takeovers.length,
      takeoverMsP50: round(percentile(takeovers, 50), 0),
      takeoverMsMax: takeovers.length ? Math.round(takeovers[takeovers.length - 1]) : null,
    };
  } finally {
    await b.close().catch(() => {});
    await a.close(1_000).catch(() => {});
    await generator.close().catch(() => {});
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

function describePair(p: ClusterPair): string {
  const cpu = (s: CapacityStep | AbortedStep) => ('aborted' in s ? `not run (${s.failures.join('; ')})` : `${s.server.cpuPercent}%${s.held ? '' : ' (not held)'}`);
  const r = p.redis;
  return (
    `  ${String(p.calls).padStart(5)} calls: in memory ${cpu(p.inMemory)}, cluster ${cpu(p.cluster)}, standby ${p.standbyCpuPercent ?? '–'}%` +
    (r ? `, Redis ${r.cpuPercent}% (${r.commandsPerCallSecond} commands, of them ${r.scriptRunsPerCallSecond ?? '–'} script runs, and ${r.cpuMsPerCallSecond} ms CPU per call-second)` : '')
  );
}

export function describeFailover(f: FailoverMeasure | { failed: string }): string {
  if ('failed' in f) return `  failover: could not be measured (${f.failed})`;
  return `  failover of ${f.calls} calls, lease ${f.leaseMs} ms: ${f.takenOver} taken over, p50 ${f.takeoverMsP50 ?? '–'} ms, max ${f.takeoverMsMax ?? '–'} ms after the SIGKILL`;
}
