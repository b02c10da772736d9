/**
 * Append-only JSON Lines file: one record per line, streamed as records arrive, flushed on close.
 * Records queue as strings and are written in batches with one write in flight; a queue above
 * `maxPendingBytes` (a stalled disk) fails the writer rather than growing memory. Failures never throw from
 * append(): the writer stops, records `error` and calls onError.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface JsonlWriterOptions {
  /** Default 8 MiB. */
  maxPendingBytes?: number;
  onError?: (error: Error) => void;
}

export class JsonlWriter {
  readonly path: string;
  /** Records accepted by append(). */
  recordsAppended = 0;
  /** Bytes on disk written by this writer. */
  bytesWritten = 0;
  error: Error | undefined;

  private fh: FileHandle | undefined;
  private readonly ready: Promise<void>;
  private queue: string[] = [];
  private queuedBytes = 0;
  private pumping = true; // until the file is open
  private closing: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly maxPendingBytes: number;
  private readonly onError?: (error: Error) => void;

  constructor(path: string, options: JsonlWriterOptions = {}) {
    this.path = path;
    this.maxPendingBytes = options.maxPendingBytes ?? 8 * 1024 * 1024;
    this.onError = options.onError;
    this.ready = this.openFile();
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Queues one record as a line. Values that cannot be serialised are replaced by a note. */
  append(record: object): void {
    if (this.error || this.closing) return;
    let line: string;
    try {
      line = JSON.stringify(record) + '\n';
    } catch {
      line = JSON.stringify({ meta: 'unserialisable-record' }) + '\n';
    }
    if (this.queuedBytes + line.length > this.maxPendingBytes) {
      this.fail(new Error(`disk too slow: more than ${this.maxPendingBytes} bytes of events waiting to be written`));
      return;
    }
    this.recordsAppended++;
    this.queue.push(line);
    this.queuedBytes += line.length;
    this.kick();
  }

  /** Writes everything queued and closes the file. Never rejects. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    await this.ready;
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
      this.fh = await open(this.path, 'a', 0o600);
    } catch (err) {
      this.fail(asError(err));
    }
    this.pumping = false;
    this.kick();
  }

  private kick(): void {
    if (this.pumping) return;
    if (this.queue.length === 0) {
      this.wakeIdle();
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.fh && !this.error) {
        const text = this.queue.join('');
        this.queue = [];
        this.queuedBytes = 0;
        const data = Buffer.from(text, 'utf8');
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await this.fh.write(data, offset, data.length - offset);
          if (bytesWritten === 0) throw new Error('write made no progress');
          offset += bytesWritten;
        }
        this.bytesWritten += data.length;
      }
    } catch (err) {
      this.fail(asError(err));
    } finally {
      this.pumping = false;
    }
    this.wakeIdle();
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
    this.error = error;
    this.queue = [];
    this.queuedBytes = 0;
    this.onError?.(error);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
