/**
 * The calls this instance listens to in cluster mode, kept and published together: one script per renewal tick
 * renews every lease (every leaseMs/3), and one script per flush publishes every changed call to its stream
 * (`XADD … MAXLEN ~`, with the new final lines appended to the call's line list in the same step). Each call's
 * part (cursor, cached state) is a CallPublisher.
 *
 * Flushes are at least MIN_ENTRY_INTERVAL_MS apart, so a call gets at most one entry per that many ms, and a change
 * reaches other instances at most that much later. The cost of publishing is per command on this side (encoding,
 * a promise, a reply, their garbage), so a batch for hundreds of calls costs about what one call's entry did.
 */
import type { Logger } from '../log.js';
import type { ClusterConnection } from './connection.js';
import { CallPublisher, type CallPublisherOptions, type PublishItem } from './call-publisher.js';
import { keys, LEASE_RENEWALS, type LeaseRenewal, markEnded, PUBLISH_CHANGES, releaseLease, RENEW_LEASES } from './call-store.js';
import { MIN_ENTRY_INTERVAL_MS, STATE_EVERY_MAX_MS } from './entry.js';
import { ClusterStore } from './store.js';

/** Calls per script: each script runs alone on the server, so hundreds of calls go as a few scripts in a row. */
const MAX_CALLS_PER_SCRIPT = 200;

export interface OwnedCallsOptions {
  connection: ClusterConnection;
  /** This instance's id: the value of its leases. */
  owner: string;
  leaseMs: number;
  renewEveryMs: number;
  /** Approximate cap on stream entries per call (XADD MAXLEN ~). */
  streamMaxLen: number;
  /** Cap on final lines kept in the shared line list. */
  maxLines: number;
  /** True while this instance shuts down (a stop then hands the call to another instance). */
  closing: () => boolean;
  logger: Logger;
}

export class OwnedCalls {
  private readonly options: OwnedCallsOptions;
  private readonly calls = new Map<CallPublisher, () => void>();
  private readonly publishChanges;
  private readonly renewLeases;
  private scheduled = false;
  private flushing = false;
  private again = false;
  private renewing = false;
  private lastFlushAt = 0;
  private readonly timer: NodeJS.Timeout;
  /** Flushes calls whose metrics snapshot is due when nothing else changed. */
  private readonly stateTimer: NodeJS.Timeout;
  private readonly offReady: () => void;

  constructor(options: OwnedCallsOptions) {
    this.options = options;
    const store = new ClusterStore(options.connection);
    this.publishChanges = store.script(PUBLISH_CHANGES);
    this.renewLeases = store.script(RENEW_LEASES);
    this.timer = setInterval(() => void this.renew(), options.renewEveryMs);
    this.timer.unref();
    this.stateTimer = setInterval(() => this.calls.size > 0 && this.schedule(), MIN_ENTRY_INTERVAL_MS);
    this.stateTimer.unref();
    this.offReady = options.connection.onReadyChange((ready) => ready && void this.renew());
  }

  /**
   * Publishes the listener's changes from now on and keeps its lease; resolves once the listener stopped, its last
   * state is published and its lease released.
   */
  add(options: CallPublisherOptions): Promise<void> {
    const publisher = new CallPublisher({ ...options, stateEveryMs: Math.min(this.options.renewEveryMs, STATE_EVERY_MAX_MS) });
    const offChange = options.listener.onChange(() => {
      publisher.dirty = true;
      this.schedule();
    });
    this.calls.set(publisher, offChange);
    this.schedule();
    return options.listener.whenEnded().then(() => this.finish(publisher));
  }

  /** Stops the timers; the calls' own stops (awaited before this) released their leases. */
  close(): void {
    clearInterval(this.timer);
    clearInterval(this.stateTimer);
    this.offReady();
  }

  /** Stops publishing a call without releasing its lease (the lease is lost, or the process dies anyway). */
  private abandon(publisher: CallPublisher): void {
    this.calls.get(publisher)?.();
    this.calls.delete(publisher);
    publisher.skipped();
  }

