/**
 * The owning side of a call in cluster mode: keeps the call's lease and publishes every visible change of this
 * instance's listener (new final lines with their seqs, partials, status, the metrics snapshot) to the call's
 * stream, so any instance can serve the call. It rides the listener's change feed; nothing in the listener knows.
 *
 * While the store is unreachable the listener records on as always, and nothing is queued but a cursor: the
 * first line not yet published. When the store returns, one entry carries every line since that cursor (bounded
 * by the transcript's memory, VAPI_TRANSCRIPT_MAX_LINES; older ones would count as missed) and the latest state.
 */
import type { CallListener } from '../live/listener.js';
import type { Logger } from '../log.js';
import type { ClusterConnection } from './connection.js';
import type { StreamEntry } from './entry.js';
import { entryLost, keys, markEnded, releaseLease, renewLease } from './call-store.js';

/**
 * At most one entry per call per this many ms (a line reaches other instances at most this much later). Partials
 * and speech updates come several a second; each entry costs the owner a command and its garbage, and a reader on
 * another instance sees what is being said a quarter of a second later at most.
 */
const MIN_FLUSH_INTERVAL_MS = 250;

export interface PublisherOptions {
  connection: ClusterConnection;
  listener: CallListener;
  owner: string;
  leaseMs: number;
  renewEveryMs: number;
  /** Approximate cap on stream entries per call (XADD MAXLEN ~). */
  streamMaxLen: number;
  /** Cap on final lines kept in the shared line list. */
  maxLines: number;
  /** The first seq the stream does not hold yet. */
  fromSeq: number;
  failover?: { at: number; fromSeq: number };
  /** Takeovers in the call's life, this one included. */
  failovers: number;
  /** False when listening started while the store was away: nothing is published until the lease is won. */
  leased: boolean;
  /** Writes the call's directory entry again (the store lost it). */
  restoreEntry: () => Promise<void>;
  /** True while this instance shuts down (a stop then hands the call to another instance). */
  closing: () => boolean;
  logger: Logger;
  /** Another instance holds the lease now (this one was cut off from the store for longer than the lease). */
  onLost: () => void;
}

export class StreamPublisher {
  private readonly options: PublisherOptions;
  private nextSeq: number;
  private failover: PublisherOptions['failover'];
  private flushing = false;
  private again = false;
  private scheduled = false;
  private closed = false;
  private held: boolean;
  private lastFlushAt = 0;
  /** The store lost the call's keys: the next flush writes the whole line list again. */
  private replaceLines = false;
  /**
   * The listener's state and audio summary as last published, serialised. Computing the audio metrics and
   * serialising them on every change (partials come many a second) cost more than the rest of publishing: they
   * are refreshed on each renewal (a third of the lease) and whenever the call's lifecycle changes.
   */
  private stateJson = '';
  private lifecycleKey = '';
  private refreshState = true;
  private readonly timer: NodeJS.Timeout;
  private readonly offChange: () => void;
  private readonly offReady: () => void;
  readonly done: Promise<void>;

  constructor(options: PublisherOptions) {
    this.options = options;
    this.nextSeq = options.fromSeq;
    this.failover = options.failover;
    this.held = options.leased;
    const { listener, connection } = options;
    this.offChange = listener.onChange(() => this.schedule());
    this.offReady = connection.onReadyChange((ready) => ready && this.tick());
    // The renewal also publishes the metrics snapshot, which changes with the audio but fires no change.
    this.timer = setInterval(() => this.tick(), options.renewEveryMs);
    this.timer.unref();
    this.schedule();
    this.done = listener.whenEnded().then(() => this.finish());
  }

  /** Stops publishing without releasing the lease (the lease is lost, or the process dies anyway). */
  abandon(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.offChange();
    this.offReady();
  }

  private tick(): void {
    if (this.closed) return;
    const { connection } = this.options;
    if (!connection.ready) return;
    this.refreshState = true;
    void this.renew().finally(() => this.schedule());
  }

  private async renew(): Promise<void> {
    const { connection, listener, owner, leaseMs } = this.options;
    let answer: Awaited<ReturnType<typeof renewLease>>;
    try {
      answer = await renewLease(connection.client, listener.callId, owner, leaseMs);
      // The lease had lapsed (an outage): if the store lost its data meanwhile, the call is written again whole.
      if (answer === 'retaken' && (await entryLost(connection.client, listener.callId))) {
        await this.options.restoreEntry();
        this.nextSeq = 1;
        this.replaceLines = true;
      }
    } catch {
      return;
    }
    if (answer !== 'lost') {
      this.held = true;
      return;
    }
    if (this.closed) return;
    this.options.logger.warn('another instance took over the call; this one stops listening', { callId: listener.callId });
    this.abandon();
    this.options.onLost();
  }

