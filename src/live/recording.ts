/**
 * The files of one call in the recordings directory: `<callId>.jsonl` (every event and what the listener
 * observed, one JSON object per line) and `<callId>.wav` (the audio, or `<callId>-N.wav` when earlier audio
 * exists). Owns both writers and their disk state; the listener (connection supervision) tells it what to record.
 *
 * - Disk failures never throw: they show up as `diskError` (and onChange), and the live transcript keeps working.
 *   A full disk pauses saving (diskError while it lasts) and saving resumes when space returns.
 * - Every JSONL line passes through `redact` before it is queued.
 * - A transcript restored from an earlier event log of the call (the server restarted mid-call) comes back
 *   through prepare().
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { AudioFormat } from '../vapi/schemas.js';
import type { DiskRetryOptions, OpenFile } from './disk.js';
import { JsonlWriter } from './jsonl-writer.js';
import { restoreTranscript } from './recovery.js';
import type { RollingTranscript } from './transcript.js';
import { WavWriter } from './wav-writer.js';

const MAX_AUDIO_FILE_VARIANTS = 100;
/**
 * The frequent events that change no line a subscriber reads (speech updates, partial transcripts, conversation
 * updates) wait up to this long to share one write with the next records; final transcript lines, status changes
 * and the listener's own notes are written at once, so a crash right after a line was read cannot lose it. One
 * write per event cost a thread-pool round trip each (about a tenth of the server's CPU at 300 calls).
 */
const LAZY_EVENT_FLUSH_MS = 500;
const LAZY_EVENT_TYPES: ReadonlySet<unknown> = new Set(['speech-update', 'conversation-update']);

type EventKind = { type?: unknown; transcriptType?: unknown };

function isLazy(event: EventKind | undefined): boolean {
  if (!event) return false;
  return LAZY_EVENT_TYPES.has(event.type) || (event.type === 'transcript' && event.transcriptType === 'partial');
}

export interface CallRecordingOptions {
  callId: string;
  recordingsDir: string;
  /** Keep the audio as a WAV; false keeps only the event log. */
  saveAudio: boolean;
  /** The first `<id>-N.wav` the audio may take (default 1: `<id>.wav`); a takeover in cluster mode starts at 2. */
  firstAudioPart?: number;
  logger: Logger;
  /** Masks secrets in every JSONL line. */
  redact: (text: string) => string;
  /** WAV header patch interval; default 2000 ms. */
  headerPatchIntervalMs?: number;
  /** Retry timing while the disk is full. */
  diskRetry?: DiskRetryOptions;
  /** Opens the files (tests inject a failing disk). */
  openFile?: OpenFile;
  /** The disk state changed (diskError appeared, changed or cleared). */
  onChange: () => void;
}

export class CallRecording {
  readonly transcriptPath: string;
  private readonly options: CallRecordingOptions;
  private readonly dir: string;
  private chosenAudioPath: string | undefined;
  private wav: WavWriter | undefined;
  private jsonl: JsonlWriter | undefined;
  private lastingError: string | undefined;
  /** Why saving is paused right now (disk full), per file. */
  private readonly stalls = new Map<'audio' | 'events', string>();

  constructor(options: CallRecordingOptions) {
    this.options = options;
    this.dir = path.resolve(options.recordingsDir);
    this.transcriptPath = this.fileInDir(`${options.callId}.jsonl`);
  }

  /** Where the audio goes (chosen by prepare()), while audio is to be saved. */
  get audioPath(): string | undefined {
    return this.chosenAudioPath;
  }

  /** An audio file exists: startAudio() opened one. */
  get savingAudio(): boolean {
    return this.wav !== undefined;
  }

  /** Why the files cannot be written (for good, or while the disk is full). */
  get diskError(): string | undefined {
    return this.lastingError ?? this.stalls.values().next().value;
  }

