/**
 * What the WAV and JSONL writers share about the disk: whole writes, which failures are worth waiting out
 * (a full disk or quota frees up; a permission or I/O error does not), and the retry backoff while waiting.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Opens a file; replaceable so tests can hand the writers a disk that fails on cue. */
export type OpenFile = (path: string, flags: string, mode: number) => Promise<FileHandle>;
export const openFile: OpenFile = (path, flags, mode) => open(path, flags, mode);

export interface DiskRetryOptions {
  /** First wait after the disk ran out of space; doubled up to maxRetryDelayMs. Default 500 ms. */
  retryDelayMs?: number;
  /** Default 10 000 ms. */
  maxRetryDelayMs?: number;
}

const OUT_OF_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** True for failures that end when space is freed: the writer keeps what it has and tries again later. */
export function isOutOfSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && OUT_OF_SPACE_CODES.has(code);
}

/** Doubling waits between retries while the disk is full; reset() after a write succeeds. */
export class RetryBackoff {
  private nextMs: number;
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(options: DiskRetryOptions = {}) {
    this.baseMs = Math.max(1, options.retryDelayMs ?? 500);
    this.maxMs = Math.max(this.baseMs, options.maxRetryDelayMs ?? 10_000);
    this.nextMs = this.baseMs;
  }

  next(): number {
    const ms = this.nextMs;
    this.nextMs = Math.min(this.maxMs, this.nextMs * 2);
    return ms;
  }

  reset(): void {
    this.nextMs = this.baseMs;
  }
}

/** writev until every byte is on disk at `position` (a short write continues where it stopped). */
export async function writeFully(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let pos = position;
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending, pos);
    pos += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < pending.length && skip >= pending[i].length) {
      skip -= pending[i].length;
      i++;
    }
    if (i === pending.length) return;
    if (bytesWritten === 0) throw new Error('write made no progress');
    pending = [pending[i].subarray(skip), ...pending.slice(i + 1)];
  }
}

export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
