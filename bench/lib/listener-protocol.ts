/** Messages from the listener children (naive and ours) to the driver over Node IPC. */
import { readFileSync } from 'node:fs';

/** bytes-listener only: many calls in one process (the capacity section's least-work ramp). */
export interface ManyListenerChildArgs {
  calls: { callId: string; url: string }[];
  outDir: string;
  /** Connect the calls evenly over this time. */
  staggerMs: number;
}

export interface ListenerChildArgs {
  url: string;
  callId: string;
  outDir: string;
  /** ours-listener only: measure levels and voice-quality metrics (default true). */
  audioAnalysis?: boolean;
}

export interface ListenerProgress {
  type: 'progress';
  /** Audio bytes received so far. */
  bytes: number;
  /** CPU (user + system, every thread) since just before connecting, ms. */
  cpuMs: number;
  rssKb: number;
}

export interface ListenerDone {
  type: 'done';
  bytes: number;
  /** Audio bytes in the file written. */
  bytesOnDisk: number;
  cpuMs: number;
  wallMs: number;
  /** RSS just before connecting, KiB. */
  baselineRssKb: number;
  /** Peak RSS of this process image (VmHWM), KiB. */
  maxRssKb: number;
}

export type ListenerMessage = ListenerProgress | ListenerDone;

/** The many-call bytes listener: every socket open; every socket closed with its file's audio bytes. */
export type ManyListenerMessage = { type: 'open' } | { type: 'closed'; bytes: Record<string, number> };

export const PROGRESS_INTERVAL_MS = 100;

/** CPU time of this process (all threads) in ms. */
export function cpuMs(since?: NodeJS.CpuUsage): number {
  const usage = process.cpuUsage(since);
  return (usage.user + usage.system) / 1000;
}

export function rssKb(): number {
  return Math.round(process.memoryUsage.rss() / 1024);
}

/**
 * Peak RSS of this process image, KiB. Not getrusage's maxrss: on Linux that keeps the high-water mark of the
 * memory inherited through fork() before exec, i.e. the parent's RSS when it spawned this process.
 */
export function peakRssKb(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}
