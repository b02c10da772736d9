/**
 * What the WAV and JSONL writers share about the disk: whole writes, which failures are worth waiting out
 * (a full disk or quota frees up; a permission or I/O error does not), the retry backoff while waiting, and the
 * write queue that runs both writers (one write in flight, stall and retry on a full disk, stop on any other
 * failure, idle waiters for close).
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

/** What a writer gives its write queue. */
export interface WriteSource {
  /**
   * Writes one batch (or one header patch); resolves false when there is nothing to write now. On failure it
   * puts its batch back (and leaves the file as it should stay), then rethrows.
   */
  writeBatch(): Promise<boolean>;
  /** Something waits to be written and the file is open. */
  hasWork(): boolean;
  /** Drops everything queued: the writer has stopped for good. */
  discard(): void;
}

export interface WriteQueueOptions extends DiskRetryOptions {
  onError?: (error: Error) => void;
  /** The disk is full: writing waits and retries. */
  onStall?: (error: Error) => void;
  /** Writing works again after a stall. */
  onResume?: () => void;
}

/**
 * Runs a writer's writes: one in flight, started by kick(). A full disk (ENOSPC, EDQUOT) stalls the queue (the
 * batch stays queued, retried with backoff; onStall, then onResume once a write succeeds); any other failure, or
 * a full disk once closing, stops it for good (`error`, onError). Held until release(): nothing is written before
 * the file is open.
 */
export class DiskWriteQueue {
  error: Error | undefined;
  /** Set while the disk is full and writes are being retried. */
  stalled: Error | undefined;
  private pumping = true;
  private closing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly backoff: RetryBackoff;

  constructor(
    private readonly source: WriteSource,
    private readonly options: WriteQueueOptions = {},
  ) {
    this.backoff = new RetryBackoff(options);
  }

  /** A write is in flight (or the file is still being opened). */
  get busy(): boolean {
    return this.pumping;
  }

  /** The file is open (or could not be): writing may start. */
  release(): void {
    this.pumping = false;
    this.kick();
  }

  /** Closing: a pending retry runs now, and a full disk from here on stops the writer instead of stalling it. */
  lastAttempt(): void {
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  kick(): void {
    if (this.pumping || this.retryTimer) return;
    if (this.error || !this.source.hasWork()) {
      this.wakeIdle();
      return;
    }
    void this.pump();
  }

  /** Resolves once nothing more can be written now (all written, stopped, or the file never opened). */
  idle(): Promise<void> {
    if (!this.pumping && (this.error || !this.source.hasWork())) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs the last steps on the file (sync, header), then closes it; a failure of either stops the writer. */
  async closeFile(fh: FileHandle, lastSteps: () => Promise<void>): Promise<void> {
    try {
      await lastSteps();
    } catch (err) {
      this.fail(asError(err));
    }
    try {
      await fh.close();
    } catch (err) {
      this.fail(asError(err));
    }
  }

  fail(error: Error): void {
    if (this.error) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.error = error;
    this.source.discard();
    this.options.onError?.(error);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.error && (await this.source.writeBatch())) this.resumed();
    } catch (err) {
      if (isOutOfSpace(err) && !this.closing) this.stall(asError(err));
      else this.fail(asError(err));
    } finally {
      this.pumping = false;
    }
    this.wakeIdle();
  }

  private stall(error: Error): void {
    const first = this.stalled === undefined;
    this.stalled = error;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.backoff.next());
    this.retryTimer.unref();
    if (first) this.options.onStall?.(error);
  }

  private resumed(): void {
    if (this.stalled === undefined) return;
    this.stalled = undefined;
    this.backoff.reset();
    this.options.onResume?.();
  }

  private wakeIdle(): void {
    if (this.pumping) return;
    if (!this.error && this.source.hasWork()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
