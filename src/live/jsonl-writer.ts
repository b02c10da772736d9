/**
 * Append-only JSON Lines file: one record per line, streamed as records arrive, flushed on close.
 *
 * - Records queue as strings and are written in batches with one write in flight.
 * - The file only ever ends on a whole record: a write that fails part-way is cut back to the last whole line.
 * - A full disk (ENOSPC, EDQUOT) stalls the writer instead of stopping it: the queue is kept and the write is
 *   retried with backoff. Records arriving while more than `maxPendingBytes` wait are dropped and counted; the
 *   first record accepted after that is preceded by `{meta:'records-lost', records, bytes, from, to}`.
 * - Any other failure stops the writer (`error`, onError); append() never throws.
 * - `redact` is applied to every line before it is queued, so secrets echoed by a peer never reach the disk.
 */
import type { FileHandle } from 'node:fs/promises';
import { asError, isOutOfSpace, openFile, RetryBackoff, writeFully, type DiskRetryOptions, type OpenFile } from './disk.js';

export interface JsonlWriterOptions extends DiskRetryOptions {
  /** Default 8 MiB. */
  maxPendingBytes?: number;
  onError?: (error: Error) => void;
  onStall?: (error: Error) => void;
  onResume?: () => void;
  redact?: (line: string) => string;
  openFile?: OpenFile;
}

export class JsonlWriter {
  readonly path: string;
  /** Records accepted by append(). */
  recordsAppended = 0;
  /** Records dropped because the disk could not keep up (each noted by a records-lost line). */
  recordsLost = 0;
  /** Bytes on disk written by this writer. */
  bytesWritten = 0;
  error: Error | undefined;
  /** Set while the disk is full and writes are being retried. */
  stalled: Error | undefined;

  private fh: FileHandle | undefined;
  /** Where the next line goes: the file's length after the last whole record. */
  private endOffset = 0;
  private readonly ready: Promise<void>;
  private queue: string[] = [];
  private queuedBytes = 0;
  private pumping = true; // until the file is open
  private closing: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly maxPendingBytes: number;
  private readonly options: JsonlWriterOptions;
  private readonly backoff: RetryBackoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private lost: { records: number; bytes: number; from: number; to: number } | undefined;

  constructor(path: string, options: JsonlWriterOptions = {}) {
    this.path = path;
    this.maxPendingBytes = options.maxPendingBytes ?? 8 * 1024 * 1024;
    this.options = options;
    this.backoff = new RetryBackoff(options);
    this.ready = this.openFile();
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Queues one record as a line. Values that cannot be serialised are replaced by a note. */
  append(record: object): void {
    if (this.error || this.closing) return;
    const line = this.serialise(record);
    if (this.queuedBytes > 0 && this.queuedBytes + line.length > this.maxPendingBytes) {
      const now = Date.now();
      this.recordsLost++;
      this.lost ??= { records: 0, bytes: 0, from: now, to: now };
      this.lost.records++;
      this.lost.bytes += line.length;
      this.lost.to = now;
      return;
    }
    this.queueLostNote();
    this.recordsAppended++;
    this.queue.push(line);
    this.queuedBytes += line.length;
    this.kick();
  }

  /** Writes everything queued (one last try if the disk is full) and closes the file. Never rejects. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private queueLostNote(): void {
    if (!this.lost) return;
    const note = this.serialise({ receivedAt: Date.now(), meta: 'records-lost', ...this.lost, reason: 'the disk could not keep up' });
    this.lost = undefined;
    this.queue.push(note);
    this.queuedBytes += note.length;
  }

  private serialise(record: object): string {
    let line: string;
    try {
      line = JSON.stringify(record) + '\n';
    } catch {
      line = JSON.stringify({ meta: 'unserialisable-record' }) + '\n';
    }
    return this.options.redact ? this.options.redact(line) : line;
  }

  private async finish(): Promise<void> {
    await this.ready;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!this.error) this.queueLostNote();
    this.kick();
    await this.idle();
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return;
    try {
      await fh.sync();
    } catch (err) {
      this.fail(asError(err));
    }
    try {
      await fh.close();
    } catch (err) {
      this.fail(asError(err));
    }
  }

  private async openFile(): Promise<void> {
    try {
      // 'r+' after creating: positional writes (not O_APPEND), so a torn record can be overwritten in place.
      const fh = await (this.options.openFile ?? openFile)(this.path, 'a', 0o600);
      await fh.close();
      this.fh = await (this.options.openFile ?? openFile)(this.path, 'r+', 0o600);
      this.endOffset = (await this.fh.stat()).size;
    } catch (err) {
      this.fail(asError(err));
    }
    this.pumping = false;
    this.kick();
  }

  private kick(): void {
    if (this.pumping || this.retryTimer) return;
    if (this.queue.length === 0) {
      this.wakeIdle();
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    let text = '';
    try {
      while (this.queue.length > 0 && this.fh && !this.error) {
        text = this.queue.join('');
        this.queue = [];
        this.queuedBytes = 0;
        const data = Buffer.from(text, 'utf8');
        await writeFully(this.fh, [data], this.endOffset);
        this.endOffset += data.length;
        this.bytesWritten += data.length;
        text = '';
        if (this.stalled) {
          this.stalled = undefined;
          this.backoff.reset();
          this.options.onResume?.();
        }
      }
    } catch (err) {
      if (text !== '') {
        this.queue.unshift(text);
        this.queuedBytes += text.length;
      }
      // Part of the batch may be on disk: cut back to the last whole record (shrinking needs no space).
      await this.fh?.truncate(this.endOffset).catch(() => {});
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

  private idle(): Promise<void> {
    if (!this.pumping && (this.queue.length === 0 || this.error || !this.fh)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdle(): void {
    if (this.pumping) return;
    if (this.queue.length > 0 && !this.error && this.fh) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private fail(error: Error): void {
    if (this.error) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.error = error;
    this.queue = [];
    this.queuedBytes = 0;
    this.options.onError?.(error);
  }
}
