/**
 * Listens to one live call: keeps its state (status, the rolling transcript, why listening fails), stops by itself
 * when the call ends, and hands the audio and every event to the call's recording (recording.ts: `<callId>.wav`
 * and `<callId>.jsonl`). The connection (retries, refused handshakes) is listen-connection.ts; the audio side
 * (format, bytes, alignment across reconnections, metrics) is call-audio.ts.
 *
 * - Disk failures never stop listening: they show up as `diskError` and the transcript keeps working (a full disk
 *   pauses saving; audio that could not be kept is recorded as `{meta:'audio-gap', …}`).
 * - Every JSONL line passes through `redact` (keys, monitor URLs, this call's listen URL) before it is queued.
 * - A listener for a call that already has a JSONL (the server restarted mid-call) rebuilds the final lines from
 *   it and writes its audio to the next free `<id>-N.wav`, named in listen-start.
 * - `filesFinal` turns true only after the WAV header is patched and both files are closed.
 * - Audio frames never trigger onChange; transcript, status, connection and listening problems do (unthrottled).
 * - JSONL records: `{receivedAt, audioOffset, event}` per event (audioOffset: the WAV data offset it arrived at)
 *   and `{receivedAt, meta: …}` for what the listener observed (connected, format, gap, closed, malformed, ended,
 *   listen-start/stop, metrics).
 */
import type { Logger } from '../log.js';
import { VapiError } from '../vapi/errors.js';
import { TERMINAL_STATUSES, isCallId, type AudioFormat, type Call, type ListenEvent } from '../vapi/schemas.js';
import type { DiskRetryOptions, OpenFile } from './disk.js';
import type { AudioReading, CallAudioAnalyzer } from './audio-analysis.js';
import { CallAudio } from './call-audio.js';
import {
  ListenConnection,
  type ConnectionGap,
  type ConnectionOwner,
  type ListenConnectionOptions,
  type ListenProblem,
} from './listen-connection.js';
import { CallRecording } from './recording.js';
import { RollingTranscript } from './transcript.js';

export type { OpenListenSocket, ReconnectPolicy } from './listen-connection.js';

/** The connection's settings (public key, timeouts, retries, the socket opener) and the listener's own. */
export interface CallListenerOptions extends Omit<ListenConnectionOptions, 'callId' | 'url'> {
  callId: string;
  listenUrl: string;
  recordingsDir: string;
  saveAudio: boolean;
  /** See CallRecordingOptions.firstAudioPart. */
  firstAudioPart?: number;
  transcriptMaxLines?: number;
  /** GET /call/{id}: confirms whether the call ended after an unexpected close. */
  getCall: (id: string) => Promise<Call>;
  /** Call start (epoch ms) when known, for transcript timings. */
  startedAt?: number;
  /** Status known from the Call object, shown until the first status-update arrives. */
  status?: string;
  /** After status-update ended, how long to wait for the server to close before closing. Default 2000 ms. */
  endGraceMs?: number;
  /** WAV header patch interval; default 2000 ms. */
  headerPatchIntervalMs?: number;
  /** Masks secrets in every JSONL line. */
  redact?: (text: string) => string;
  /** Retry timing while the disk is full. */
  diskRetry?: DiskRetryOptions;
  /** Opens the recording files (tests inject a failing disk). */
  openFile?: OpenFile;
  /** Longest final line kept in memory, in characters. */
  transcriptMaxLineChars?: number;
  /** Characters of final lines kept in memory. */
  transcriptMaxChars?: number;
  /** Default true: measure levels and voice-quality metrics (audio-analysis.ts). */
  audioAnalysis?: boolean;
  /** Builds the call's analyzer (tests inject one that fails, to see the metrics degrade alone). */
  createAnalyzer?: (options: { enabled: boolean }) => CallAudioAnalyzer;
}

export type ListenerLifecycle = Pick<ListenerState, 'callId' | 'status' | 'listening' | 'ended' | 'filesFinal' | 'endedReason'>;

