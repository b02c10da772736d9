/**
 * Streams linear16 PCM into a canonical 44-byte-header WAV file while audio is still arriving.
 *
 * - Bytes are appended in arrival order; the data chunk is the file's last chunk.
 * - Memory stays flat: audio waits in a queue and is written in batches (writev), one batch in flight. The
 *   back-pressure limit judges the disk, not one frame: audio is refused only when more than `maxPendingBytes`
 *   wait AND the disk is behind (stalled, or no write finished for DISK_BEHIND_MS), or when the backlog passes
 *   four times maxPendingBytes whatever the disk does. A huge frame into an empty queue is always accepted and
 *   written through whole. Refused audio is dropped (counted), never a reason to stop: once the backlog drains,
 *   saving continues, the missing stretch is reported through onGap, and zeros (< one block) keep the channels
 *   aligned after it.
 * - A full disk (ENOSPC, EDQUOT) stalls the writer rather than failing it: the unwritten batch stays queued, the
 *   write is retried with backoff (onStall, then onResume once space is back). Any other error stops the writer.
 * - Writes are coalesced: a batch starts `flushIntervalMs` after the first chunk queued behind it, or at once when
 *   `flushBytes` are waiting. One write per 20 ms frame costs a thread-pool round trip, a syscall and promises per
 *   frame; with hundreds of calls that was most of the server's CPU. Batching makes it a few writes per second.
 *   Frames that arrive while a batch is being written wait for their own flush: written right after the batch,
 *   they made writes more frequent exactly when the disk's thread pool was slowest (at high load, one write per
 *   call per write latency instead of per flush interval).
 * - Small chunks are copied into staging blocks rather than kept: a frame's buffer then dies young, instead of
 *   thousands of frame buffers a second living long enough to be promoted to the old generation, which made the
 *   garbage collector's pauses (and the server's memory) grow with the number of calls. Large chunks are queued
 *   as they are.
 * - The header's sizes are patched every `headerPatchIntervalMs` and on close, always to the data bytes actually
 *   on disk at that moment, so a crash leaves a readable file whose header matches its contents.
 * - On close a trailing partial sample block is zero-padded (never trimmed), so every received byte is kept and
 *   the data size is a multiple of blockAlign. padToBlock() does the same mid-file, between two streams.
 * - Errors never throw from write(): a lasting one (EACCES, EIO …) stops the writer, records `error` and calls
 *   onError; a full disk still unresolved at close() does the same, and the file is cut back to whole blocks.
 */
import type { FileHandle } from 'node:fs/promises';
import type { AudioFormat } from '../vapi/schemas.js';
import { asError, DiskWriteQueue, isOutOfSpace, openFile, writeFully, type OpenFile, type WriteQueueOptions } from './disk.js';

export const WAV_HEADER_BYTES = 44;
/** RIFF sizes are u32: the RIFF size (36 + n) must fit, leaving room for the close padding. */
export const MAX_WAV_DATA_BYTES = 0xffffffff - 36 - 16;
const MAX_BUFFERS_PER_WRITE = 1024;
const DEFAULT_FLUSH_INTERVAL_MS = 200;
const DEFAULT_FLUSH_BYTES = 64 * 1024;
/** Chunks smaller than this are copied into a staging block of this size. */
const STAGING_BLOCK_BYTES = 16 * 1024;
/** A backlog over maxPendingBytes is only refused when no write has finished for this long (or the disk is full). */
const DISK_BEHIND_MS = 2000;

/** Audio that was received but not saved (disk backlog over the limit), reported when saving resumes. */
export interface AudioGap {
  /** Epoch ms of the first and last dropped chunk. */
  from: number;
  to: number;
  droppedBytes: number;
  /** Offset in the data chunk where the gap sits (the bytes on either side are adjacent in the file). */
  fileOffset: number;
  /** Zero bytes written at the gap so the next sample starts on a block boundary. */
  paddingBytes: number;
}

export interface WavWriterOptions extends WriteQueueOptions {
  /** Default 2000 ms. */
  headerPatchIntervalMs?: number;
  /** Longest wait between queuing audio and starting to write it; default 200 ms. */
  flushIntervalMs?: number;
  /** Queued bytes that start a write without waiting for flushIntervalMs; default 64 KiB (about 1 s of 16 kHz stereo). */
  flushBytes?: number;
  /** Backlog above which arriving audio is dropped while the disk is behind (and never more than 4x it); default 16 MiB (about 8 minutes of 16 kHz stereo). */
  maxPendingBytes?: number;
  /** Open with 'wx' (fail with EEXIST instead of replacing an existing file). */
  exclusive?: boolean;
  onGap?: (gap: AudioGap) => void;
  openFile?: OpenFile;
}

