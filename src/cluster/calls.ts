/**
 * The live calls of a cluster, as one instance takes part in them. A call that no instance listens to is listened
 * to here when this instance wins its lease (and published to its stream); a call another instance holds is served
 * from a mirror of its stream. A periodic sweep of the live calls takes over any call whose lease lapsed (its owner
 * died): it listens again, continues the transcript from the shared lines (seqs go on), and marks the gap.
 *
 * Timing (leaseMs, VAPI_MCP_LEASE_MS, default 5 s): the owner renews every leaseMs/3; every instance sweeps every
 * min(1 s, leaseMs/2), so a dead owner's calls are taken over within about leaseMs + 1 s + one reconnect.
 */
import { randomUUID } from 'node:crypto';
import type { CallListener } from '../live/listener.js';
import type { ListenerView } from '../live/listener-view.js';
import type { ListenerRegistry } from '../live/registry.js';
import type { Logger } from '../log.js';
import type { KnownCall } from '../vapi/call-directory.js';
import type { ClusterConnection } from './connection.js';
import { ENTRIES_TO_FIND_STATE, parseEntry, parseLine, type StreamEntry } from './entry.js';
import { StreamFollower } from './follower.js';
import { CallMirror } from './mirror.js';
import { OwnedCalls } from './owned-calls.js';
import { acquireLease, getEntry, keys, liveIds, putEntry, unleasedLiveIds } from './call-store.js';

export interface ClusterCallsOptions {
  connection: ClusterConnection;
  listeners: ListenerRegistry;
  logger: Logger;
  leaseMs: number;
  /** Final lines kept per call (VAPI_TRANSCRIPT_MAX_LINES). */
  maxLines: number;
  /** Approximate cap on a call's stream entries; default 2000 (a reader catches up from the line list anyway). */
  streamMaxLen?: number;
  /**
   * Sweep the live calls and take over those whose owner died (default true). A short-lived terminal command
   * (`watch`, `say`) must not: it would take a dead instance's calls and drop them again when it exits.
   */
  takesOverCalls?: boolean;
}

/** The connection retries at most every 2 s (connection.ts): an owner is back within that of any other instance. */
const RECONNECT_GRACE_MS = 2000;
/** Mirrors kept before those of finished calls are forgotten (a forgotten one is read back whole on demand). */
const MAX_MIRRORS = 1000;

interface ReadBack {
  lines: ReturnType<typeof parseLine>[];
  newest?: { id: string; entry: StreamEntry };
}

export class ClusterCalls {
  /** This process in the cluster: the value of the leases it holds. */
  readonly instanceId = randomUUID();
  private readonly options: ClusterCallsOptions;
  private readonly mirrors = new Map<string, CallMirror>();
  /** The calls this instance listens to: each one's stop (its last state published, its lease released). */
  private readonly owned = new Map<string, Promise<void>>();
  private readonly publishing: OwnedCalls;
  private readonly taking = new Set<string>();
  /** Takeovers of the calls this instance took over. */
  private readonly failoverCounts = new Map<string, number>();
  private readonly changeFns = new Set<(callId: string) => void>();
  private readonly follower: StreamFollower;
  private readonly sweepTimer?: NodeJS.Timeout;
  private sweeping = false;
  private closed = false;
  /** When the store last became reachable: owners get a lease's time (and a reconnect) to renew before a sweep. */
  private readySince = Date.now();
  private readonly offReady: () => void;

  constructor(options: ClusterCallsOptions) {
    this.options = options;
    this.follower = new StreamFollower(options.connection, options.logger);
    this.publishing = new OwnedCalls({
      connection: options.connection,
      owner: this.instanceId,
      leaseMs: options.leaseMs,
      renewEveryMs: Math.max(100, Math.floor(options.leaseMs / 3)),
      streamMaxLen: options.streamMaxLen ?? 2000,
      maxLines: options.maxLines,
      closing: () => this.closed,
      logger: options.logger,
    });
    if (options.takesOverCalls !== false) {
      this.sweepTimer = setInterval(() => void this.sweep(), Math.min(1000, options.leaseMs / 2));
      this.sweepTimer.unref();
    }
    this.offReady = options.connection.onReadyChange((ready) => {
      if (ready) this.readySince = Date.now();
    });
  }

  /** Any change of a mirrored call; returns an unsubscribe. */
  onChange(fn: (callId: string) => void): () => void {
    this.changeFns.add(fn);
    return () => this.changeFns.delete(fn);
  }

