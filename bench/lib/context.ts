/** What every section of a run shares. */
import type { Pinning } from './proc.js';

export interface RunContext {
  /** Cores for the measured process and for the load; undefined when not pinned. */
  pinning: Pinning | undefined;
  seed: number;
  /** The server build to measure; default dist/index.js. */
  serverEntry?: string;
  /** When set, the servers of the capacity steps and of the overhead section write V8 CPU profiles here. */
  profileDir?: string;
  log(line: string): void;
}