export class WavWriter {
  readonly path: string;
  readonly format: Readonly<AudioFormat>;
  readonly blockAlign: number;
  readonly byteRate: number;
  /** Bytes handed to write() and accepted (not counting anything refused after a failure or close). */
  bytesReceived = 0;
  /** PCM bytes on disk after the header (includes close padding once closed). */
  bytesWritten = 0;
  /** Zero bytes added to complete partial blocks (padToBlock, gaps and close); included in bytesWritten. */
  paddingBytes = 0;
  /** Received bytes dropped because the backlog was over maxPendingBytes (not in bytesReceived). */
  droppedBytes = 0;

  private fh: FileHandle | undefined;
  private readonly ready: Promise<void>;
  /** Audio waiting to be written, in order; the staging block being filled comes after it. */
  private queue: Buffer[] = [];
  private staging: Buffer | undefined;
  private stagingFill = 0;
  /** A staging block whose bytes are on disk, ready to be filled again (saves an allocation per batch). */
  private spareBlock: Buffer | undefined;
  private readonly stagingBlocks = new WeakSet<ArrayBufferLike>();
  /** Bytes in the queue and the staging block. */
  private queuedBytes = 0;
  private patchDue = false;
  private lastPatchedBytes = -1;
  /** The 44-byte header is on disk (a full disk at open defers it to the first write). */
  private headerWritten = false;
  private closing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private flushTimer: NodeJS.Timeout | undefined;
  /** The queued audio is due: its flush interval passed, or the writer is closing (or retrying a failed batch). */
  private flushDue = false;
  private readonly flushIntervalMs: number;
  private readonly flushBytes: number;
  private readonly maxPendingBytes: number;
  private readonly options: WavWriterOptions;
  private readonly writes: DiskWriteQueue;
  /** When a write last finished or the backlog was last empty. */
  private lastProgressAt = Date.now();
  private openGap: { from: number; to: number; droppedBytes: number; fileOffset: number } | undefined;

  /** Opens the file and writes the header; resolves when ready (rejects if the file cannot be created). */
  static async open(path: string, format: AudioFormat, options: WavWriterOptions = {}): Promise<WavWriter> {
    const writer = WavWriter.create(path, format, options);
    await writer.ready;
    if (writer.error) throw writer.error;
    return writer;
  }

  /** Like open() but returns at once; writes queue until the file is open, failures surface via onError/error. */
  static create(path: string, format: AudioFormat, options: WavWriterOptions = {}): WavWriter {
    return new WavWriter(path, format, options);
  }

  private constructor(path: string, format: AudioFormat, options: WavWriterOptions) {
    if (!Number.isInteger(format.channels) || format.channels < 1 || !Number.isInteger(format.sampleRate) || format.sampleRate < 1) {
      throw new Error(`invalid audio format ${format.sampleRate} Hz / ${format.channels} ch`);
    }
    this.path = path;
    this.format = { sampleRate: format.sampleRate, channels: format.channels };
    this.blockAlign = format.channels * 2;
    this.byteRate = format.sampleRate * this.blockAlign;
    this.maxPendingBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.flushBytes = options.flushBytes ?? DEFAULT_FLUSH_BYTES;
    this.options = options;
    // Held until the header is written: nothing goes into the file before it.
    this.writes = new DiskWriteQueue(
      {
        writeBatch: () => this.writeBatch(),
        hasWork: () => this.fh !== undefined && (this.audioDue() || this.patchDue),
        discard: () => {
          clearTimeout(this.flushTimer);
          this.flushTimer = undefined;
          this.queue = [];
          this.staging = undefined;
          this.stagingFill = 0;
          this.queuedBytes = 0;
        },
      },
      options,
    );
    this.ready = this.openFile(options.exclusive ?? false);
    this.timer = setInterval(() => {
      if (this.bytesWritten !== this.lastPatchedBytes) {
        this.patchDue = true;
        this.kick();
      }
    }, options.headerPatchIntervalMs ?? 2000);
    this.timer.unref();
  }

  /** Why the writer stopped for good, if it did. */
  get error(): Error | undefined {
    return this.writes.error;
  }

