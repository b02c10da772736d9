/**
 * One CallListener per call for the whole process. Finished listeners stay readable (their transcript and
 * file paths) until more than `maxFinished` newer ones have finished, so memory stays bounded.
 */
import type { Logger } from '../log.js';
import type { Call } from '../vapi/schemas.js';
import { isCallId } from '../vapi/schemas.js';
import type { CallAudioAnalyzer } from './audio-analysis.js';
import { CallListener, type OpenListenSocket, type ReconnectPolicy } from './listener.js';

export interface ListenerRegistryOptions {
  recordingsDir: string;
  publicKey?: string;
  transcriptMaxLines?: number;
  getCall: (id: string) => Promise<Call>;
  logger: Logger;
  openSocket?: OpenListenSocket;
  reconnect?: Partial<ReconnectPolicy>;
  /** Finished listeners remembered; default 100. */
  maxFinished?: number;
  connectTimeoutMs?: number;
  endGraceMs?: number;
  headerPatchIntervalMs?: number;
  /** Masks secrets in the JSONL event logs. */
  redact?: (text: string) => string;
  audioAnalysis?: boolean;
  /** Builds each call's analyzer (tests inject one that fails). */
  createAnalyzer?: (options: { enabled: boolean }) => CallAudioAnalyzer;
}

export interface EnsureOptions {
  saveAudio: boolean;
  /** See CallRecordingOptions.firstAudioPart. */
  firstAudioPart?: number;
  startedAt?: number;
  status?: string;
}

export class ListenerRegistry {
  private readonly options: ListenerRegistryOptions;
  private readonly listeners = new Map<string, CallListener>();
  /** Ids of finished listeners, oldest first. */
  private readonly finished: string[] = [];
  private readonly listChangedFns = new Set<() => void>();
  private readonly changeFns = new Set<(callId: string) => void>();
  private shutDown = false;

  constructor(options: ListenerRegistryOptions) {
    this.options = options;
  }

  /**
   * The call's listener, started now if there is none. Concurrent and repeated calls get the same instance;
   * a finished listener is returned as it is (not restarted). Throws for an id that is not a Vapi call id.
   */
  ensure(callId: string, listenUrl: string, options: EnsureOptions): CallListener {
    if (!isCallId(callId)) throw new Error('not a Vapi call id (uuid)');
    const key = callId.toLowerCase();
    const existing = this.listeners.get(key);
    if (existing) return existing;
    if (this.shutDown) throw new Error('listening is shut down');

    const listener = new CallListener({
      callId: key,
      listenUrl,
      publicKey: this.options.publicKey,
      recordingsDir: this.options.recordingsDir,
      saveAudio: options.saveAudio,
      firstAudioPart: options.firstAudioPart,
      transcriptMaxLines: this.options.transcriptMaxLines,
      getCall: this.options.getCall,
      logger: this.options.logger,
      reconnect: this.options.reconnect,
      openSocket: this.options.openSocket,
      startedAt: options.startedAt,
      status: options.status,
      connectTimeoutMs: this.options.connectTimeoutMs,
      endGraceMs: this.options.endGraceMs,
      headerPatchIntervalMs: this.options.headerPatchIntervalMs,
      redact: this.options.redact,
      audioAnalysis: this.options.audioAnalysis,
      createAnalyzer: this.options.createAnalyzer,
    });
    this.listeners.set(key, listener);
    listener.onChange(() => this.emitChange(key));
    void listener.whenEnded().then(() => this.retire(key, listener));
    this.emitListChanged();
    return listener;
  }

  /**
   * A new listener for a call whose listener stopped without the call ending (listening was unavailable): the
   * earlier one is forgotten (its files are final), the new one continues the event log and the next audio file.
   */
  restart(callId: string, listenUrl: string, options: EnsureOptions): CallListener {
    const key = callId.toLowerCase();
    const existing = this.listeners.get(key);
    if (existing && existing.lifecycle().listening) return existing;
    this.listeners.delete(key);
    const finishedAt = this.finished.indexOf(key);
    if (finishedAt >= 0) this.finished.splice(finishedAt, 1);
    return this.ensure(callId, listenUrl, options);
  }

  get(callId: string): CallListener | undefined {
    return this.listeners.get(callId.toLowerCase());
  }

  /** Every remembered listener, live and finished, in start order. */
  list(): CallListener[] {
    return [...this.listeners.values()];
  }

  /** Fires when a listener starts or stops; returns an unsubscribe. */
  onListChanged(fn: () => void): () => void {
    this.listChangedFns.add(fn);
    return () => this.listChangedFns.delete(fn);
  }

  /** Fires on any listener's visible change; returns an unsubscribe. */
  onChange(fn: (callId: string) => void): () => void {
    this.changeFns.add(fn);
    return () => this.changeFns.delete(fn);
  }

  /** Stops every listener and finalises every file (shutdown); later ensure() calls for new calls throw. */
  async stopAll(): Promise<void> {
    this.shutDown = true;
    await Promise.all([...this.listeners.values()].map((l) => l.stop()));
  }

  private retire(key: string, listener: CallListener): void {
    if (this.listeners.get(key) !== listener) return;
    this.finished.push(key);
    const limit = Math.max(0, this.options.maxFinished ?? 100);
    while (this.finished.length > limit) {
      const oldest = this.finished.shift();
      if (oldest !== undefined) this.listeners.delete(oldest);
    }
    this.emitListChanged();
  }

  private emitListChanged(): void {
    for (const fn of this.listChangedFns) {
      try {
        fn();
      } catch (err) {
        this.options.logger.warn('listener list callback failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  private emitChange(callId: string): void {
    for (const fn of this.changeFns) {
      try {
        fn(callId);
      } catch (err) {
        this.options.logger.warn('listener change callback failed', { callId, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}
