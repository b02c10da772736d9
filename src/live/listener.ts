/**
 * Listens to one live call: supervises the listen connection (reconnects after an unexpected close while the call
 * is live, stops by itself when the call ends), keeps the rolling transcript in memory and measures the audio, and
 * hands the audio and every event to the call's recording (recording.ts: `<callId>.wav` and `<callId>.jsonl`).
 *
 * - Audio continues in the same WAV across reconnections; no silence is inserted for the gap (bytes on disk =
 *   bytes received, except that a connection ending mid-sample gets its torn block zero-completed so the
 *   channels stay aligned), and the gap is recorded in the JSONL as `{meta:'gap', from, to, reconnectAttempt}`.
 * - A reconnection announcing a different format stops audio saving (the file keeps its format) while the
 *   transcript goes on.
 * - Disk failures never stop listening: they show up as `diskError` and the transcript keeps working. A full disk
 *   pauses saving (diskError while it lasts); saving resumes when space returns, and audio that could not be
 *   kept meanwhile is recorded as `{meta:'audio-gap', droppedBytes, from, to, fileOffset}`.
 * - Every JSONL line passes through `redact` (keys, monitor URLs, this call's listen URL) before it is queued.
 * - A listener started for a call that already has a JSONL (the server restarted mid-call) rebuilds the
 *   transcript's final lines from it, and writes its audio to the next free `<id>-N.wav`, named in listen-start.
 * - `filesFinal` turns true only after the WAV header is patched and both files are closed.
 * - Audio frames never trigger onChange; transcript, status and connection changes do (unthrottled).
 * - JSONL records: `{receivedAt, audioOffset, event}` per event (audioOffset = the WAV data offset the event
 *   arrived at: audio bytes received before it plus any alignment padding),
 *   and `{receivedAt, meta: …}` lines for what the listener itself observed (connected, format, gap, closed,
 *   malformed, ended, listen-start/stop).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { VapiError } from '../vapi/errors.js';
import { openListenSocket, type ListenSocket, type ListenSocketOptions } from '../vapi/listen.js';
import { PRE_ANSWER_STATUSES, TERMINAL_STATUSES, isCallId, type AudioFormat, type Call, type ListenEvent } from '../vapi/schemas.js';
import type { DiskRetryOptions, OpenFile } from './disk.js';
import { CallAudioAnalyzer, type AudioMetrics } from './audio-analysis.js';
import { CallRecording } from './recording.js';
import { RollingTranscript } from './transcript.js';

export interface ReconnectPolicy {
  /** Attempts after each unexpected close (and retries of the first connection). Default 5. */
  maxAttempts: number;
  /** Delay before the first attempt, doubled each time. Default 250 ms. */
  baseDelayMs: number;
  /** Default 5000 ms. */
  maxDelayMs: number;
}

export type OpenListenSocket = (options: ListenSocketOptions) => Promise<ListenSocket>;

export interface CallListenerOptions {
  callId: string;
  listenUrl: string;
  publicKey?: string;
  recordingsDir: string;
  saveAudio: boolean;
  transcriptMaxLines?: number;
  /** GET /call/{id}: confirms whether the call ended after an unexpected close. */
  getCall: (id: string) => Promise<Call>;
  logger: Logger;
  reconnect?: Partial<ReconnectPolicy>;
  openSocket?: OpenListenSocket;
  /** Call start (epoch ms) when known, for transcript timings. */
  startedAt?: number;
  /** Status known from the Call object, shown until the first status-update arrives. */
  status?: string;
  connectTimeoutMs?: number;
  /** After status-update ended, how long to wait for the server to close before closing. Default 2000 ms. */
  endGraceMs?: number;
  /** WAV header patch interval; default 2000 ms. */
  headerPatchIntervalMs?: number;
  /** How long connection failures are retried without limit while GET /call says the call is not answered yet. Default 10 min. */
  preAnswerWaitMs?: number;
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
}

export interface ListenerState {
  callId: string;
  status: string;
  /** The listener is active (connected or reconnecting). */
  listening: boolean;
  /** A listen socket is open right now. */
  connected: boolean;
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
  /** Why listening stopped before the call ended (rejected, unreachable). */
  listenError?: string;
  format?: AudioFormat & { source: 'start-frame' | 'default' };
  /** Levels, who is talking and the voice-quality metrics so far (see audio-analysis.ts). */
  audio: AudioMetrics;
}

const DEFAULT_RECONNECT: ReconnectPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 5000 };
const DEFAULT_PRE_ANSWER_WAIT_MS = 10 * 60_000;
/** Malformed frames recorded in the JSONL; later ones are only counted. */
const MAX_MALFORMED_RECORDS = 100;

type Phase = 'starting' | 'connected' | 'reconnecting' | 'finished';