  /** Changes within MIN_FLUSH_INTERVAL_MS of the last entry (partials come many a second) share the next one. */
  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      void this.flush();
    };
    const wait = this.lastFlushAt + MIN_FLUSH_INTERVAL_MS - Date.now();
    if (wait > 0) setTimeout(run, wait).unref();
    else setImmediate(run);
  }

  private async flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return;
    }
    const { connection, listener } = this.options;
    if (!connection.ready || !this.held) return;
    this.flushing = true;
    this.lastFlushAt = Date.now();
    try {
      const page = listener.transcript.linesSince(this.nextSeq);
      const id = listener.callId;
      const xadd = ['XADD', keys.events(id), 'MAXLEN', '~', String(this.options.streamMaxLen), '*', 'd', this.entryJson(page.lines)];
      const replacing = this.replaceLines;
      if (!replacing && page.lines.length === 0) {
        await connection.client.sendCommand(xadd); // most entries: one command, no transaction
      } else {
        // Lines and their entry land together, so a reader's catch-up (list + newest entry) never splits them.
        const multi = connection.client.multi();
        if (replacing) multi.addCommand(['DEL', keys.lines(id)]);
        if (page.lines.length > 0) {
          multi.addCommand(['RPUSH', keys.lines(id), ...page.lines.map((line) => JSON.stringify(line))]);
          multi.addCommand(['LTRIM', keys.lines(id), String(-this.options.maxLines), '-1']);
        }
        multi.addCommand(xadd);
        await multi.exec();
      }
      this.nextSeq = page.nextSeq;
      this.failover = undefined;
      if (replacing) this.replaceLines = false;
    } catch (err) {
      // The store went away mid-flush: the cursor did not move, the next flush after it returns sends the lines.
      this.options.logger.debug('could not publish a call change', { callId: listener.callId, error: (err as Error).name });
    } finally {
      this.flushing = false;
    }
    if (this.again) {
      this.again = false;
      await this.flush();
    }
  }

  /** A StreamEntry as JSON, with the state part reused unless it is due (see stateJson). */
  private entryJson(lines: StreamEntry['lines']): string {
    const { listener, owner } = this.options;
    const lifecycle = listener.lifecycle();
    const lifecycleKey = `${lifecycle.status}|${lifecycle.listening}|${lifecycle.ended}|${lifecycle.filesFinal}`;
    if (this.refreshState || lifecycleKey !== this.lifecycleKey) {
      const state: Pick<StreamEntry, 'state' | 'summary'> = { state: listener.state(), summary: listener.audioSummaryLine() };
      this.stateJson = JSON.stringify(state).slice(1, -1);
      this.lifecycleKey = lifecycleKey;
      this.refreshState = false;
    }
    const rest: Omit<StreamEntry, 'state' | 'summary'> = {
      owner,
      lines,
      live: listener.transcript.liveSnapshot(),
      ...(this.failover && { failover: this.failover }),
      ...(this.options.failovers > 0 && { failovers: this.options.failovers }),
    };
    return `{${this.stateJson},${JSON.stringify(rest).slice(1)}`;
  }

  /** The listener stopped: publish the last state; an ended call leaves the live set; the lease is released. */
  private async finish(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    await waitReady(this.options.connection, this.options.leaseMs * 4);
    await this.flush();
    this.abandon();
    const { connection, listener, owner } = this.options;
    const state = listener.lifecycle();
    try {
      if (state.ended) await markEnded(connection.client, listener.callId, state.endedReason);
      // Listening gave up on a call not known to be over (refused, unreachable): no instance should keep retrying it
      // in the sweep; listen_call on any instance claims it again.
      else if (!this.options.closing()) await connection.client.sendCommand(['SREM', keys.live, listener.callId]);
      await releaseLease(connection.client, listener.callId, owner);
    } catch {
      // The store is away: the lease lapses by itself and the sweep of another instance finds the call over.
    }
  }
}

/** Resolves when the store is reachable, or after `ms` in any case. */
function waitReady(connection: ClusterConnection, ms: number): Promise<void> {
  if (connection.ready) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    const off = connection.onReadyChange((ready) => ready && done());
    function done() {
      clearTimeout(timer);
      off();
      resolve();
    }
  });
}
