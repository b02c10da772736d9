/**
 * Append-only JSON Lines file: one record per line, streamed as records arrive, flushed on close.
 *
 * - Records queue as strings and are written in batches with one write in flight. A record appended `lazy` waits
 *   up to `flushIntervalMs` (or until 64 KiB are queued, or the next record that is not lazy) to share a write,
 *   also when it arrives during a write (written right after it, lazy records made writes as frequent as the
 *   disk was slow).
 * - The file only ever ends on a whole record: a write that fails part-way is cut back to the last whole line.
 * - A full disk (ENOSPC, EDQUOT) stalls the writer instead of stopping it: the queue is kept and the write is
 *   retried with backoff. Records arriving while more than `maxPendingBytes` wait are dropped and counted; the
 *   first record accepted after that is preceded by `{meta:'records-lost', records, bytes, from, to}`.
 * - Any other failure stops the writer (`error`, onError); append() never throws.
 * - `redact` is applied to every line before it is queued, so secrets echoed by a peer never reach the disk.
 */
import type { FileHandle } from 'node:fs/promises';
import { asError, DiskWriteQueue, openFile, writeFully, type OpenFile, type WriteQueueOptions } from './disk.js';

export interface JsonlWriterOptions extends WriteQueueOptions {
  /** Default 8 MiB. */
  maxPendingBytes?: number;
  redact?: (line: string) => string;
  openFile?: OpenFile;
  /** How long a lazy record may wait for company; default 0 (every record is written at once). */
  flushIntervalMs?: number;
}

/** Queued bytes past which lazy records are written at once. */
const LAZY_MAX_BYTES = 64 * 1024;

export class JsonlWriter {
  readonly path: string;
  /** Records dropped because the disk could not keep up (each noted by a records-lost line). */
  recordsLost = 0;
  /** Bytes on disk written by this writer. */
  bytesWritten = 0;

  private fh: FileHandle | undefined;
  /** Where the next line goes: the file's length after the last whole record. */
  private endOffset = 0;
  private readonly ready: Promise<void>;
  private queue: string[] = [];
  private queuedBytes = 0;
  private closing: Promise<void> | undefined;
  private readonly maxPendingBytes: number;
  private readonly options: JsonlWriterOptions;
  private readonly writes: DiskWriteQueue;
  private lost: { records: number; bytes: number; from: number; to: number } | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** What is queued is due: a record that is not lazy, a lazy one's wait is over, or the writer is closing. */
  private due = false;

  constructor(path: string, options: JsonlWriterOptions = {}) {
    this.path = path;
    this.maxPendingBytes = options.maxPendingBytes ?? 8 * 1024 * 1024;
    this.options = options;
    this.writes = new DiskWriteQueue(
      {
        writeBatch: () => this.writeBatch(),
        hasWork: () => this.fh !== undefined && this.due && this.queue.length > 0,
        discard: () => {
          this.queue = [];
          this.queuedBytes = 0;
        },
      },
      options,
    );
    this.ready = this.openFile();
  }

  /** Why the writer stopped for good, if it did. */
  get error(): Error | undefined {
    return this.writes.error;
  }

  /** Set while the disk is full and writes are being retried. */
  get stalled(): Error | undefined {
    return this.writes.stalled;
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Queues one record as a line. Values that cannot be serialised are replaced by a note. */
  append(record: object, { lazy = false }: { lazy?: boolean } = {}): void {
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
    this.queue.push(line);
    this.queuedBytes += line.length;
    const wait = this.options.flushIntervalMs ?? 0;
    if (lazy && wait > 0 && this.queuedBytes < LAZY_MAX_BYTES) {
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
      }, wait).unref();
      return;
    }
    this.flush();
  }

  private flush(): void {
    this.due = true;
    this.writes.kick();
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
    clearTimeout(this.flushTimer);
    this.writes.lastAttempt();
    await this.ready;
    if (!this.error) this.queueLostNote();
    this.flush();
    await this.writes.idle();
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await this.writes.closeFile(fh, () => fh.sync());
  }

  private async openFile(): Promise<void> {
    try {
      // 'r+' after creating: positional writes (not O_APPEND), so a torn record can be overwritten in place.
      const fh = await (this.options.openFile ?? openFile)(this.path, 'a', 0o600);
      await fh.close();
      this.fh = await (this.options.openFile ?? openFile)(this.path, 'r+', 0o600);
      this.endOffset = (await this.fh.stat()).size;
    } catch (err) {
      this.writes.fail(asError(err));
    }
    this.writes.release();
  }

  /** Everything queued as one write at the end of the last whole record. */
  private async writeBatch(): Promise<boolean> {
    const fh = this.fh;
    if (!fh || !this.due || this.queue.length === 0) return false;
    const text = this.queue.join('');
    this.queue = [];
    this.queuedBytes = 0;
    this.due = false;
    const data = Buffer.from(text, 'utf8');
    try {
      await writeFully(fh, [data], this.endOffset);
    } catch (err) {
      this.queue.unshift(text);
      this.queuedBytes += text.length;
      this.due = true;
      // Part of the batch may be on disk: cut back to the last whole record (shrinking needs no space).
      await fh.truncate(this.endOffset).catch(() => {});
      throw err;
    }
    this.endOffset += data.length;
    this.bytesWritten += data.length;
    return true;
  }
}
