/**
 * The supervised listen connection of one call: opens the socket, retries with backoff while the call may be
 * live, and passes on what arrives on the current connection only (frames of an older connection are ignored).
 * Its owner (the CallListener) keeps the call's state and decides, after a close, whether to reconnect.
 *
 * Every refused or failed attempt is checked against GET /call first (through the owner): a call that is over is
 * not an error. While the call is still ringing, failures cost no attempts (for up to `preAnswerWaitMs`); otherwise
 * at most `maxAttempts` retries follow, and the owner hears of each failure (`retrying`, with the HTTP status of a
 * refused handshake) and of the end (`giveUp`). Connections that close without delivering anything count against
 * the same budget, so a server that accepts and drops at once cannot make this loop forever.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { VapiError } from '../vapi/errors.js';
import { openListenSocket, type ListenSocket, type ListenSocketOptions } from '../vapi/listen.js';
import { PRE_ANSWER_STATUSES, type AudioFormat, type ListenEvent } from '../vapi/schemas.js';

export interface ReconnectPolicy {
  /** Attempts after each unexpected close (and retries of the first connection). Default 5. */
  maxAttempts: number;
  /** Delay before the first attempt, doubled each time. Default 250 ms. */
  baseDelayMs: number;
  /** Default 5000 ms. */
  maxDelayMs: number;
}

export type OpenListenSocket = (options: ListenSocketOptions) => Promise<ListenSocket>;

/** Why listening is not working right now (or stopped for good): what to tell the reader, and the HTTP status of a refused handshake. */
export interface ListenProblem {
  reason: string;
  httpStatus?: number;
}

/** The gap a reconnection closed: when the previous connection ended, and the attempt that succeeded. */
export interface ConnectionGap {
  from: number;
  attempt: number;
}

export interface ConnectionOwner {
  /** Asks GET /call; 'ended' means listening is over (the owner is finishing); undefined: status unknown. */
  confirmStatus(): Promise<string | undefined>;
  /** Listening has stopped (or is stopping): no more attempts. */
  isFinished(): boolean;
  /** A connection is open; `gap` when it replaces one that closed. */
  connected(gap: ConnectionGap | undefined): void;
  format(format: AudioFormat, source: 'start-frame' | 'default'): void;
  audioFrame(chunk: Buffer): void;
  event(event: ListenEvent, receivedAt: number): void;
  malformed(reason: string): void;
  /** The current connection closed; the owner may call reconnect(). */
  closed(info: { code: number; reason: string }): void;
  /** An attempt failed and another will follow. */
  retrying(problem: ListenProblem): void;
  /** No more attempts will be made. */
  giveUp(problem: ListenProblem): void;
}

export interface ListenConnectionOptions {
  callId: string;
  url: string;
  publicKey?: string;
  connectTimeoutMs?: number;
  reconnect?: Partial<ReconnectPolicy>;
  /** How long connection failures are retried without limit while GET /call says the call is not answered yet. */
  preAnswerWaitMs?: number;
  openSocket?: OpenListenSocket;
  logger: Logger;
}

const DEFAULT_RECONNECT: ReconnectPolicy = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 5000 };
const DEFAULT_PRE_ANSWER_WAIT_MS = 10 * 60_000;

export class ListenConnection {
  private readonly policy: ReconnectPolicy;
  private readonly openSocket: OpenListenSocket;
  private socket: ListenSocket | undefined;
  /** Incremented per connection attempt and on stop; handlers of older connections are ignored. */
  private generation = 0;
  private connectedGeneration = 0;
  private closedGeneration = 0;
  private pendingGap: ConnectionGap | undefined;
  private productive = false;
  /** Consecutive connections that closed without delivering a frame. */
  private unproductiveCloses = 0;
  private readonly abort = new AbortController();

  constructor(
    private readonly options: ListenConnectionOptions,
    private readonly owner: ConnectionOwner,
  ) {
    this.policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.openSocket = options.openSocket ?? openListenSocket;
  }

  /** Opens the first connection (retrying as needed). */
  start(): Promise<void> {
    return this.connect(undefined);
  }

  /** After a close the owner did not expect: confirms the call is still live, then connects again. */
  async reconnect(closedAt: number): Promise<void> {
    if ((await this.owner.confirmStatus()) === 'ended' || this.owner.isFinished()) return;
    await this.connect(closedAt);
  }

  /** Closes the socket and stops every pending attempt; nothing more reaches the owner. */
  stop(): void {
    this.generation++;
    this.abort.abort();
    this.socket?.close();
    this.socket = undefined;
  }