export class CallListener {
  readonly callId: string;
  readonly transcript: RollingTranscript;
  readonly transcriptPath: string;
  readonly analysis: CallAudioAnalyzer;

  private readonly options: CallListenerOptions;
  private readonly logger: Logger;
  private readonly reconnectPolicy: ReconnectPolicy;
  private readonly openSocket: OpenListenSocket;
  private readonly recording: CallRecording;
  private phase: Phase = 'starting';
  private socket: ListenSocket | undefined;
  /** Incremented per connection attempt and on finish; handlers of older connections are ignored. */
  private generation = 0;
  private connectedGeneration = 0;
  private closedGeneration = 0;
  private pendingGap: { from: number; attempt: number } | undefined;
  private productiveConnection = false;
  /** Consecutive connections that closed without delivering a frame. */
  private unproductiveCloses = 0;
  private ended = false;
  private filesFinal = false;
  private readonly prepared: Promise<void>;
  private resolvePrepared!: () => void;
  private endedReason: string | undefined;
  private restStatus: string | undefined;
  private format: ListenerState['format'];
  private audioBytes = 0;
  /** Zero bytes inserted where a connection ended mid-sample (see alignStreamEnd). */
  private alignmentPadding = 0;
  private malformedFrames = 0;
  private reconnects = 0;
  private audioStoppedReason: string | undefined;
  private listenError: string | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private finishing: Promise<ListenerState> | undefined;
  private readonly abort = new AbortController();
  private readonly changeListeners = new Set<() => void>();
  private readonly endedPromise: Promise<void>;
  private resolveEnded!: () => void;