export interface ListenerState {
  callId: string;
  status: string;
  /** The listener is active (connected or reconnecting). */
  listening: boolean;
  /** A listen socket is open right now. */
  connected: boolean;
  /**
   * connecting / connected / reconnecting while active; unavailable: listening stopped before the call ended
   * (listenError says why); stopped: the call ended or listening was stopped.
   */
  listenState: ListenState;
  ended: boolean;
  /** The listener has stopped and the files are complete: WAV header patched, both files closed. */
  filesFinal: boolean;
  endedReason?: string;
  audioPath?: string;
  transcriptPath: string;
  /** Audio bytes received over every connection. */
  audioBytes: number;
  /** Audio received, in seconds of the stream's format. */
  durationSeconds: number;
  malformedFrames: number;
  reconnects: number;
  diskError?: string;
  /** Why audio stopped being saved while listening went on (format change). */
  audioStoppedReason?: string;
  /** Why listening is failing right now (while retrying) or stopped before the call ended (rejected, unreachable). */
  listenError?: string;
  /** The HTTP status Vapi answered a refused listen handshake with. */
  listenHttpStatus?: number;
  format?: AudioFormat & { source: 'start-frame' | 'default' };
  /** Levels, who is talking and the voice-quality metrics so far (see audio-analysis.ts), or why they are unavailable. */
  audio: AudioReading;
}

export type ListenState = 'connecting' | 'connected' | 'reconnecting' | 'unavailable' | 'stopped';

/** Malformed frames recorded in the JSONL; later ones are only counted. */
const MAX_MALFORMED_RECORDS = 100;

type Phase = 'starting' | 'connected' | 'reconnecting' | 'finished';

export class CallListener implements ConnectionOwner {
  readonly callId: string;
  readonly transcript: RollingTranscript;
  readonly transcriptPath: string;

  private readonly audio: CallAudio;
  private readonly options: CallListenerOptions;
  private readonly logger: Logger;
  private readonly connection: ListenConnection;
  private readonly recording: CallRecording;
  private phase: Phase = 'starting';
  private ended = false;
  private filesFinal = false;
  private readonly prepared: Promise<void>;
  private resolvePrepared!: () => void;
  private endedReason: string | undefined;
  private restStatus: string | undefined;
  private malformedFrames = 0;
  private reconnects = 0;
  /** Why listening is failing; `final` once it has stopped for good. */
  private listenProblem: (ListenProblem & { final: boolean }) | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private finishing: Promise<ListenerState> | undefined;
  private readonly changeListeners = new Set<() => void>();
  private readonly endedPromise: Promise<void>;
  private resolveEnded!: () => void;

  constructor(options: CallListenerOptions) {
    if (!isCallId(options.callId)) throw new Error('refusing to listen: call id is not a Vapi call id (uuid)');
    this.options = options;
    this.callId = options.callId.toLowerCase();
    this.logger = options.logger;
    this.restStatus = options.status;
    this.transcript = new RollingTranscript({
      maxLines: options.transcriptMaxLines,
      maxLineChars: options.transcriptMaxLineChars,
      maxChars: options.transcriptMaxChars,
      startedAt: options.startedAt,
    });
    this.connection = new ListenConnection({ ...options, callId: this.callId, url: options.listenUrl }, this);
    const redact = options.redact ?? ((text: string) => text);
    const listenUrl = options.listenUrl;
    this.recording = new CallRecording({
      callId: this.callId,
      recordingsDir: options.recordingsDir,
      saveAudio: options.saveAudio,
      firstAudioPart: options.firstAudioPart,
      logger: options.logger,
      redact: (text) => {
        const masked = redact(text);
        return listenUrl.length >= 6 && masked.includes(listenUrl) ? masked.split(listenUrl).join('[monitor-url]') : masked;
      },
      headerPatchIntervalMs: options.headerPatchIntervalMs,
      diskRetry: options.diskRetry,
      openFile: options.openFile,
      onChange: () => this.emitChange(),
    });
    this.transcriptPath = this.recording.transcriptPath;
    this.audio = new CallAudio({
      callId: this.callId,
      recording: this.recording,
      logger: options.logger,
      analysis: options.audioAnalysis,
      createAnalyzer: options.createAnalyzer,
      onChange: () => this.emitChange(),
      record: (record) => this.record(record),
    });
    this.endedPromise = new Promise((resolve) => (this.resolveEnded = resolve));
    this.prepared = new Promise((resolve) => (this.resolvePrepared = resolve));
    void this.run();
  }

  /** What the server's bookkeeping reads on every change, without the audio metrics state() computes each time. */
  lifecycle(): ListenerLifecycle {
    return {
      callId: this.callId,
      status: this.transcript.status !== 'unknown' ? this.transcript.status : (this.restStatus ?? 'unknown'),
      listening: this.phase !== 'finished',
      ended: this.ended,
      filesFinal: this.filesFinal,
      ...(this.endedReason !== undefined && { endedReason: this.endedReason }),
    };
  }