  /**
   * Creates the directory, chooses the audio path, restores `transcript`'s final lines from an earlier event log
   * of the call, and opens the event log with a listen-start line. `stopped()` is asked between the steps.
   */
  async prepare(transcript: RollingTranscript, stopped: () => boolean): Promise<void> {
    const { callId, logger } = this.options;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      if (this.options.saveAudio) this.chosenAudioPath = await this.freeAudioPath();
    } catch (err) {
      this.chosenAudioPath = undefined;
      this.setError(`cannot use recordings directory ${this.dir}: ${errorMessage(err)}`);
      return;
    }
    if (stopped()) return;
    try {
      const restored = await restoreTranscript(this.transcriptPath, transcript);
      if (restored > 0) {
        logger.info('transcript restored from the event log', { callId, lines: restored });
        this.options.onChange();
      }
    } catch (err) {
      logger.warn('could not read the earlier event log', { callId, error: errorMessage(err) });
    }
    if (stopped()) return;
    this.jsonl = new JsonlWriter(this.transcriptPath, {
      ...this.options.diskRetry,
      flushIntervalMs: LAZY_EVENT_FLUSH_MS,
      redact: this.options.redact,
      openFile: this.options.openFile,
      onError: (err) => this.setError(`event log ${this.transcriptPath}: ${err.message}`),
      onStall: (err) => this.setStall('events', `event log ${this.transcriptPath}: ${err.message}; saving resumes when space is freed`),
      onResume: () => this.setStall('events', undefined),
    });
    this.record({
      receivedAt: Date.now(),
      meta: 'listen-start',
      callId,
      saveAudio: this.options.saveAudio,
      ...(this.chosenAudioPath !== undefined && { audioPath: this.chosenAudioPath }),
    });
  }

  /** Appends one line to the event log (once it is open). */
  record(record: object): void {
    this.jsonl?.append(record, { lazy: isLazy((record as { event?: EventKind }).event) });
  }

  /** Opens the WAV for the stream's format, when audio is to be saved and the files are usable. */
  startAudio(format: AudioFormat): void {
    const audioPath = this.chosenAudioPath;
    if (audioPath === undefined || this.lastingError !== undefined || this.jsonl === undefined || this.wav) return;
    this.wav = WavWriter.create(audioPath, format, {
      ...this.options.diskRetry,
      exclusive: true,
      headerPatchIntervalMs: this.options.headerPatchIntervalMs,
      openFile: this.options.openFile,
      onError: (err) => this.setError(`audio file ${audioPath}: ${err.message}; later audio is not saved`),
      onStall: (err) => this.setStall('audio', `audio file ${audioPath}: ${err.message}; saving resumes when space is freed`),
      onResume: () => this.setStall('audio', undefined),
      onGap: (gap) => this.record({ receivedAt: Date.now(), meta: 'audio-gap', ...gap }),
    });
  }

  writeAudio(chunk: Buffer): void {
    this.wav?.write(chunk);
  }

  /** Completes a sample block torn by a connection that ended mid-sample. */
  padAudioToBlock(): void {
    this.wav?.padToBlock();
  }

  /** Writes what is pending, patches the WAV header and closes both files. Never rejects. */
  async close(): Promise<void> {
    await this.wav?.close();
    await this.jsonl?.close();
  }

  /** `<id>.wav`, or `<id>-2.wav` … when an earlier listener already saved audio for this call. */
  private async freeAudioPath(): Promise<string> {
    const { callId } = this.options;
    for (let n = Math.max(1, this.options.firstAudioPart ?? 1); n <= MAX_AUDIO_FILE_VARIANTS; n++) {
      const candidate = this.fileInDir(n === 1 ? `${callId}.wav` : `${callId}-${n}.wav`);
      try {
        await stat(candidate);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return candidate;
        throw err;
      }
    }
    throw new Error(`more than ${MAX_AUDIO_FILE_VARIANTS} audio files already exist for this call`);
  }

  private fileInDir(name: string): string {
    const file = path.resolve(this.dir, name);
    if (path.dirname(file) !== this.dir) throw new Error('refusing a recording path outside the recordings directory');
    return file;
  }

  private setError(message: string): void {
    if (this.lastingError !== undefined) return;
    this.lastingError = message;
    this.options.logger.error('cannot save call recording files; the live transcript keeps working', { callId: this.options.callId, error: message });
    this.options.onChange();
  }

  private setStall(file: 'audio' | 'events', message: string | undefined): void {
    const { callId, logger } = this.options;
    if (message === undefined) {
      if (!this.stalls.delete(file)) return;
      logger.info('saving call recording files again', { callId, file });
    } else {
      if (this.stalls.has(file)) return;
      this.stalls.set(file, message);
      logger.error('disk full: saving paused; the live transcript keeps working', { callId, error: message });
    }
    this.options.onChange();
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