  /** Set while the disk is full and writes are being retried. */
  get stalled(): Error | undefined {
    return this.writes.stalled;
  }

  get durationSeconds(): number {
    return this.bytesWritten / this.byteRate;
  }

  /** Bytes waiting to be written (bounded by 4 x maxPendingBytes plus one frame). */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Appends PCM in arrival order. A large buffer is kept (not copied) until written: do not mutate it. */
  write(chunk: Buffer): void {
    if (this.error || this.closing || chunk.length === 0) return;
    if (this.bytesReceived + this.paddingBytes + chunk.length > MAX_WAV_DATA_BYTES) {
      this.writes.fail(new Error('WAV size limit (4 GiB) reached; later audio is not saved'));
      return;
    }
    // The clock is read once per batch, and per frame only while a backlog is over its bound.
    if (this.queuedBytes === 0) this.lastProgressAt = Date.now();
    const backlog = this.queuedBytes + chunk.length;
    if (this.queuedBytes > 0 && backlog > this.maxPendingBytes) {
      const diskBehind = this.stalled !== undefined || Date.now() - this.lastProgressAt > DISK_BEHIND_MS;
      if (diskBehind || backlog > 4 * this.maxPendingBytes) {
        this.drop(chunk.length);
        return;
      }
    }
    if (this.openGap) this.closeGap();
    this.bytesReceived += chunk.length;
    this.enqueue(chunk);
    this.scheduleFlush();
  }

  private drop(bytes: number): void {
    const now = Date.now();
    this.droppedBytes += bytes;
    this.openGap ??= { from: now, to: now, droppedBytes: 0, fileOffset: this.bytesReceived + this.paddingBytes };
    this.openGap.to = now;
    this.openGap.droppedBytes += bytes;
  }

  /** Saving resumes after dropped audio: keep the sample grid of the stream, then report the gap. */
  private closeGap(): void {
    const gap = this.openGap;
    if (!gap) return;
    this.openGap = undefined;
    const padding = gap.droppedBytes % this.blockAlign;
    if (padding > 0) {
      this.paddingBytes += padding;
      this.enqueue(Buffer.alloc(padding));
    }
    this.options.onGap?.({ ...gap, paddingBytes: padding });
  }

  /**
   * Completes a partial sample block with zeros so the next bytes start on a block boundary; returns the number
   * of bytes added. Used when one stream ends mid-sample and another continues the file.
   */
  padToBlock(): number {
    if (this.error || this.closing) return 0;
    const partial = (this.bytesReceived + this.paddingBytes) % this.blockAlign;
    if (partial === 0) return 0;
    const padding = Buffer.alloc(this.blockAlign - partial);
    this.paddingBytes += padding.length;
    this.enqueue(padding);
    this.scheduleFlush();
    return padding.length;
  }

  /** Writes everything pending, pads to a whole block, patches the header and closes. Never rejects. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    clearInterval(this.timer);
    // A stalled writer gets one last attempt now; if the disk is still full, what is queued is lost.
    this.writes.lastAttempt();
    await this.ready;
    this.kick();
    await this.writes.idle();
    if (this.openGap) {
      const gap = this.openGap;
      this.openGap = undefined;
      this.options.onGap?.({ ...gap, paddingBytes: 0 });
    }
    const fh = this.fh;
    if (!fh) return;
    const partial = this.bytesWritten % this.blockAlign;
    if (partial !== 0) {
      try {
        const padding = Buffer.alloc(this.blockAlign - partial);
        await writeFully(fh, [padding], WAV_HEADER_BYTES + this.bytesWritten);
        this.bytesWritten += padding.length;
        this.paddingBytes += padding.length;
      } catch (err) {
        this.writes.fail(asError(err));
      }
    }
    await this.writes.closeFile(fh, async () => {
      // A failed batch may have left part of itself on disk: cut the file back to what the header will say.
      if (this.error) await fh.truncate(WAV_HEADER_BYTES + this.bytesWritten);
      await this.patchHeader();
      await fh.sync();
    });
    this.fh = undefined;
  }

  private async openFile(exclusive: boolean): Promise<void> {
    try {
      const fh = await (this.options.openFile ?? openFile)(this.path, exclusive ? 'wx' : 'w', 0o600);
      this.fh = fh;
      await this.writeHeader();
    } catch (err) {
      // A full disk is waited out: the header goes first in the next write (writeBatch).
      if (!this.fh || !isOutOfSpace(err)) this.writes.fail(asError(err));
    }
    this.writes.release();
  }

  private enqueue(chunk: Buffer): void {
    this.queuedBytes += chunk.length;
    if (chunk.length >= STAGING_BLOCK_BYTES) {
      this.sealStaging();
      this.queue.push(chunk);
      return;
    }
    if (!this.staging || this.stagingFill + chunk.length > this.staging.length) {
      this.sealStaging();
      this.staging = this.spareBlock ?? this.newStagingBlock();
      this.spareBlock = undefined;
    }
    chunk.copy(this.staging, this.stagingFill);
    this.stagingFill += chunk.length;
  }

  private newStagingBlock(): Buffer {
    const block = Buffer.allocUnsafe(STAGING_BLOCK_BYTES);
    this.stagingBlocks.add(block.buffer);
    return block;
  }

  /** Moves the staged bytes to the queue; the next small chunk starts a new block. */
  private sealStaging(): void {
    if (this.staging && this.stagingFill > 0) this.queue.push(this.staging.subarray(0, this.stagingFill));
    this.staging = undefined;
    this.stagingFill = 0;
  }