  /**
   * The call as the cluster already follows it: this instance's listener, a mirror of another's, or (the directory
   * knows the call and nobody holds its lease) a listener started here. Undefined when the directory does not know
   * the call or cannot be read: the caller falls back to this instance's own knowledge.
   */
  async existing(callId: string, saveAudio: boolean): Promise<ListenerView | undefined> {
    const own = this.ownListener(callId);
    if (own) return own;
    const mirror = this.mirrors.get(callId);
    if (mirror) return mirror;
    // A call this instance listened to until it ended: its own listener is the record.
    const finished = this.options.listeners.get(callId);
    if (finished?.lifecycle().ended) return finished;
    if (!this.options.connection.ready) return undefined;
    const entry = await getEntry(this.options.connection.client, callId).catch(() => undefined);
    if (!entry) return undefined;
    if (entry.status === 'ended') return this.mirror(callId, entry);
    return this.claim(callId, entry, saveAudio);
  }

  /** Listens to a live call here when this instance wins its lease, else mirrors the instance that holds it. */
  async claim(callId: string, known: KnownCall, saveAudio: boolean): Promise<ListenerView> {
    const own = this.ownListener(callId);
    if (own) return own;
    const { client, ready } = this.options.connection;
    if (!ready) return this.listenHere(callId, known, saveAudio, undefined); // the store is away: record locally
    // The lease before the entry: a live entry without a lease is what other instances' sweeps take over.
    const won = await acquireLease(client, callId, this.instanceId, this.options.leaseMs);
    await putEntry(client, known);
    if (won) return this.listenHere(callId, known, saveAudio, await this.readBack(callId));
    return this.mirror(callId, known);
  }

  /** How many times listening to the call moved to another instance after its owner stopped (0: never). */
  failovers(callId: string): number {
    return this.mirrors.get(callId)?.failovers || this.failoverCounts.get(callId) || 0;
  }

  /** Ids of the cluster's live calls (the directory's live set); empty when the store is unreachable. */
  async liveCallIds(): Promise<string[]> {
    if (!this.options.connection.ready) return [];
    return liveIds(this.options.connection.client).catch(() => []);
  }

  /**
   * Shutdown, alongside the registry's stopAll: stops following streams and sweeping, and resolves once every
   * listener of this instance stopped and released its lease (another instance takes the call at its next sweep).
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.offReady();
    await this.follower.close();
    await Promise.all(this.owned.values());
    this.publishing.close();
  }

  private ownListener(callId: string): CallListener | undefined {
    return this.owned.has(callId) ? this.options.listeners.get(callId) : undefined;
  }

  /**
   * Starts this instance's listener. `previous`: what the stream holds (the lease was won); its lines seed the
   * transcript so seqs continue, and when another instance listened before, the gap is recorded.
   */
  private async listenHere(callId: string, known: KnownCall, saveAudio: boolean, previous: ReadBack | undefined): Promise<CallListener> {
    const { listeners, logger } = this.options;
    if (!known.listenUrl) throw new Error('the call has no listen URL');
    const startedAt = known.startedAt ? Date.parse(known.startedAt) : Number.NaN;
    const tookOver = previous?.newest !== undefined && previous.newest.entry.owner !== this.instanceId;
    const failovers = (previous?.newest?.entry.failovers ?? 0) + (tookOver ? 1 : 0);
    const listener = listeners.restart(callId, known.listenUrl, {
      saveAudio,
      // After a takeover the audio is `<id>-2.wav` (then -3 …) on whichever disk: the parts of a call never share a name.
      ...(tookOver && { firstAudioPart: failovers + 1 }),
      ...(known.status ? { status: known.status } : {}),
      ...(Number.isNaN(startedAt) ? {} : { startedAt }),
    });
    await listener.whenPrepared();
    // The socket opens only after this (I/O comes after this continuation): no event can come in between.
    const lines = previous?.lines.filter((line) => line !== undefined) ?? [];
    const streamNextSeq = (lines.at(-1)?.seq ?? 0) + 1;
    for (const line of lines) listener.transcript.adoptLine(line);
    const failover = tookOver ? { at: Date.now(), fromSeq: listener.transcript.nextSeq } : undefined;
    if (failover) {
      listener.note('failover', { lastSeqPublished: streamNextSeq - 1, nextSeq: failover.fromSeq, audioPath: listener.state().audioPath });
      logger.info('took over listening to a call whose owner stopped renewing its lease', { callId });
    }
    const done = this.publishing.add({
      listener,
      owner: this.instanceId,
      fromSeq: Math.min(streamNextSeq, listener.transcript.nextSeq),
      ...(failover && { failover }),
      failovers,
      leased: previous !== undefined,
      restoreEntry: () => putEntry(this.options.connection.client, known),
      onLost: () => {
        this.owned.delete(callId);
        void listener.stop();
      },
    });
    this.owned.set(callId, done);
    if (failovers > 0) this.failoverCounts.set(callId, failovers);
    void done.then(() => {
      if (this.owned.get(callId) === done) this.owned.delete(callId);
    });
    return listener;
  }