  /** `gapFrom`: when the previous connection closed (undefined for the first connection). */
  private async connect(gapFrom: number | undefined): Promise<void> {
    const { maxAttempts, baseDelayMs, maxDelayMs } = this.policy;
    let attempt = gapFrom === undefined ? 0 : Math.max(1, this.unproductiveCloses);
    let last: ListenProblem = { reason: 'closed without delivering anything' };
    let lastStatus: string | undefined;
    const answerDeadline = Date.now() + (this.options.preAnswerWaitMs ?? DEFAULT_PRE_ANSWER_WAIT_MS);
    let failures = attempt;
    for (;;) {
      if (attempt > maxAttempts) {
        this.owner.giveUp({
          reason:
            last.httpStatus !== undefined
              ? `listening unavailable: Vapi kept refusing the listen connection (last: ${last.reason}) after ${maxAttempts} retries; the call was ${lastStatus ?? 'of unknown status'} at the last check`
              : `the listen socket kept failing after ${maxAttempts} retries (last: ${last.reason})`,
          ...(last.httpStatus !== undefined && { httpStatus: last.httpStatus }),
        });
        return;
      }
      if (failures > 0) {
        try {
          await sleep(Math.min(maxDelayMs, baseDelayMs * 2 ** (failures - 1)), undefined, { signal: this.abort.signal });
        } catch {
          return; // stopped
        }
      }
      if (this.owner.isFinished()) return;
      const generation = ++this.generation;
      this.pendingGap = gapFrom === undefined ? undefined : { from: gapFrom, attempt: failures };
      try {
        const socket = await this.openSocket({
          url: this.options.url,
          publicKey: this.options.publicKey,
          handlers: this.handlersFor(generation),
          connectTimeoutMs: this.options.connectTimeoutMs,
        });
        if (this.owner.isFinished() || generation !== this.generation) {
          socket.close();
          return;
        }
        this.noteConnected(generation);
        // Frames (even the close) can arrive before this continuation runs; if it already closed, recovery
        // is under way and this socket is dead.
        if (this.closedGeneration !== generation) this.socket = socket;
        return;
      } catch (err) {
        if (this.owner.isFinished()) return;
        this.options.logger.warn('listen socket connection failed', { callId: this.options.callId, attempt, error: errorMessage(err) });
        last = problemOf(err);
        const status = await this.owner.confirmStatus();
        if (status === 'ended' || this.owner.isFinished()) return;
        lastStatus = status ?? lastStatus;
        if (last.httpStatus === 401 || last.httpStatus === 403) {
          this.owner.giveUp({ reason: `the listen socket rejected the credentials (HTTP ${last.httpStatus}); check the public key`, httpStatus: last.httpStatus });
          return;
        }
        failures++;
        const ringing = status !== undefined && PRE_ANSWER_STATUSES.has(status) && Date.now() < answerDeadline;
        if (!ringing) attempt++;
        this.owner.retrying({
          reason: ringing
            ? `waiting for the call to be answered before listening (last try: ${last.reason})`
            : `listening unavailable right now (${last.reason}); retrying (${Math.min(attempt, maxAttempts)} of ${maxAttempts})`,
          ...(last.httpStatus !== undefined && { httpStatus: last.httpStatus }),
        });
      }
    }
  }

  private handlersFor(generation: number): ListenSocketOptions['handlers'] {
    const current = (): boolean => {
      if (generation !== this.generation || this.owner.isFinished()) return false;
      this.noteConnected(generation);
      return true;
    };
    return {
      onFormat: (format, source) => {
        if (current()) this.owner.format(format, source);
      },
      onAudio: (chunk) => {
        if (!current()) return;
        this.productive = true;
        this.owner.audioFrame(chunk);
      },
      onEvent: (event, receivedAt) => {
        if (!current()) return;
        this.productive = true;
        this.owner.event(event, receivedAt);
      },
      onMalformed: (reason) => {
        if (current()) this.owner.malformed(reason);
      },
      onClose: (info) => {
        if (!current()) return;
        this.socket = undefined;
        this.closedGeneration = this.generation;
        this.unproductiveCloses = this.productive ? 0 : this.unproductiveCloses + 1;
        this.owner.closed(info);
      },
    };
  }

  /** Connection `generation` is open: once, from whichever comes first, the open or a frame. */
  private noteConnected(generation: number): void {
    if (this.connectedGeneration === generation) return;
    this.connectedGeneration = generation;
    this.productive = false;
    const gap = this.pendingGap;
    this.pendingGap = undefined;
    this.owner.connected(gap);
  }
}

function problemOf(err: unknown): ListenProblem {
  if (err instanceof VapiError && err.kind === 'http' && err.status !== undefined) {
    return { reason: `HTTP ${err.status}${err.vapiMessage ? ` "${err.vapiMessage}"` : ''}`, httpStatus: err.status };
  }
  return { reason: errorMessage(err) };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
