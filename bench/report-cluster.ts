/** The cluster section as Markdown: CPU per call in cluster mode against in memory, Redis's share, failover. */
import type { BenchResults } from './lib/results.js';
import type { AbortedStep, CapacityStep } from './sections/capacity.js';

export function renderCluster(r: BenchResults): string[] {
  const cluster = r.cluster;
  if (!cluster) return [];
  if ('skipped' in cluster) return ['', `**Cluster mode**: not run (${cluster.skipped}).`];
  const out = [
    '',
    `**Cluster mode** (\`VAPI_MCP_REDIS_URL\`): the capacity step run both ways, interleaved, on the measured core (each pair repeated, one row per run): one server in memory, and one server in cluster mode owning every call with a second instance standing by on the same Redis (Redis and the standby on the load core). CPU per 100 calls is the server's CPU ÷ calls × 100.`,
    '',
    '| calls | in memory: CPU (per 100 calls) | cluster: CPU (per 100 calls) | cluster ÷ in memory | standby CPU | Redis CPU | Redis commands per call-second | Redis CPU per call-second |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of cluster.pairs) {
    const a = per100(p.inMemory);
    const b = per100(p.cluster);
    out.push(
      `| ${p.calls} | ${cpu(p.inMemory)} | ${cpu(p.cluster)} | ${a && b ? `${(b / a).toFixed(2)}×` : '–'} | ${p.standbyCpuPercent ?? '–'}% | ` +
        `${p.redis ? `${p.redis.cpuPercent}%` : '–'} | ${p.redis?.commandsPerCallSecond ?? '–'} | ${p.redis ? `${p.redis.cpuMsPerCallSecond} ms` : '–'} |`,
    );
  }
  const f = cluster.failover;
  out.push(
    '',
    'failed' in f
      ? `Failover: could not be measured (${f.failed}).`
      : `**Failover** (${f.calls} calls placed on instance A, A killed with SIGKILL, lease ${f.leaseMs} ms): instance B listened to ${f.takenOver} of ${f.calls} calls again, ` +
          `p50 ${f.takeoverMsP50 ?? '–'} ms and at most ${f.takeoverMsMax ?? '–'} ms after the kill.`,
  );
  return out;
}

function per100(step: CapacityStep | AbortedStep): number | undefined {
  return 'aborted' in step || step.calls === 0 ? undefined : (step.server.cpuPercent / step.calls) * 100;
}

function cpu(step: CapacityStep | AbortedStep): string {
  if ('aborted' in step) return `not run (${step.failures.join('; ')})`;
  return `${step.server.cpuPercent}% (${per100(step)!.toFixed(2)}%)${step.held ? '' : ' not held'}`;
}
