/**
 * A call another instance listens to, as this instance serves it: the owner's stream folded into a transcript of
 * the same shape, with the same seqs (lines are adopted by seq: none twice, none skipped while the stream holds
 * them), and the owner's last published state. The read paths use it exactly as they use a CallListener.
 */
import type { ListenerLifecycle, ListenerState } from '../live/listener.js';
import type { ListenerView } from '../live/listener-view.js';
import { RollingTranscript, type TranscriptLine } from '../live/transcript.js';
import type { StreamEntry } from './entry.js';

export class CallMirror implements ListenerView {
  readonly callId: string;
  readonly transcript: RollingTranscript;
  /** The id of the last stream entry folded in ('0-0': none yet). */
  lastId = '0-0';
  /** Takeovers seen in the stream (each one a gap in the audio and maybe in the lines). */
  failovers = 0;
  private latest: StreamEntry | undefined;
  private readonly changeFns = new Set<() => void>();
  private readonly prepared: Promise<void>;
  private resolvePrepared!: () => void;
  private readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  private readonly status: string;

  constructor(callId: string, options: { maxLines?: number; startedAt?: number; status?: string }) {
    this.callId = callId;
    this.status = options.status ?? 'unknown';
    this.transcript = new RollingTranscript({ maxLines: options.maxLines, startedAt: options.startedAt });
    this.prepared = new Promise((resolve) => (this.resolvePrepared = resolve));
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** The catch-up: the call's line list and its newest entry, read together. */
  seed(lines: TranscriptLine[], newest: { id: string; entry: StreamEntry } | undefined): void {
    for (const line of lines) this.transcript.adoptLine(line);
    if (newest) this.ingest(newest.id, newest.entry);
    this.resolvePrepared();
  }

  ingest(id: string, entry: StreamEntry): void {
    this.lastId = id;
    for (const line of entry.lines) this.transcript.adoptLine(line);
    this.transcript.adoptLive(entry.live);
    this.failovers = entry.failovers ?? this.failovers;
    // An entry without the state leaves the last one standing (entry.ts).
    this.latest = entry.state ? entry : { ...entry, state: this.latest?.state, summary: this.latest?.summary };
    const state = this.latest.state;
    if (state?.filesFinal || state?.ended) this.resolveEnded();
    for (const fn of this.changeFns) fn();
  }

  /** The instance that published the newest entry. */
  get owner(): string | undefined {
    return this.latest?.owner;
  }

  lifecycle(): ListenerLifecycle {
    const { callId, status, listening, ended, filesFinal, endedReason } = this.state();
    return { callId, status, listening, ended, filesFinal, ...(endedReason !== undefined && { endedReason }) };
  }

  state(): ListenerState {
    if (this.latest?.state) return { ...this.latest.state, callId: this.callId };
    return {
      callId: this.callId,
      status: this.status,
      listening: true,
      connected: false,
      listenState: 'connecting',
      ended: false,
      filesFinal: false,
      transcriptPath: '',
      audioBytes: 0,
      durationSeconds: 0,
      malformedFrames: 0,
      reconnects: 0,
      audio: { source: 'error', reason: 'no metrics yet from the instance listening to this call' },
    };
  }

  audioSummaryLine(): string {
    return this.latest?.summary ?? 'Audio: listening on another instance; no metrics yet.';
  }

  onChange(fn: () => void): () => void {
    this.changeFns.add(fn);
    return () => this.changeFns.delete(fn);
  }

  whenPrepared(): Promise<void> {
    return this.prepared;
  }

  whenEnded(): Promise<void> {
    return this.ended;
  }

  /** Notes belong in the owner's event log; a mirror has none. */
  note(): void {}
}