  /** Changes within MIN_ENTRY_INTERVAL_MS of the last flush (partials come many a second) share the next one. */
  private schedule(): void {
    if (this.flushing) this.again = true;
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      void this.flush();
    };
    const wait = this.lastFlushAt + MIN_ENTRY_INTERVAL_MS - Date.now();
    if (wait > 0) setTimeout(run, wait).unref();
    else setImmediate(run);
  }

  private async flush(): Promise<void> {
    const { connection } = this.options;
    this.flushing = true;
    const now = Date.now();
    this.lastFlushAt = now;
    try {
      const items: PublishItem[] = [];
      for (const publisher of this.calls.keys()) {
        if (!publisher.due(now)) continue;
        if (connection.ready && publisher.held) items.push(publisher.take(now));
        else publisher.skipped(); // stays dirty: published once the store is back and the lease is won
      }
      await Promise.all(chunks(items).map((batch) => this.publish(batch)));
    } finally {
      this.flushing = false;
    }
    if (this.again) {
      this.again = false;
      this.schedule();
    }
  }

  /** One script for the batch: on success every cursor moves on; on failure none does and the next flush resends. */
  private async publish(batch: PublishItem[]): Promise<void> {
    const { streamMaxLen, maxLines, owner } = this.options;
    const scriptKeys: string[] = [];
    const args: (string | number)[] = [streamMaxLen, maxLines, owner];
    for (const item of batch) {
      const id = item.publisher.callId;
      scriptKeys.push(keys.events(id), keys.lines(id), keys.lease(id));
      args.push(item.replaceLines ? '1' : '0', item.lines.length, item.entry);
      for (const line of item.lines) args.push(JSON.stringify(line));
    }
    let fenced: Set<number>;
    try {
      fenced = new Set((await this.publishChanges(scriptKeys, args)) as number[]);
    } catch (err) {
      // The store went away mid-flush: no cursor moved, the next flush after it returns sends the lines.
      this.options.logger.debug('could not publish call changes', { calls: batch.length, error: (err as Error).name });
      for (const item of batch) item.publisher.failed(item);
      return;
    }
    for (const [index, item] of batch.entries()) {
      if (!fenced.has(index + 1)) {
        item.publisher.published(item);
        continue;
      }
      // The lease is not this instance's (it lapsed, or another instance holds it): nothing was written. The next
      // renewal retakes it (publishing resumes) or finds the call lost (this instance stops listening).
      item.publisher.held = false;
      item.publisher.failed(item);
    }
  }

  /** Renews every lease in one script (a few for hundreds of calls). */
  private async renew(): Promise<void> {
    const { connection, owner, leaseMs } = this.options;
    if (this.renewing || !connection.ready || this.calls.size === 0) return;
    this.renewing = true;
    try {
      await Promise.all(
        chunks([...this.calls.keys()]).map(async (batch) => {
          const scriptKeys = batch.flatMap((publisher) => [keys.lease(publisher.callId), keys.call(publisher.callId)]);
          const answers = (await this.renewLeases(scriptKeys, [owner, leaseMs]).catch(() => undefined)) as number[] | undefined;
          if (!answers) return;
          // An answer that is not one of the four (never expected) leaves the call as it is until the next renewal.
          await Promise.all(batch.map((publisher, i) => LEASE_RENEWALS[answers[i]] && this.renewed(publisher, LEASE_RENEWALS[answers[i]])));
        }),
      );
    } finally {
      this.renewing = false;
    }
    this.schedule();
  }

  private async renewed(publisher: CallPublisher, answer: LeaseRenewal): Promise<void> {
    if (!this.calls.has(publisher)) return; // abandoned
    if (answer === 'lost') {
      this.options.logger.warn('another instance took over the call; this one stops listening', { callId: publisher.callId });
      this.abandon(publisher);
      publisher.lost();
      return;
    }
    // The lease had lapsed (an outage): the store lost its data meanwhile, so the call is written again whole.
    if (answer === 'retaken-entry-lost') {
      try {
        await publisher.restore();
      } catch {
        return;
      }
    }
    if (!publisher.held) publisher.dirty = true;
    publisher.held = true;
  }

  /** The listener stopped: publish the last state; an ended call leaves the live set; the lease is released. */
  private async finish(publisher: CallPublisher): Promise<void> {
    if (!this.calls.has(publisher)) return; // abandoned
    const published = publisher.whenPublished();
    this.schedule();
    if (!(await published)) {
      await waitReady(this.options.connection, this.options.leaseMs * 4);
      const again = publisher.whenPublished();
      this.schedule();
      await again;
    }
    this.abandon(publisher);
    const { connection, owner, closing } = this.options;
    const { listener } = publisher;
    const state = listener.lifecycle();
    try {
      if (state.ended) await markEnded(connection.client, listener.callId, state.endedReason);
      // Listening gave up on a call not known to be over (refused, unreachable): no instance should keep retrying it
      // in the sweep; listen_call on any instance claims it again.
      else if (!closing()) await connection.client.sendCommand(['SREM', keys.live, listener.callId]);
      await releaseLease(connection.client, listener.callId, owner);
    } catch {
      // The store is away: the lease lapses by itself and the sweep of another instance finds the call over.
    }
  }
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_CALLS_PER_SCRIPT) out.push(items.slice(i, i + MAX_CALLS_PER_SCRIPT));
  return out;
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
