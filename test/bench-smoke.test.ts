/**
 * The benchmark's quick mode (bench/, `npm run bench -- --quick`) end to end, so it never rots. Benchmarks are not
 * tests: this asserts that every section ran and produced correct, complete figures (audio bytes written equal
 * bytes sent, transcript events on disk equal events sent, every subscriber notified, latency figures present),
 * never how fast anything was. Not pinned to cores, since other test files share the machine.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runBench, type BenchResults } from '../bench/core.js';
import { renderMarkdown } from '../bench/report.js';
import type { CapacityStep } from '../bench/sections/capacity.js';
import { QUICK, type BenchSettings } from '../bench/settings.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Quick mode with one capacity step instead of two and no second ramp without the analysis, to keep this file short. */
const SMOKE: BenchSettings = { ...QUICK, pin: false, capacity: { ...QUICK.capacity, steps: [5], maxCalls: 5, compareAnalysisOff: false } };
let results: BenchResults;

beforeAll(async () => {
  // The child processes (simulator host, listeners) run from the transpiled bench; the server from dist/.
  execFileSync(process.execPath, ['bench/transpile.mjs'], { cwd: REPO_ROOT, stdio: 'pipe' });
  results = await runBench(SMOKE);
}, 240_000); // about 20 s alone; much longer on a 2-core machine busy with the other test files