  private async mirror(callId: string, known: KnownCall): Promise<CallMirror> {
    const existing = this.mirrors.get(callId);
    if (existing) return existing;
    const startedAt = known.startedAt ? Date.parse(known.startedAt) : Number.NaN;
    const mirror = new CallMirror(callId, {
      maxLines: this.options.maxLines,
      ...(known.status ? { status: known.status } : {}),
      ...(Number.isNaN(startedAt) ? {} : { startedAt }),
    });
    this.forgetFinishedMirrors();
    this.mirrors.set(callId, mirror);
    mirror.onChange(() => {
      for (const fn of this.changeFns) fn(callId);
    });
    try {
      const { lines, newest } = await this.readBack(callId);
      mirror.seed(lines.filter((line) => line !== undefined), newest);
    } catch (err) {
      this.mirrors.delete(callId);
      throw err;
    }
    // A call whose files are final publishes nothing more: nothing to follow.
    if (!mirror.lifecycle().filesFinal) this.follower.add(mirror);
    return mirror;
  }

  /** Memory stays bounded: beyond MAX_MIRRORS, mirrors of finished calls are forgotten, oldest first. */
  private forgetFinishedMirrors(): void {
    for (const [id, mirror] of this.mirrors) {
      if (this.mirrors.size < MAX_MIRRORS) return;
      if (mirror.lifecycle().filesFinal) this.mirrors.delete(id);
    }
  }

  /**
   * The call's line list and newest stream entry, read atomically (the follower goes on after that entry), with the
   * newest published state (an entry carries it only when it was refreshed, so it may be a few entries back).
   */
  private async readBack(callId: string): Promise<ReadBack> {
    const [rawLines, newestFirst] = (await this.options.connection.client
      .multi()
      .addCommand(['LRANGE', keys.lines(callId), '0', '-1'])
      .addCommand(['XREVRANGE', keys.events(callId), '+', '-', 'COUNT', String(ENTRIES_TO_FIND_STATE)])
      .exec()) as unknown as [string[], [string, string[]][]];
    const lines = rawLines.map(parseLine);
    const entries = newestFirst.map(([id, fields]) => ({ id, entry: parseEntry(fields[fields.indexOf('d') + 1] ?? '') }));
    const newest = entries[0];
    if (!newest?.entry) return { lines };
    const stated = entries.find(({ entry }) => entry?.state)?.entry;
    const entry = newest.entry.state || !stated ? newest.entry : { ...newest.entry, state: stated.state, summary: stated.summary };
    return { lines, newest: { id: newest.id, entry } };
  }

  /** Takes over the live calls whose lease lapsed (their owner died or lost the store for longer than the lease). */
  private async sweep(): Promise<void> {
    const { connection } = this.options;
    if (this.sweeping || this.closed || !connection.ready) return;
    // After an outage every lease has lapsed: their owners, reconnecting up to 2 s later, renew them first.
    if (Date.now() - this.readySince < this.options.leaseMs + RECONNECT_GRACE_MS) return;
    this.sweeping = true;
    try {
      const lapsed = await unleasedLiveIds(connection.client);
      for (const id of lapsed) if (!this.owned.has(id) && !this.taking.has(id)) void this.takeOver(id);
    } catch (err) {
      this.options.logger.debug('sweep of live calls failed', { error: (err as Error).name });
    } finally {
      this.sweeping = false;
    }
  }

  private async takeOver(callId: string): Promise<void> {
    const { client } = this.options.connection;
    this.taking.add(callId);
    try {
      const entry = await getEntry(client, callId);
      if (!entry?.listenUrl || this.closed) return;
      if (!(await acquireLease(client, callId, this.instanceId, this.options.leaseMs))) return;
      await this.listenHere(callId, entry, true, await this.readBack(callId));
    } catch (err) {
      this.options.logger.warn('could not take over a call', { callId, error: (err as Error).message });
    } finally {
      this.taking.delete(callId);
    }
  }
}
