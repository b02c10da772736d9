/**
 * Prints where a V8 CPU profile (node --cpu-prof) spent its time: the top functions by self time, and self time
 * summed per source file. Usage: node bench/.build/bench/profiling/cpuprofile-summary.js <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export type { CpuProfile };

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: { name: string; selfMs: number; percent: number }[];
  files: { file: string; selfMs: number; percent: number }[];
}

/** `window`: only the samples between these fractions of the profile (the steady middle of a step, say). */
export function summariseProfile(profile: CpuProfile, top = 25, window: [number, number] = [0, 1]): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const count = profile.samples.length;
  for (let i = Math.floor(count * window[0]); i < Math.floor(count * window[1]); i++) {
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const perFunction = new Map<string, number>();
  const perFile = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    totalUs += us;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const file = shortUrl(url) || functionName;
    const name = `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`;
    perFunction.set(name, (perFunction.get(name) ?? 0) + us);
    perFile.set(file, (perFile.get(file) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rank = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, us]) => ({ key, selfMs: Math.round(us / 100) / 10, percent: Math.round((us / busyUs) * 1000) / 10 }));
  return {
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    functions: rank(perFunction).map(({ key, ...rest }) => ({ name: key, ...rest })),
    files: rank(perFile).map(({ key, ...rest }) => ({ file: key, ...rest })),
  };
}

function shortUrl(url: string): string {
  const nodeModules = url.lastIndexOf('node_modules/');
  if (nodeModules >= 0) return url.slice(nodeModules + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

if (process.argv[1]?.endsWith('cpuprofile-summary.js')) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpuprofile-summary <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top ?? 25));
  const busy = summary.totalMs - summary.idleMs;
  process.stdout.write(`profile: ${summary.totalMs} ms, busy ${busy} ms (${Math.round((busy / summary.totalMs) * 100)}%)\n\nself time by function (% of busy):\n`);
  for (const f of summary.functions) process.stdout.write(`${f.percent.toFixed(1).padStart(6)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}\n`);
  process.stdout.write('\nself time by file:\n');
  for (const f of summary.files) process.stdout.write(`${f.percent.toFixed(1).padStart(6)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.file}\n`);
}
