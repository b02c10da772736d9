/** The capacity section as Markdown: our ramp, the least-work ceiling beside it, the A/B table, the generator's CPU. */
import type { BenchResults } from './lib/results.js';
import type { Distribution } from './lib/stats.js';
import type { AbortedStep, CapacityResult, CapacityStep } from './sections/capacity.js';

export function renderCapacity(r: BenchResults): string[] {
  const capacity = r.capacity;
  if (!capacity) return [];
  const out: string[] = [];
  const least = r.leastWork;
  // A share of the least work's ceiling only means something once its ramp reached that ceiling.
  const leastSaturated = least !== undefined && least.maxHeld > 0 && least.steps.some((s) => !s.held);
  const share = (n: number) => (leastSaturated ? ` = ${Math.round((n / least.maxHeld) * 100)}% of the least work's` : '');
  out.push(
    '',
    `**Listen capacity** (${r.settings.capacity.windowMs / 1000} s measured per step, 16 kHz stereo in 20 ms frames per call, from the load generator \`bench/children/load-gen.ts\`). ` +
      `Largest N held in real time: **${capacity.maxHeld}**${share(capacity.maxHeld)} (${capacity.stoppedBecause}).`,
    '',
    '| calls | server CPU | RSS | RSS/call | update latency p50 / p99 / max | throttled events (wait p50 / max) | audio written = sent | disk lag max | generator CPU | held |',
    '|---:|---:|---:|---:|---|---|---|---:|---:|---|',
  );
  for (const s of byCalls(capacity.steps)) {
    if ('aborted' in s) {
      out.push(`| ${s.calls} | – | – | – | – | – | – | – | – | no: ${s.failures.join('; ')} |`);
      continue;
    }
    out.push(
      `| ${s.calls} | ${s.server.cpuPercent}% | ${s.server.rssMb} MB | ${s.server.rssKbPerCall} KB | ${triple(s.latency.unthrottled)} ms (n=${s.latency.unthrottled.n}) | ` +
        `${throttled(s)} | ${s.audio.equal ? `yes (${mb(s.audio.bytesWritten)})` : `**no** (${s.audio.callsMismatched} calls)`} | ${s.audio.lagMsMax} ms | ${s.simulator.cpuPercent}% | ${s.held ? 'yes' : `no: ${s.failures.join('; ')}`} |`,
    );
  }
  const stolen = capacity.steps.filter((s): s is CapacityStep => !('aborted' in s) && s.server.stealMs > 0);
  if (stolen.length) out.push('', `VM steal on the server's core during the windows: ${stolen.map((s) => `${s.server.stealMs} ms at ${s.calls} calls`).join(', ')}.`);

  const off = r.capacityNoAnalysis;
  if (least || off) {
    out.push(
      '',
      `**Against the physical limit**: the least-work listener (\`bench/children/bytes-listener.ts\`: one socket per call, frames appended to files, nothing parsed) in one process on the same core, same generator. ` +
        `Largest N held: ours **${capacity.maxHeld}**${share(capacity.maxHeld)}` +
        (off ? `; ours with the analysis off **${off.maxHeld}**${share(off.maxHeld)}` : '') +
        (least ? `; least work **${least.maxHeld}** (${least.stoppedBecause})` : '') +
        '. CPU of one core at each step (held ✓, not held ✗):',
      '',
      `| calls | ours | ours, analysis off | analysis share of ours | least work | ours ÷ least work |`,
      '|---:|---:|---:|---:|---:|---:|',
    );
    const counts = [...new Set([...capacity.steps, ...(off?.steps ?? []), ...(least?.steps ?? [])].map((s) => s.calls))].sort((a, b) => a - b);
    for (const calls of counts) {
      const on = stepAt(capacity, calls);
      const noAnalysis = off ? stepAt(off, calls) : undefined;
      const lw = least?.steps.find((s) => s.calls === calls);
      const analysisShare = on && noAnalysis && on.server.cpuPercent > 0 ? `${Math.round(((on.server.cpuPercent - noAnalysis.server.cpuPercent) / on.server.cpuPercent) * 100)}%` : '–';
      const ratio = on && lw && lw.listener.cpuPercent > 0 ? `${(on.server.cpuPercent / lw.listener.cpuPercent).toFixed(2)}×` : '–';
      out.push(`| ${calls} | ${cpu(on)} | ${cpu(noAnalysis)} | ${analysisShare} | ${lw ? `${lw.listener.cpuPercent}% ${lw.held ? '✓' : '✗'}` : '–'} | ${ratio} |`);
    }
  }

  const ref = r.reference;
  if (ref) {
    out.push(
      '',
      `**A/B in one run** against \`${ref.ref}\` (${ref.commit.slice(0, 12)}), built in a temporary worktree; the builds alternate step by step (the order rotates). ` +
        `Largest N held: ${ref.ref} **${ref.maxHeld}** (${ref.stoppedBecause}); ours with the analysis off **${off?.maxHeld ?? '–'}**; ours **${capacity.maxHeld}**. ` +
        'CPU per call is the step\'s CPU ÷ calls, in thousandths of a core; where a step was repeated, the mean of its runs, and the ratio pools the pairs.',
      '',
      `| calls | ${ref.ref} CPU | ours, analysis off | ours | per call: ${ref.ref} / ours off / ours | ours off ÷ ${ref.ref} |`,
      '|---:|---:|---:|---:|---|---:|',
    );
    const counts = [...new Set([...ref.steps, ...(off?.steps ?? []), ...capacity.steps].map((s) => s.calls))].sort((a, b) => a - b);
    const pairs = off ? abPairs(ref, off) : [];
    for (const calls of counts) {
      const a = runsAt(ref, calls);
      const b = off ? runsAt(off, calls) : [];
      const c = runsAt(capacity, calls);
      const perCall = (runs: CapacityStep[]) => (runs.length > 0 ? ((meanCpu(runs) / 100 / calls) * 1000).toFixed(2) : '–');
      const pooled = pairs.filter((p) => p.calls === calls);
      const ratio = pooled.length > 0 ? `${(pooled.reduce((x, p) => x + p.ours, 0) / pooled.reduce((x, p) => x + p.ref, 0)).toFixed(2)}×${pooled.length > 1 ? ` (${pooled.length} pairs)` : ''}` : '–';
      out.push(`| ${calls} | ${cpuRuns(a)} | ${cpuRuns(b)} | ${cpuRuns(c)} | ${perCall(a)} / ${perCall(b)} / ${perCall(c)} | ${ratio} |`);
    }
  }

  const generator = generatorPeak(r);
  if (generator) {
    out.push('', `Load generator at the ramps' highest step: ${generator.calls} calls, **${generator.cpuPercent}%** of its core (sent ${Math.round(generator.sentVsExpected * 100)}% of real time).`);
  }
  const proof = r.generatorProof;
  if (proof) {
    out.push(
      '',
      `Load generator alone (\`bench/children/drain-sink.ts\` reads and discards on the other core): **${proof.calls} calls at ${proof.generator.cpuPercent}%** of its core, ` +
        `sending ${Math.round(proof.generator.sentVsExpected * 100)}% of real time${proof.generator.keptUp ? '' : ' (fell behind)'}.`,
    );
  }
  const attributed = r.analysisProfile;
  if (attributed) {
    out.push(
      '',
      'failed' in attributed
        ? `The analysis's share of the CPU profile at ${attributed.calls} calls could not be taken: ${attributed.failed}.`
        : `The audio analysis in ours's CPU profile at ${attributed.calls} calls (its highest held step, steady middle of the step): **${(attributed.share * 100).toFixed(1)}%** of the server's busy time ` +
            `(${attributed.byFile.map((f) => `${f.file.replace(/^dist\/live\//, '')} ${f.selfMs} ms`).join(', ')} of ${attributed.busyMs} ms).`,
    );
  }
  if (off) {
    out.push('', `With the audio analysis off (VAPI_AUDIO_ANALYSIS=0): largest N held **${off.maxHeld}** (${off.stoppedBecause}).`);
  }
  if (capacity.rssKbPerCallFit !== null) {
    out.push('', `RSS per additional call (least-squares slope over the held steps of 10 to ${capacity.rssFitMaxCalls} calls): ${capacity.rssKbPerCallFit} KB.`);
  }
  return out;
}

/** The generator's CPU at the largest step of any ramp in the run. */
export function generatorPeak(r: BenchResults): { calls: number; cpuPercent: number; sentVsExpected: number } | undefined {
  const samples = [
    ...[r.capacity, r.capacityNoAnalysis, r.reference].flatMap((c) => (c?.steps ?? []).filter((s): s is CapacityStep => !('aborted' in s)).map((s) => ({ calls: s.calls, ...s.simulator }))),
    ...(r.leastWork?.steps ?? []).map((s) => ({ calls: s.calls, ...s.generator })),
  ];
  return samples.sort((a, b) => b.calls - a.calls || b.cpuPercent - a.cpuPercent)[0];
}

function stepAt(result: CapacityResult, calls: number): CapacityStep | undefined {
  return runsAt(result, calls)[0];
}

/** The steps both builds held at the same count, the n-th run of one beside the n-th run of the other. */
export function abPairs(ref: CapacityResult, ours: CapacityResult): { calls: number; ref: number; ours: number }[] {
  const counts = [...new Set(ref.steps.map((s) => s.calls))].sort((a, b) => a - b);
  return counts.flatMap((calls) => {
    const theirs = runsAt(ref, calls);
    const mine = runsAt(ours, calls);
    return theirs.flatMap((a, i) => (mine[i] && a.held && mine[i].held ? [{ calls, ref: a.server.cpuPercent, ours: mine[i].server.cpuPercent }] : []));
  });
}

function runsAt(result: CapacityResult, calls: number): CapacityStep[] {
  return result.steps.filter((s): s is CapacityStep => !('aborted' in s) && s.calls === calls);
}

function meanCpu(runs: CapacityStep[]): number {
  return runs.reduce((a, s) => a + s.server.cpuPercent, 0) / runs.length;
}

/** One run's CPU and verdict, or several runs' mean with each run's figure. */
function cpuRuns(runs: CapacityStep[]): string {
  if (runs.length <= 1) return cpu(runs[0]);
  return `${meanCpu(runs).toFixed(1)}% (${runs.map((s) => `${s.server.cpuPercent}% ${s.held ? '✓' : '✗'}`).join(', ')})`;
}

function cpu(s: CapacityStep | undefined): string {
  return s ? `${s.server.cpuPercent}% ${s.held ? '✓' : '✗'}` : '–';
}

function byCalls(steps: (CapacityStep | AbortedStep)[]): (CapacityStep | AbortedStep)[] {
  return [...steps].sort((a, b) => a.calls - b.calls);
}

function triple(d: Distribution): string {
  return `${d.p50 ?? '–'} / ${d.p99 ?? '–'} / ${d.max ?? '–'}`;
}

function throttled(s: CapacityStep): string {
  const t = s.latency.throttleWait;
  return t.n === 0 ? '0' : `${t.n} (${t.p50} / ${t.max} ms)`;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}