  state(): ListenerState {
    const audio = this.audio;
    const problem = this.listenProblem;
    return {
      ...this.lifecycle(),
      connected: this.phase === 'connected',
      listenState: this.listenState(),
      // While listening, the path audio will go to; once finished, only a file that was actually written.
      ...(this.recording.audioPath !== undefined &&
        (this.recording.savingAudio || this.phase !== 'finished') && { audioPath: this.recording.audioPath }),
      transcriptPath: this.transcriptPath,
      audioBytes: audio.bytes,
      durationSeconds: audio.durationSeconds,
      malformedFrames: this.malformedFrames,
      reconnects: this.reconnects,
      ...(this.recording.diskError !== undefined && { diskError: this.recording.diskError }),
      ...(audio.stoppedReason !== undefined && { audioStoppedReason: audio.stoppedReason }),
      ...(problem !== undefined && { listenError: problem.reason }),
      ...(problem?.httpStatus !== undefined && { listenHttpStatus: problem.httpStatus }),
      ...(audio.format !== undefined && { format: { ...audio.format } }),
      audio: audio.reading(),
    };
  }

  /** One line for humans about the audio: the metrics so far, or why they are unavailable. */
  audioSummaryLine(): string {
    return this.audio.summaryLine();
  }

  /** Called after every visible change (transcript, status, connection, errors); returns an unsubscribe. */
  onChange(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Resolves once the files are chosen (audioPath is the real one) and any earlier transcript is restored. */
  whenPrepared(): Promise<void> {
    return this.prepared;
  }

  /** Resolves once the listener has stopped for good (call ended, stop(), or gave up) and files are final. */
  whenEnded(): Promise<void> {
    return this.endedPromise;
  }

  /** Stops listening and finalises the files; idempotent. The WAV header is final when this resolves. */
  stop(): Promise<ListenerState> {
    return this.finish();
  }

  private listenState(): ListenState {
    if (this.phase === 'finished') return this.listenProblem?.final && !this.ended ? 'unavailable' : 'stopped';
    return this.phase === 'starting' ? 'connecting' : this.phase;
  }

  private async run(): Promise<void> {
    if (!isWebSocketUrl(this.options.listenUrl)) {
      this.listenProblem = { reason: 'the listen URL is not a ws:// or wss:// URL', final: true };
      this.resolvePrepared();
      void this.finish();
      return;
    }
    await this.recording.prepare(this.transcript, () => this.isFinished());
    this.resolvePrepared();
    if (this.isFinished()) return;
    await this.connection.start();
  }

  // ---- ConnectionOwner: what the supervised connection reports ------------------------------------------------

  isFinished(): boolean {
    return this.phase === 'finished';
  }

  connected(gap: ConnectionGap | undefined): void {
    this.phase = 'connected';
    this.listenProblem = undefined;
    const now = Date.now();
    if (gap !== undefined) {
      this.reconnects++;
      const audioOffset = this.audio.offset;
      this.record({ receivedAt: now, meta: 'gap', from: gap.from, to: now, reconnectAttempt: gap.attempt, audioOffset });
      this.logger.info('listen socket reconnected', { callId: this.callId, attempt: gap.attempt, gapMs: now - gap.from });
    }
    this.record({ receivedAt: now, meta: 'connected' });
    this.emitChange();
  }

  format(format: AudioFormat, source: 'start-frame' | 'default'): void {
    this.audio.setFormat(format, source);
  }

  audioFrame(chunk: Buffer): void {
    this.audio.write(chunk);
  }

  event(event: ListenEvent, receivedAt: number): void {
    // audioOffset aligns the event with the audio: bytes received before it (the WAV data offset while saving).
    this.record({ receivedAt, audioOffset: this.audio.offset, event });
    this.audio.event(event, receivedAt);
    const changed = this.transcript.apply(event, receivedAt);
    if (this.transcript.ended && !this.ended) {
      this.markEnded(this.transcript.endedReason, 'socket');
      // The server normally closes right after; don't wait forever if it does not.
      this.graceTimer = setTimeout(() => void this.finish(), this.options.endGraceMs ?? 2000);
      this.graceTimer.unref();
      return;
    }
    if (changed) this.emitChange();
  }

  malformed(reason: string): void {
    this.malformedFrames++;
    if (this.malformedFrames <= MAX_MALFORMED_RECORDS) this.record({ receivedAt: Date.now(), meta: 'malformed', reason });
    this.logger.debug('malformed listen frame', { callId: this.callId, reason });
  }

  closed(info: { code: number; reason: string }): void {
    const closedAt = Date.now();
    const padding = this.audio.endOfConnection();
    this.record({
      receivedAt: closedAt,
      meta: 'closed',
      code: info.code,
      reason: info.reason,
      ...(padding > 0 && { alignmentPaddingBytes: padding }),
    });
    if (this.ended) {
      void this.finish();
      return;
    }
    this.logger.info('listen socket closed while the call may be live', { callId: this.callId, code: info.code });
    this.phase = 'reconnecting';
    this.emitChange();
    void this.connection.reconnect(closedAt);
  }

  retrying(problem: ListenProblem): void {
    this.listenProblem = { ...problem, final: false };
    this.emitChange();
  }

  giveUp(problem: ListenProblem): void {
    if (this.isFinished()) return;
    this.listenProblem = { ...problem, final: true };
    this.logger.warn('stopped listening to the call', { callId: this.callId, reason: problem.reason });
    void this.finish();
  }

  /**
   * Asks GET /call for the call's status. 'ended' means listening is over (the call ended, or Vapi no longer
   * knows it) and the listener is finishing; undefined means the status could not be learned.
   */
  async confirmStatus(): Promise<string | undefined> {
    let call: Call;
    try {
      call = await this.options.getCall(this.callId);
    } catch (err) {
      if (err instanceof VapiError && err.kind === 'http' && err.status === 404) {
        this.giveUp({ reason: 'Vapi no longer knows this call (HTTP 404)' });
        return 'ended';
      }
      this.logger.warn('could not confirm the call status', { callId: this.callId, error: errorMessage(err) });
      return undefined;
    }
    if (this.isFinished()) return 'ended';
    if (call.status !== undefined && TERMINAL_STATUSES.has(call.status)) {
      this.markEnded(call.endedReason, 'rest');
      void this.finish();
      return 'ended';
    }
    if (call.status !== undefined && call.status !== this.restStatus) {
      this.restStatus = call.status;
      this.emitChange();
    }
    return call.status;
  }

  // ---- internals --------------------------------------------------------------------------------------------

  private markEnded(endedReason: string | undefined, source: 'socket' | 'rest'): void {
    if (this.ended) return;
    this.ended = true;
    this.endedReason = endedReason;
    if (!this.transcript.ended) {
      // Keep the transcript's status consistent with what REST reported.
      this.transcript.apply({ type: 'status-update', status: 'ended', ...(endedReason !== undefined && { endedReason }) }, Date.now());
    }
    this.record({ receivedAt: Date.now(), meta: 'ended', source, ...(endedReason !== undefined && { endedReason }) });
    this.logger.info('call ended; listener stopping', { callId: this.callId, endedReason, source });
    this.emitChange();
  }

  private finish(): Promise<ListenerState> {
    this.finishing ??= this.finalise();
    return this.finishing;
  }

  private async finalise(): Promise<ListenerState> {
    this.phase = 'finished';
    this.connection.stop();
    clearTimeout(this.graceTimer);
    this.record({ receivedAt: Date.now(), meta: 'metrics', ...this.audio.reading() });
    this.record({
      receivedAt: Date.now(),
      meta: 'listen-stop',
      ended: this.ended,
      audioBytes: this.audio.bytes,
      ...(this.listenProblem?.final && { listenError: this.listenProblem.reason }),
    });
    await this.recording.close();
    this.filesFinal = true;
    this.emitChange();
    this.resolveEnded();
    return this.state();
  }

  /**
   * Adds a line of this server's own to the call's JSONL (why it ended the call, for instance); ignored once the
   * files are final.
   */
  note(meta: string, fields: Record<string, unknown> = {}): void {
    if (this.filesFinal) return;
    this.record({ receivedAt: Date.now(), meta, ...fields });
  }

  private record(record: object): void {
    this.recording.record(record);
  }

  private emitChange(): void {
    for (const fn of this.changeListeners) {
      try {
        fn();
      } catch (err) {
        this.logger.warn('listener change callback failed', { callId: this.callId, error: errorMessage(err) });
      }
    }
  }
}

function isWebSocketUrl(value: string): boolean {
  try {
    const protocol = new URL(value).protocol;
    return protocol === 'ws:' || protocol === 'wss:';
  } catch {
    return false;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