  constructor(options: CallListenerOptions) {
    if (!isCallId(options.callId)) throw new Error('refusing to listen: call id is not a Vapi call id (uuid)');
    this.options = options;
    this.callId = options.callId.toLowerCase();
    this.logger = options.logger;
    this.reconnectPolicy = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.openSocket = options.openSocket ?? openListenSocket;
    this.restStatus = options.status;
    this.analysis = new CallAudioAnalyzer({ enabled: options.audioAnalysis !== false });
    this.transcript = new RollingTranscript({
      maxLines: options.transcriptMaxLines,
      maxLineChars: options.transcriptMaxLineChars,
      maxChars: options.transcriptMaxChars,
      startedAt: options.startedAt,
    });
    const redact = options.redact ?? ((text: string) => text);
    const listenUrl = options.listenUrl;
    this.recording = new CallRecording({
      callId: this.callId,
      recordingsDir: options.recordingsDir,
      saveAudio: options.saveAudio,
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
    this.endedPromise = new Promise((resolve) => (this.resolveEnded = resolve));
    this.prepared = new Promise((resolve) => (this.resolvePrepared = resolve));
    void this.run();
  }

  state(): ListenerState {
    const status = this.transcript.status !== 'unknown' ? this.transcript.status : (this.restStatus ?? 'unknown');
    const byteRate = this.format ? this.format.sampleRate * this.format.channels * 2 : 0;
    return {
      callId: this.callId,
      status,
      listening: this.phase !== 'finished',
      connected: this.phase === 'connected',
      ended: this.ended,
      filesFinal: this.filesFinal,
      ...(this.endedReason !== undefined && { endedReason: this.endedReason }),
      // While listening, the path audio will go to; once finished, only a file that was actually written.
      ...(this.recording.audioPath !== undefined &&
        (this.recording.savingAudio || this.phase !== 'finished') && { audioPath: this.recording.audioPath }),
      transcriptPath: this.transcriptPath,
      audioBytes: this.audioBytes,
      durationSeconds: byteRate > 0 ? Math.round((this.audioBytes / byteRate) * 10) / 10 : 0,
      malformedFrames: this.malformedFrames,
      reconnects: this.reconnects,
      ...(this.recording.diskError !== undefined && { diskError: this.recording.diskError }),
      ...(this.audioStoppedReason !== undefined && { audioStoppedReason: this.audioStoppedReason }),
      ...(this.listenError !== undefined && { listenError: this.listenError }),
      ...(this.format !== undefined && { format: { ...this.format } }),
      audio: this.analysis.metrics(),
    };
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

  private async run(): Promise<void> {
    if (!isWebSocketUrl(this.options.listenUrl)) {
      this.listenError = 'the listen URL is not a ws:// or wss:// URL';
      this.resolvePrepared();
      void this.finish();
      return;
    }
    await this.recording.prepare(this.transcript, () => this.isFinished());
    this.resolvePrepared();
    if (this.isFinished()) return;
    await this.connect(undefined);
  }

  private isFinished(): boolean {
    return this.phase === 'finished';
  }

  /**
   * Opens a connection, retrying with backoff while the call is not known to be over. `gapFrom` is when the
   * previous connection closed (undefined for the first connection).
   */
  private async connect(gapFrom: number | undefined): Promise<void> {
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.reconnectPolicy;
    // Connections that closed without delivering anything count against the same budget, so a server that
    // accepts and immediately drops cannot make this loop forever.
    let attempt = gapFrom === undefined ? 0 : Math.max(1, this.unproductiveCloses);
    let lastError = 'closed without delivering anything';
    let lastRefusal: VapiError | undefined;
    // Vapi may refuse to stream before the call is answered: failures while it is still ringing cost no attempts.
    const answerDeadline = Date.now() + (this.options.preAnswerWaitMs ?? DEFAULT_PRE_ANSWER_WAIT_MS);
    let failures = attempt;
    for (;;) {
      if (attempt > maxAttempts) {
        this.giveUp(
          lastRefusal
            ? `listening unavailable: Vapi kept refusing the listen connection (last: HTTP ${lastRefusal.status}${lastRefusal.vapiMessage ? ` "${lastRefusal.vapiMessage}"` : ''}) after ${maxAttempts} retries; the call was ${this.restStatus ?? 'of unknown status'} at the last check`
            : `the listen socket kept failing after ${maxAttempts} retries (last: ${lastError})`,
        );
        return;
      }
      if (failures > 0) {
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (failures - 1));
        try {
          await sleep(delay, undefined, { signal: this.abort.signal });
        } catch {
          return; // stopped
        }
      }
      if (this.isFinished()) return;
      const generation = ++this.generation;
      this.pendingGap = gapFrom === undefined ? undefined : { from: gapFrom, attempt: failures };
      try {
        const socket = await this.openSocket({
          url: this.options.listenUrl,
          publicKey: this.options.publicKey,
          handlers: this.handlersFor(generation),
          connectTimeoutMs: this.options.connectTimeoutMs,
        });
        if (this.isFinished() || generation !== this.generation) {
          socket.close();
          return;
        }
        this.noteConnected(generation);
        // Frames (even the close) can arrive before this continuation runs; if it already closed, recovery
        // is under way and this socket is dead.
        if (this.closedGeneration !== generation) this.socket = socket;
        return;
      } catch (err) {
        if (this.isFinished()) return;
        this.logger.warn('listen socket connection failed', { callId: this.callId, attempt, error: errorMessage(err) });
        lastError = errorMessage(err);
        // Any refused handshake (non-101) is checked against GET /call first: a call that is over is not an error.
        const refusal = err instanceof VapiError && err.kind === 'http' ? err : undefined;
        lastRefusal = refusal;
        const status = await this.confirmStatusByRest();
        if (status === 'ended' || this.isFinished()) return;
        if (refusal && (refusal.status === 401 || refusal.status === 403)) {
          this.giveUp(`the listen socket rejected the credentials (HTTP ${refusal.status}); check the public key`);
          return;
        }
        failures++;
        const ringing = status !== undefined && PRE_ANSWER_STATUSES.has(status) && Date.now() < answerDeadline;
        if (!ringing) attempt++;
      }
    }
  }

  private handlersFor(generation: number): ListenSocketOptions['handlers'] {
    const current = (): boolean => {
      if (generation !== this.generation || this.isFinished()) return false;
      this.noteConnected(generation);
      return true;
    };
    return {
      onFormat: (format, source) => {
        if (current()) this.handleFormat(format, source);
      },
      onAudio: (chunk) => {
        if (!current()) return;
        this.productiveConnection = true;
        this.audioBytes += chunk.length;
        this.analysis.audio(chunk);
        if (this.audioStoppedReason === undefined) this.recording.writeAudio(chunk);
      },
      onEvent: (event, receivedAt) => {
        if (current()) this.handleEvent(event, receivedAt);
      },
      onMalformed: (reason) => {
        if (!current()) return;
        this.malformedFrames++;
        if (this.malformedFrames <= MAX_MALFORMED_RECORDS) this.record({ receivedAt: Date.now(), meta: 'malformed', reason });
        this.logger.debug('malformed listen frame', { callId: this.callId, reason });
      },
      onClose: (info) => {
        if (current()) this.handleClose(info);
      },
    };
  }

  /** Records that connection `generation` is open: once, from whichever comes first, the open or a frame. */
  private noteConnected(generation: number): void {
    if (this.connectedGeneration === generation) return;
    this.connectedGeneration = generation;
    this.phase = 'connected';
    this.productiveConnection = false;
    const now = Date.now();
    const gap = this.pendingGap;
    this.pendingGap = undefined;
    if (gap !== undefined) {
      this.reconnects++;
      const audioOffset = this.audioBytes + this.alignmentPadding;
      this.record({ receivedAt: now, meta: 'gap', from: gap.from, to: now, reconnectAttempt: gap.attempt, audioOffset });
      this.logger.info('listen socket reconnected', { callId: this.callId, attempt: gap.attempt, gapMs: now - gap.from });
    }
    this.record({ receivedAt: now, meta: 'connected' });
    this.emitChange();
  }

  private handleFormat(format: AudioFormat, source: 'start-frame' | 'default'): void {
    const receivedAt = Date.now();
    this.analysis.setFormat(format);
    if (this.format === undefined) {
      this.format = { sampleRate: format.sampleRate, channels: format.channels, source };
      this.record({ receivedAt, meta: 'format', sampleRate: format.sampleRate, channels: format.channels, source });
      this.recording.startAudio(format);
      this.emitChange();
      return;
    }
    if (format.sampleRate === this.format.sampleRate && format.channels === this.format.channels) return;
    this.record({ receivedAt, meta: 'format-changed', sampleRate: format.sampleRate, channels: format.channels, source });
    if (this.audioStoppedReason === undefined && this.recording.savingAudio) {
      this.audioStoppedReason =
        `the stream switched from ${describeFormat(this.format)} to ${describeFormat(format)} after reconnecting; ` +
        'audio after that point is not saved (the transcript continues)';
      this.logger.warn('listen audio format changed; audio saving stopped', {
        callId: this.callId,
        from: describeFormat(this.format),
        to: describeFormat(format),
      });
      this.emitChange();
    }
  }

  private handleEvent(event: ListenEvent, receivedAt: number): void {
    this.productiveConnection = true;
    // audioOffset aligns the event with the audio: bytes received before it (the WAV data offset while saving).
    this.record({ receivedAt, audioOffset: this.audioBytes + this.alignmentPadding, event });
    this.analysis.event(event, receivedAt);
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

  private handleClose(info: { code: number; reason: string }): void {
    this.socket = undefined;
    this.closedGeneration = this.generation;
    this.unproductiveCloses = this.productiveConnection ? 0 : this.unproductiveCloses + 1;
    const closedAt = Date.now();
    const padding = this.alignStreamEnd();
    this.analysis.endOfConnection();
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
    void this.recover(closedAt);
  }

  /**
   * A connection can end mid-sample (frames may split samples). The next connection starts on a sample
   * boundary, so the torn block is completed with zeros; otherwise every later sample would be shifted and the
   * channels garbled. This is the only place (besides the close padding) where the file differs from the bytes
   * received: by less than one block per connection.
   */
  private alignStreamEnd(): number {
    if (this.format === undefined) return 0;
    const blockAlign = this.format.channels * 2;
    const partial = (this.audioBytes + this.alignmentPadding) % blockAlign;
    if (partial === 0) return 0;
    const padding = blockAlign - partial;
    this.alignmentPadding += padding;
    if (this.audioStoppedReason === undefined) this.recording.padAudioToBlock();
    return padding;
  }

  private async recover(closedAt: number): Promise<void> {
    if ((await this.confirmStatusByRest()) === 'ended' || this.isFinished()) return;
    await this.connect(closedAt);
  }

  /**
   * Asks GET /call for the call's status. 'ended' means listening is over (the call ended, or Vapi no longer
   * knows it) and the listener is finishing; undefined means the status could not be learned.
   */
  private async confirmStatusByRest(): Promise<string | undefined> {
    let call: Call;
    try {
      call = await this.options.getCall(this.callId);
    } catch (err) {
      if (err instanceof VapiError && err.kind === 'http' && err.status === 404) {
        this.giveUp('Vapi no longer knows this call (HTTP 404)');
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

  private giveUp(reason: string): void {
    if (this.isFinished()) return;
    this.listenError = reason;
    this.logger.warn('stopped listening to the call', { callId: this.callId, reason });
    void this.finish();
  }

  private finish(): Promise<ListenerState> {
    this.finishing ??= this.finalise();
    return this.finishing;
  }

  private async finalise(): Promise<ListenerState> {
    this.phase = 'finished';
    this.generation++;
    this.abort.abort();
    clearTimeout(this.graceTimer);
    this.socket?.close();
    this.socket = undefined;
    this.record({ receivedAt: Date.now(), meta: 'metrics', ...this.analysis.metrics() });
    this.record({
      receivedAt: Date.now(),
      meta: 'listen-stop',
      ended: this.ended,
      audioBytes: this.audioBytes,
      ...(this.listenError !== undefined && { listenError: this.listenError }),
    });
    await this.recording.close();
    this.filesFinal = true;
    this.emitChange();
    this.resolveEnded();
    return this.state();
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

function describeFormat(format: AudioFormat): string {
  return `${format.sampleRate} Hz / ${format.channels} ch`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
