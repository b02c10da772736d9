/**
 * The owning side of one call in cluster mode: what of this instance's listener is still to be published (new final
 * lines with their seqs, partials, status, the metrics snapshot), as one item of the instance's next batch
 * (owned-calls.ts sends the batches and renews the leases). It rides the listener's change feed; nothing in the
 * listener knows.
 *
 * While the store is unreachable the listener records on as always, and nothing is queued but a cursor: the
 * first line not yet published. The cursor moves only when a batch carrying the lines succeeded. When the store
 * returns, one entry carries every line since that cursor (bounded by the transcript's memory,
 * VAPI_TRANSCRIPT_MAX_LINES; older ones would count as missed) and the latest state.
 */
import type { CallListener } from '../live/listener.js';
import type { StreamEntry } from './entry.js';

export interface CallPublisherOptions {
  listener: CallListener;
  owner: string;
  /** The first seq the stream does not hold yet. */
  fromSeq: number;
  failover?: { at: number; fromSeq: number };
  /** Takeovers in the call's life, this one included. */
  failovers: number;
  /** False when listening started while the store was away: nothing is published until the lease is won. */
  leased: boolean;
  /** Writes the call's directory entry again (the store lost it). */
  restoreEntry: () => Promise<void>;
  /** Another instance holds the lease now (this one was cut off from the store for longer than the lease). */
  onLost: () => void;
}

/** What the instance's batcher adds to a call's options. */
export interface CallPublisherTiming {
  /** How often the listener's state and audio metrics are published even when nothing else changed. */
  stateEveryMs: number;
}

/** What one batch sends for a call: its new lines (from the cursor) and its stream entry. */
export interface PublishItem {
  publisher: CallPublisher;
  lines: StreamEntry['lines'];
  /** The cursor once this item is published. */
  nextSeq: number;
  /** The line list is written anew (the store lost it). */
  replaceLines: boolean;
  entry: string;
  /** The entry carries the listener's state (refreshed for it): should it fail, the next one carries it again. */
  withState: boolean;
  /** The cursor's reset count when the item was made: a reset meanwhile (the store came back empty) wins. */
  resets: number;
  /** Waiting for this item's outcome (a waiter added later waits for the next item: it may want a later change). */
  waiters: ((published: boolean) => void)[];
}

export class CallPublisher {
  readonly listener: CallListener;
  /** The lease is this instance's as far as it knows (false until won, when listening started without the store). */
  held: boolean;
  /** Changed since the last published entry. */
  dirty = true;
  private readonly options: CallPublisherOptions;
  private nextSeq: number;
  private failover: CallPublisherOptions['failover'];
  /** The store lost the call's keys: the next entry comes with the whole line list. */
  private replaceLines = false;
  private resets = 0;
  /** Resolved after the next batch that considered this call: true when it published it. */
  private waiters: ((published: boolean) => void)[] = [];
  /**
   * The listener's state and audio summary are published when refreshed: every stateEveryMs (a third of the lease,
   * at most STATE_EVERY_MAX_MS), whenever the call's lifecycle changes, and after a failed entry that carried them.
   */
  private lifecycleKey = '';
  private refreshState = true;
  /**
   * When the state is refreshed next. Each call has its own phase (random at the start), so a flush of hundreds of
   * calls computes a slice of their metrics, not all of them at once (that stalled the event loop).
   */
  private stateDueAt: number;
  private readonly stateEveryMs: number;

  constructor(options: CallPublisherOptions & CallPublisherTiming) {
    this.options = options;
    this.stateEveryMs = options.stateEveryMs;
    this.stateDueAt = Date.now() + Math.random() * options.stateEveryMs;
    this.listener = options.listener;
    this.nextSeq = options.fromSeq;
    this.failover = options.failover;
    this.held = options.leased;
  }

  get callId(): string {
    return this.listener.callId;
  }

  /** To publish: it changed, or its metrics snapshot is due (it changes with the audio but fires no change). */
  due(now: number): boolean {
    return this.dirty || now >= this.stateDueAt;
  }

  /** The store came back empty: the directory entry is written again, and the next entry carries every line. */
  async restore(): Promise<void> {
    await this.options.restoreEntry();
    this.nextSeq = 1;
    this.replaceLines = true;
    this.refreshState = true;
    this.resets++;
    this.dirty = true;
  }

  lost(): void {
    this.options.onLost();
  }

  /**
   * Marks the call changed and resolves after the next batch that considers it: true when that batch published
   * the call as it is now (false: the store is away, the lease not won yet, or the batch failed).
   */
  whenPublished(): Promise<boolean> {
    this.dirty = true;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The batch passed the call by (the store is away, or the lease is not won yet). */
  skipped(): void {
    settle(this.waiters, false);
    this.waiters = [];
  }

  /** Takes the call's pending change into a batch (dirty is cleared; a failed batch sets it again). */
  take(now: number): PublishItem {
    this.dirty = false;
    if (now >= this.stateDueAt) {
      this.refreshState = true;
      this.stateDueAt = now + this.stateEveryMs;
    }
    const page = this.listener.transcript.linesSince(this.nextSeq);
    const item: PublishItem = {
      publisher: this,
      lines: page.lines,
      nextSeq: page.nextSeq,
      replaceLines: this.replaceLines,
      entry: '',
      withState: false,
      resets: this.resets,
      waiters: this.waiters,
    };
    this.waiters = [];
    this.fillEntry(item);
    return item;
  }

  /** The batch carrying `item` succeeded: the cursor moves past its lines. */
  published(item: PublishItem): void {
    if (item.resets === this.resets) {
      this.nextSeq = item.nextSeq;
      this.failover = undefined;
      if (item.replaceLines) this.replaceLines = false;
    }
    settle(item.waiters, true);
  }

  /** The batch carrying `item` failed: nothing moves, and the next batch sends the call again. */
  failed(item: PublishItem): void {
    this.dirty = true;
    if (item.withState) this.refreshState = true;
    settle(item.waiters, false);
  }

  /**
   * The item's StreamEntry as JSON. The state and audio summary go in only when refreshed (due, or the lifecycle
   * changed): computing and serialising them on every change cost more than the rest of publishing, and an entry
   * without them leaves the last ones standing for readers.
   */
  private fillEntry(item: PublishItem): void {
    const { listener, owner } = this.options;
    const lifecycle = listener.lifecycle();
    const lifecycleKey = `${lifecycle.status}|${lifecycle.listening}|${lifecycle.ended}|${lifecycle.filesFinal}`;
    const rest: Omit<StreamEntry, 'state' | 'summary'> = {
      owner,
      lines: item.lines,
      live: listener.transcript.liveSnapshot(),
      ...(this.failover && { failover: this.failover }),
      ...(this.options.failovers > 0 && { failovers: this.options.failovers }),
    };
    if (!this.refreshState && lifecycleKey === this.lifecycleKey) {
      item.entry = JSON.stringify(rest);
      return;
    }
    const state: Pick<StreamEntry, 'state' | 'summary'> = { state: listener.state(), summary: listener.audioSummaryLine() };
    this.lifecycleKey = lifecycleKey;
    this.refreshState = false;
    item.withState = true;
    item.entry = `{${JSON.stringify(state).slice(1, -1)},${JSON.stringify(rest).slice(1)}`;
  }
}

function settle(waiters: ((published: boolean) => void)[], published: boolean): void {
  for (const resolve of waiters) resolve(published);
}
