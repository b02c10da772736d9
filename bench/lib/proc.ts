/** CPU time and memory of a process from /proc (Linux), and CPU pinning with taskset. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface ProcSample {
  /** Wall clock when sampled (ms). */
  at: number;
  /** user + system CPU time of every thread, ms. */
  cpuMs: number;
  /** Resident set size now, KiB. */
  rssKb: number;
  /** Peak resident set size so far (VmHWM), KiB. */
  hwmKb: number;
}

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    at: Date.now(),
    cpuMs: ((utime + stime) * 1000) / ticksPerSecond(),
    rssKb: statusField(status, 'VmRSS'),
    hwmKb: statusField(status, 'VmHWM'),
  };
}

function statusField(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/**
 * Time the hypervisor gave core `core` to other guests (steal), ms since boot; 0 where /proc/stat has no such
 * column. On a virtual machine, steal during a measurement means the server was stopped for reasons of its own.
 */
export function stealMs(core: number): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${core} `));
    const steal = Number(line?.trim().split(/\s+/)[8] ?? 0);
    return (steal * 1000) / ticksPerSecond();
  } catch {
    return 0;
  }
}

/** CPU use between two samples, as a percentage of one core. */
export function cpuPercent(from: ProcSample, to: ProcSample, wallMs: number): number {
  return wallMs > 0 ? ((to.cpuMs - from.cpuMs) / wallMs) * 100 : 0;
}

export interface Pinning {
  /** Core of the measured process (server, listener children). */
  measuredCore: number;
  /** Core of everything else (driver, simulator). */
  loadCore: number;
}

/** Two distinct cores and a working taskset, or undefined (then nothing is pinned and the results say so). */
export function choosePinning(): Pinning | undefined {
  if (process.platform !== 'linux' || availableParallelism() < 2) return undefined;
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { loadCore: 0, measuredCore: 1 };
}

/** Command and arguments that run `node ...args` on `core` (or unpinned). */
export function nodeCommand(args: string[], core: number | undefined): { command: string; args: string[] } {
  if (core === undefined) return { command: process.execPath, args };
  return { command: 'taskset', args: ['-c', String(core), process.execPath, ...args] };
}

/** Pins every thread of this process to `core`. */
export function pinSelf(core: number): void {
  execFileSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
}