  private audioDue(): boolean {
    return this.queuedBytes > 0 && (this.flushDue || this.queuedBytes >= this.flushBytes);
  }

  /** Writes soon: at once when enough is queued, else when the flush interval has passed. */
  private scheduleFlush(): void {
    if (this.queuedBytes >= this.flushBytes) {
      this.kick();
      return;
    }
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.kick();
    }, this.flushIntervalMs);
    this.flushTimer.unref();
  }

  /** Everything queued is due now. */
  private kick(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushDue = true;
    this.writes.kick();
  }

  /** One batch of queued audio (at most MAX_BUFFERS_PER_WRITE buffers), else a due header patch. */
  private async writeBatch(): Promise<boolean> {
    const fh = this.fh;
    if (!fh) return false;
    if (!this.headerWritten && (this.queuedBytes > 0 || this.patchDue)) {
      await this.writeHeader();
      return true;
    }
    if (this.audioDue()) {
      this.sealStaging();
      const batch = this.queue.length <= MAX_BUFFERS_PER_WRITE ? this.queue : this.queue.slice(0, MAX_BUFFERS_PER_WRITE);
      this.queue = batch === this.queue ? [] : this.queue.slice(MAX_BUFFERS_PER_WRITE);
      // What arrives during this write waits for its own flush; what is left of a long queue stays due.
      if (this.queue.length === 0) this.flushDue = false;
      let bytes = 0;
      for (const b of batch) bytes += b.length;
      this.queuedBytes -= bytes;
      try {
        await writeFully(fh, batch, WAV_HEADER_BYTES + this.bytesWritten);
      } catch (err) {
        // Positional writes: bytes of the failed batch that did reach the disk are simply written again.
        this.queue = [...batch, ...this.queue];
        this.queuedBytes += bytes;
        this.flushDue = true;
        throw err;
      }
      this.bytesWritten += bytes;
      this.lastProgressAt = Date.now();
      const last = batch[batch.length - 1];
      if (this.stagingBlocks.has(last.buffer)) this.spareBlock = Buffer.from(last.buffer, 0, STAGING_BLOCK_BYTES);
      return true;
    }
    if (this.patchDue) {
      this.patchDue = false;
      try {
        await this.patchHeader();
      } catch (err) {
        this.patchDue = true;
        throw err;
      }
      return true;
    }
    return false;
  }

  /** The whole header, sized for what is written so far. */
  private async writeHeader(): Promise<void> {
    await writeFully(this.fh!, [wavHeader(this.format, this.bytesWritten)], 0);
    this.headerWritten = true;
    this.lastPatchedBytes = this.bytesWritten;
  }

  private async patchHeader(): Promise<void> {
    const fh = this.fh;
    if (!fh) return;
    if (!this.headerWritten) return this.writeHeader();
    const n = this.bytesWritten;
    const sizes = Buffer.alloc(4);
    sizes.writeUInt32LE(36 + n, 0);
    await writeFully(fh, [sizes], 4);
    sizes.writeUInt32LE(n, 0);
    await writeFully(fh, [sizes], 40);
    this.lastPatchedBytes = n;
  }
}

/** The canonical 44-byte PCM WAV header for `dataBytes` bytes of s16le audio. */
export function wavHeader(format: AudioFormat, dataBytes: number): Buffer {
  const blockAlign = format.channels * 2;
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRate, 24);
  h.writeUInt32LE(format.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
