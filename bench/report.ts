/** The results as Markdown: the table kept in bench/README.md and bench/results/latest.md. */
import type { BenchResults } from './lib/results.js';
import { renderCapacity } from './report-capacity.js';
import { renderCluster } from './report-cluster.js';
import type { Distribution } from './lib/stats.js';
import type { CapacityStep } from './sections/capacity.js';

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Run ${r.startedAt} (${r.mode}, ${r.wallSeconds} s) on ${m.nproc} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}; ` +
      `load average at start ${r.loadAverage.join(' / ')}; ` +
      (r.pinning ? `server pinned to core ${r.pinning.measuredCore}, simulator + driver to core ${r.pinning.loadCore}.` : 'not pinned.'),
  );
  if (r.serverEntry) out.push(`Server build measured: ${r.serverEntry}.`);
  out.push('', '| target | measured | met |', '|---|---|---|');
  for (const t of r.targets) out.push(`| ${t.target} | ${t.measured} | ${t.met === null ? '–' : t.met === 'partly' ? 'partly' : t.met ? 'yes' : '**no**'} |`);

  out.push(...renderCapacity(r));
  out.push(...renderCluster(r));

  if (r.duration) {
    const d = r.duration;
    out.push(
      '',
      `**Memory over one long call** (streamed at ${d.speed}× real time, ${d.wallSeconds} s): audio written = sent: ${d.audio.equal ? 'yes' : '**no**'} (${mb(d.audio.bytesWritten)}); transcript events on disk = sent: ${d.transcripts.equal ? 'yes' : '**no**'} (${d.transcripts.eventsOnDisk}).`,
      '',
      `| call time | ${d.marks.map((x) => `${x.callMinutes} min`).join(' | ')} | growth | peak |`,
      `|---|${d.marks.map(() => '---:').join('|')}|---:|---:|`,
      `| server RSS | ${d.marks.map((x) => `${x.rssMb} MB`).join(' | ')} | ${d.growthMb} MB | ${d.peakRssMb} MB |`,
    );
    const l = d.latency;
    out.push(
      '',
      `Update latency at ${d.speed}× (a transcript event every ${d.eventIntervalMs} ms): ${l.throttled.n} of ${l.events} events arrived inside the 100 ms throttle window ` +
        `(throttle wait p50 / max ${l.throttleWait.p50 ?? '–'} / ${l.throttleWait.max ?? '–'} ms); latency excluding the throttle wait p50 / p99 / max ${triple(l.excludingThrottle)} ms; ` +
        `as received, throttle included, ${triple(l.all)} ms; events never followed by an update: ${l.unnotified}.`,
    );
    if (d.liveHeap) {
      out.push('', `Live heap after a full GC (heap snapshots, second run of the same call): ${d.liveHeap.map((h) => `${h.mb} MB at ${h.callMinutes} min`).join(', ')}.`);
    }
  }

  if (r.baseline) {
    out.push(
      '',
      `**Against the naive baseline** (the same captured stream replayed at ${r.settings.baseline.replaySpeed}× real time, or as fast as the listener reads; CPU = user + system of the listener process; ≈ extrapolated from the measured quadratic curve when the naive run was cut).`,
      '',
      '| call audio | ours CPU | ours peak RSS (above start) | naive CPU | naive peak RSS (above start) | CPU ratio | peak RSS ratio |',
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of r.baseline.rows) {
      const n = row.naive;
      const cut = n.extrapolated ? ` (cut at ${n.measuredMinutes} min)` : '';
      out.push(
        `| ${row.minutes} min (${mb(row.audioBytes)}) | ${row.ours.cpuSeconds} s${row.ours.completed ? '' : ' (**incomplete file**)'} | ${row.ours.peakRssMb} MB (+${above(row.ours)}) | ` +
          `${n.extrapolated ? '≈ ' : ''}${n.cpuSeconds} s${cut} | ${n.extrapolated ? '≥ ' : ''}${n.peakRssMb} MB (+${above(n)}) | ${n.extrapolated ? '≈ ' : ''}${row.cpuRatio}× | ${row.peakRssRatio}× |`,
      );
    }
    out.push(
      '',
      'Against the least work that saves the same bytes (`bench/children/bytes-listener.ts`: frames appended to files, no parsing), same stream:',
      '',
      '| call audio | ours CPU | ours without the audio analysis | least work CPU | ours ÷ least work |',
      '|---|---:|---:|---:|---:|',
    );
    for (const row of r.baseline.rows) {
      out.push(`| ${row.minutes} min | ${row.ours.cpuSeconds} s | ${row.oursNoAnalysis.cpuSeconds} s | ${row.minimal.cpuSeconds} s${row.minimal.completed ? '' : ' (**incomplete file**)'} | ${row.oursVsMinimal}× |`);
    }
    if (r.baseline.naiveRealTimeLimitMinutes !== null) {
      out.push('', `One naive listener needs more than 20 ms of CPU per 20 ms frame after about ${r.baseline.naiveRealTimeLimitMinutes} minutes of a call: from then on it cannot keep up with a single call.`);
    }
  }

  if (r.startup) {
    const s = r.startup;
    const line = (label: string, t: NonNullable<typeof s.oneCore>) =>
      `${label}: initialize ${t.initializeMs.median} ms (${t.initializeMs.min}–${t.initializeMs.max}), tools/list ${t.toolsListMs.median} ms (${t.toolsListMs.min}–${t.toolsListMs.max}); bare \`node -e ''\` ${t.bareNodeMs} ms`;
    out.push('', `**Start-up** (median of ${s.runs}; spawn → reply received; ${s.tools} tools):`, '', `- ${line('as users run it (unpinned)', s.unpinned)}`);
    if (s.oneCore) out.push(`- ${line('on one pinned core', s.oneCore)}`);
  }

  if (r.overhead) {
    out.push(
      '',
      `**Tool overhead** (${r.overhead.iterations} iterations each; MCP over stdio vs the same request straight to the simulator; added = paired difference):`,
      '',
      '| tool | MCP p50 / p99 | direct p50 / p99 | added p50 / p99 |',
      '|---|---|---|---|',
    );
    for (const [tool, t] of Object.entries(r.overhead.tools)) {
      out.push(`| ${tool} | ${t.mcp.p50} / ${t.mcp.p99} ms | ${t.direct.p50} / ${t.direct.p99} ms | ${t.added.p50} / ${t.added.p99} ms |`);
    }
  }
  if (r.http) {
    const h = r.http;
    const stdio = r.capacity?.steps.find((step): step is CapacityStep => step.calls === h.calls && !('aborted' in step));
    out.push(
      '',
      `**Shared watching over Streamable HTTP** (${h.calls} real-time calls, ${h.sessions} HTTP sessions each subscribed to every call; ${h.windowSeconds} s measured; latency over every (session, call) pair):`,
      '',
      '| transport | sessions | server CPU | RSS | update latency p50 / p99 / max (unthrottled) | throttled | notifications in window | listen sockets per call |',
      '|---|---:|---:|---:|---|---|---:|---:|',
      `| HTTP | ${h.sessions} | ${h.serverCpuPercent}% | ${h.rssMb} MB | ${triple(h.latency.unthrottled)} ms (n=${h.latency.unthrottled.n}) | ${h.latency.throttled.n} | ${h.notificationsInWindow} | ${h.listenSocketsPerCall ?? '–'} |`,
    );
    if (stdio) out.push(`| stdio (capacity step) | 1 | ${stdio.server.cpuPercent}% | ${stdio.server.rssMb} MB | ${triple(stdio.latency.unthrottled)} ms (n=${stdio.latency.unthrottled.n}) | ${stdio.latency.throttled.n} | ${stdio.notificationsInWindow} | 1 |`);
    out.push('', `Events never followed by an update: ${h.latency.unnotified}. Simulator kept up: ${h.simulatorKeptUp ? 'yes' : 'no'}.`);
    const t = h.tokenCheck;
    out.push('', `**OAuth access-token check per request** (${t.iterations} checks, JWKS cached: fetched ${t.jwksFetches} time${t.jwksFetches === 1 ? '' : 's'}): p50 / p99 / max ${triple(t.latency)} ms.`);
  }
  return `${out.join('\n')}\n`;
}

function triple(d: Distribution): string {
  return `${d.p50 ?? '–'} / ${d.p99 ?? '–'} / ${d.max ?? '–'}`;
}

function throttled(s: CapacityStep): string {
  const t = s.latency.throttleWait;
  return t.n === 0 ? '0' : `${t.n} (${t.p50} / ${t.max} ms)`;
}

function above(run: { peakRssMb: number; baselineRssMb: number }): string {
  return `${Math.round(run.peakRssMb - run.baselineRssMb)} MB`;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}