describe('bench --quick', () => {
  it('capacity: every step streams to disk byte-exact, logs every transcript event and notifies every subscriber', () => {
    const steps = results.capacity!.steps;
    expect(steps.map((s) => s.calls)).toEqual(SMOKE.capacity.steps);
    for (const step of steps as CapacityStep[]) {
      expect(step).not.toHaveProperty('aborted');
      expect(step.audio.bytesSent).toBeGreaterThan(0);
      expect(step.audio.bytesWritten).toBe(step.audio.bytesSent);
      expect(step.audio.equal).toBe(true);
      expect(step.transcripts.eventsEmitted).toBeGreaterThan(0);
      expect(step.transcripts.eventsOnDisk).toBe(step.transcripts.eventsEmitted);
      expect(step.latency.unnotified).toBe(0);
      expect(step.latency.all.n).toBeGreaterThan(0);
      for (const value of [step.latency.all.p50, step.latency.all.p99, step.latency.all.max]) {
        expect(value).toBeTypeOf('number');
        expect(value).toBeGreaterThanOrEqual(0);
      }
      expect(step.server.cpuPercent).toBeGreaterThan(0);
      expect(step.server.rssMb).toBeGreaterThan(0);
    }
  });

  it('capacity: the load generator alone kept up, against a receiver that read at least every byte it sent', () => {
    const proof = results.generatorProof!;
    expect(proof.calls).toBe(SMOKE.capacity.generatorProofCalls);
    expect(proof.generator.keptUp).toBe(true);
    expect(proof.generator.cpuPercent).toBeGreaterThan(0);
    expect(proof.audio.equal).toBe(true);
  });

  it('capacity: the analysis is attributed in a CPU profile of ours at its highest held step', () => {
    const attributed = results.analysisProfile!;
    expect('failed' in attributed ? attributed.failed : undefined).toBeUndefined();
    if ('failed' in attributed) return;
    expect(attributed.calls).toBe(results.capacity!.maxHeld);
    expect(attributed.busyMs).toBeGreaterThan(0);
    // At 5 calls the analysis may fall between the profiler's samples: a share, not a figure, is asked here.
    expect(attributed.analysisMs).toBeGreaterThanOrEqual(0);
    expect(attributed.byFile.map((f) => f.file)).toEqual([
      'dist/live/audio-analysis.js',
      'dist/live/pcm-kernel.js',
      'dist/live/voice-activity.js',
      'dist/live/turn-taking.js',
      'pcm-kernel.wat (WebAssembly)',
    ]);
    expect(attributed.share).toBeLessThan(1);
  });

  it('capacity: the least-work listener, on the same load generator, saved every byte of every call', () => {
    const steps = results.leastWork!.steps;
    expect(steps.map((s) => s.calls)).toEqual(SMOKE.capacity.steps);
    for (const step of steps) {
      expect(step.audio.bytesSent).toBeGreaterThan(0);
      expect(step.audio.equal).toBe(true);
      expect(step.listener.cpuPercent).toBeGreaterThan(0);
      expect(step.generator.sentVsExpected).toBeGreaterThan(0);
    }
  });

  it('duration: one long call ends with every byte and every transcript event on disk, RSS sampled at each mark', () => {
    const d = results.duration!;
    expect(d.audio.bytesSent).toBeGreaterThanOrEqual(QUICK.duration.marksMinutes.at(-1)! * 60 * 64_000);
    expect(d.audio.equal).toBe(true);
    expect(d.transcripts.eventsEmitted).toBeGreaterThan(0);
    expect(d.transcripts.equal).toBe(true);
    expect(d.marks.map((m) => m.callMinutes)).toEqual(QUICK.duration.marksMinutes);
    for (const mark of d.marks) expect(mark.rssMb).toBeGreaterThan(0);
  });

  it('baseline: ours and the naive listener both saved the whole replayed stream', () => {
    const [row] = results.baseline!.rows;
    expect(row.audioBytes).toBe(QUICK.baseline.minutes[0] * 60 * 64_000);
    expect(row.ours.completed).toBe(true);
    expect(row.ours.bytesOnDisk).toBe(row.audioBytes);
    expect(row.ours.cpuSeconds).toBeGreaterThan(0);
    expect(row.ours.peakRssMb).toBeGreaterThan(0);
    expect(row.oursNoAnalysis.bytesOnDisk).toBe(row.audioBytes);
    expect(row.minimal.completed).toBe(true);
    expect(row.minimal.bytesOnDisk).toBe(row.audioBytes);
    expect(row.oursVsMinimal).toBeGreaterThan(0);
    // Correctness only: a starved machine may cut the naive run, which is then extrapolated.
    if (row.naive.completed) expect(row.naive.bytesOnDisk).toBe(row.audioBytes);
    else expect(row.naive.extrapolated).toBe(true);
  });

  it('start-up and tool overhead: every figure measured', () => {
    const s = results.startup!;
    expect(s.tools).toBeGreaterThan(0);
    expect(s.unpinned.initializeMs.median).toBeGreaterThan(0);
    expect(s.unpinned.toolsListMs.median).toBeGreaterThanOrEqual(s.unpinned.initializeMs.median!);
    for (const tool of ['create_call', 'get_call', 'inject_say'] as const) {
      const t = results.overhead!.tools[tool];
      expect(t.mcp.n).toBe(QUICK.overhead.iterations);
      expect(t.direct.n).toBe(QUICK.overhead.iterations);
      expect(t.mcp.p50).toBeGreaterThan(0);
      expect(t.direct.p50).toBeGreaterThan(0);
      expect(t.added.p50).toBeTypeOf('number');
    }
  });

  it('http: every session subscribed to every call hears of every transcript event', () => {
    const h = results.http!;
    expect(h.sessions).toBe(QUICK.http.sessions);
    expect(h.latency.unthrottled.n + h.latency.throttled.n).toBeGreaterThan(0);
    expect(h.latency.unnotified).toBe(0);
    expect(h.serverCpuPercent).toBeGreaterThan(0);
    // Every timed check passed (a refused token throws), and the keys were fetched once.
    expect(h.tokenCheck.latency.n).toBe(QUICK.http.tokenChecks);
    expect(h.tokenCheck.jwksFetches).toBe(1);
  });

  it('cluster: one server in cluster mode saved every call byte-exact beside a standby, and a killed owner\'s calls were taken over', () => {
    const cluster = results.cluster!;
    expect('skipped' in cluster ? cluster.skipped : undefined).toBeUndefined();
    if ('skipped' in cluster) return;
    const [pair] = cluster.pairs;
    for (const step of [pair.inMemory, pair.cluster]) {
      expect('aborted' in step ? step.failures : []).toEqual([]);
      if ('aborted' in step) continue;
      expect(step.audio.equal).toBe(true);
      expect(step.transcripts.equal).toBe(true);
    }
    expect(pair.redis!.commandsPerCallSecond).toBeGreaterThan(0);
    expect(pair.standbyCpuPercent).toBeGreaterThanOrEqual(0);
    const failover = cluster.failover;
    expect('failed' in failover ? failover.failed : undefined).toBeUndefined();
    if ('failed' in failover) return;
    expect(failover.takenOver).toBe(SMOKE.cluster.failoverCalls);
  });

  it('reports every target and renders the Markdown tables', () => {
    expect(results.targets).toHaveLength(14);
    const markdown = renderMarkdown(results);
    expect(markdown).toContain('| calls | server CPU |');
    expect(markdown).toContain('| calls | ours | ours, analysis off | analysis share of ours | least work | ours ÷ least work |');
    expect(markdown).toContain("Load generator at the ramps' highest step");
    expect(markdown).toContain(`Load generator alone (\`bench/children/drain-sink.ts\` reads and discards on the other core): **${SMOKE.capacity.generatorProofCalls} calls at`);
    expect(markdown).toMatch(/The audio analysis in ours's CPU profile at 5 calls .*: \*\*\d+\.\d%\*\* of the server's busy time \(audio-analysis\.js \d+(\.\d+)? ms, pcm-kernel\.js \d+(\.\d+)? ms, voice-activity\.js .*, pcm-kernel\.wat \(WebAssembly\) \d+(\.\d+)? ms of/);
    expect(markdown).toContain('| call audio | ours CPU | ours without the audio analysis | least work CPU | ours ÷ least work |');
    expect(markdown).toContain('| tool | MCP p50 / p99 |');
    expect(markdown).toContain('**Start-up**');
    expect(markdown).toContain('**Shared watching over Streamable HTTP**');
    expect(markdown).toContain('| calls | in memory: CPU (per 100 calls) | cluster: CPU (per 100 calls) |');
    expect(markdown).toContain('**Failover** (3 calls placed on instance A');
  });
});
