/**
 * Call limits: how many calls may be live at once, and how many may be placed in any sliding hour.
 * Both stop a runaway loop from ringing the same person again and again.
 */

/**
 * Three live calls is more than a person supervising the agent can follow at once, and enough for a
 * call-and-transfer flow; a loop that keeps dialling is stopped at the fourth simultaneous call.
 */
export const DEFAULT_MAX_CONCURRENT_CALLS = 3;
/**
 * Twenty calls an hour (one every three minutes on average) covers deliberate use, while a loop that slips past
 * the concurrency limit (short calls that end quickly) reaches at most twenty people an hour, not hundreds.
 */
export const DEFAULT_MAX_CALLS_PER_HOUR = 20;

/**
 * How long a call whose outcome is unknown (a timeout after sending, an id that cannot be used) holds its
 * concurrency slot: this server cannot see it end, and Vapi's default maximum call length is ten minutes.
 */
export const UNTRACKED_CALL_HOLD_MS = 15 * 60 * 1000;

/** A slot taken before POST /call leaves; settle it exactly once with what became of the request. */
export interface CallReservation {
  /** The call was placed and has this id: it now counts as a live call. */
  placed(callId: string): void;
  /** The request provably placed no call: the slot and its place in the hourly window are given back. */
  release(): void;
  /** A call may exist that this server cannot follow: it keeps counting for the hour, and for a while as live. */
  untracked(): void;
}

export interface CallLimitsOptions {
  maxConcurrentCalls: number;
  maxCallsPerHour: number;
  /** Milliseconds from any fixed origin; defaults to a monotonic clock, so wall-clock changes do not matter. */
  now?: () => number;
}

export type LimitVerdict =
  | { ok: true }
  | {
      ok: false;
      code: 'concurrency' | 'hourly-rate';
      reason: string;
      suggestion: string;
      retryable: boolean;
      retryAfterSeconds?: number;
    };

export type ReserveVerdict = { ok: true; reservation: CallReservation } | Exclude<LimitVerdict, { ok: true }>;

type Awaitable<T> = T | Promise<T>;

/**
 * The call limits as the core uses them: held in this process (CallLimits) or shared by every instance of a cluster
 * (src/cluster). The shared store answers asynchronously and may be unreachable, then its methods reject.
 */
export interface CallLimitsStore {
  check(): Awaitable<LimitVerdict>;
  /** Checks and takes a slot in one step, so parallel requests cannot all pass the check before any is counted. */
  reserve(): Awaitable<ReserveVerdict>;
  /** A call placed outside reserve() now counts as live and toward the hour; an id already live is ignored. */
  recordPlaced(callId: string): Awaitable<void>;
  /** The call ended: its slot is free (it still counts toward the hour). */
  recordEnded(callId: string): Awaitable<void>;
  liveCallIds(): Awaitable<string[]>;
}

export const CALLS_WINDOW_MS = 60 * 60 * 1000;

export class CallLimits implements CallLimitsStore {
  private readonly maxConcurrent: number;
  private readonly maxPerHour: number;
  private readonly now: () => number;
  /** Placement times inside the last hour, oldest first; never longer than maxPerHour. */
  private readonly placedAt: number[] = [];
  private readonly live = new Set<string>();
  /** Slots of requests in flight or of calls that cannot be followed: key → expiry (Infinity while in flight). */
  private readonly held = new Map<symbol, number>();

  constructor(options: CallLimitsOptions) {
    this.maxConcurrent = requireCount('maxConcurrentCalls', options.maxConcurrentCalls);
    this.maxPerHour = requireCount('maxCallsPerHour', options.maxCallsPerHour);
    this.now = options.now ?? (() => performance.now());
  }

  /** May one more call be placed now? The hourly limit is reported first: ending live calls cannot lift it. */
  check(): LimitVerdict {
    const disabled = zeroLimitRefusal(this.maxConcurrent, this.maxPerHour);
    if (disabled) return disabled;
    const now = this.now();
    this.prune(now);
    if (this.placedAt.length >= this.maxPerHour) {
      return hourlyRefusal(this.placedAt.length, this.maxPerHour, this.placedAt[0] + CALLS_WINDOW_MS - now);
    }
    for (const [key, expiresAt] of this.held) if (expiresAt <= now) this.held.delete(key);
    if (this.live.size + this.held.size >= this.maxConcurrent) return concurrencyRefusal([...this.live], this.held.size, this.maxConcurrent);
    return { ok: true };
  }

  /**
   * Checks and takes a slot in one step, so parallel requests cannot all pass the check before any is counted.
   * The slot counts toward both limits until it is settled.
   */
  reserve(): ReserveVerdict {
    const verdict = this.check();
    if (!verdict.ok) return verdict;
    const key = Symbol('reservation');
    const stamp = this.now();
    this.held.set(key, Infinity);
    this.pushStamp(stamp);
    let settled = false;
    const settle = (apply: () => void) => {
      if (settled) return;
      settled = true;
      apply();
    };
    return {
      ok: true,
      reservation: {
        placed: (callId) =>
          settle(() => {
            this.held.delete(key);
            this.live.add(callId);
          }),
        release: () =>
          settle(() => {
            this.held.delete(key);
            const index = this.placedAt.lastIndexOf(stamp);
            if (index >= 0) this.placedAt.splice(index, 1);
          }),
        untracked: () => settle(() => this.held.set(key, this.now() + UNTRACKED_CALL_HOLD_MS)),
      },
    };
  }

  /** Counts a placed call toward the hourly window and the live calls. Recording a live id again does nothing. */
  recordPlaced(callId: string): void {
    if (this.live.has(callId)) return;
    this.live.add(callId);
    this.pushStamp(this.now());
  }

  private pushStamp(now: number): void {
    if (this.maxPerHour === 0) return;
    this.prune(now);
    this.placedAt.push(now);
    // Only the newest maxPerHour stamps can decide the next check, so older ones are dropped.
    if (this.placedAt.length > this.maxPerHour) this.placedAt.splice(0, this.placedAt.length - this.maxPerHour);
  }

  /** Frees a concurrency slot; unknown or already-ended ids are ignored. Ended calls still count toward the hour. */
  recordEnded(callId: string): void {
    this.live.delete(callId);
  }

  liveCallIds(): string[] {
    return [...this.live];
  }

  snapshot(): { live: number; maxConcurrent: number; placedLastHour: number; maxPerHour: number } {
    this.prune(this.now());
    return {
      live: this.live.size + this.held.size,
      maxConcurrent: this.maxConcurrent,
      placedLastHour: this.placedAt.length,
      maxPerHour: this.maxPerHour,
    };
  }

  private prune(now: number): void {
    let expired = 0;
    while (expired < this.placedAt.length && this.placedAt[expired] <= now - CALLS_WINDOW_MS) expired++;
    if (expired > 0) this.placedAt.splice(0, expired);
  }
}

/** The refusal when a limit is set to 0, or undefined. */
export function zeroLimitRefusal(maxConcurrent: number, maxPerHour: number): Exclude<LimitVerdict, { ok: true }> | undefined {
  if (maxPerHour === 0) {
    return {
      ok: false,
      code: 'hourly-rate',
      reason: 'No calls may be placed: VAPI_MAX_CALLS_PER_HOUR is 0.',
      suggestion: 'Do not retry. The operator must set VAPI_MAX_CALLS_PER_HOUR to 1 or more and restart the server.',
      retryable: false,
    };
  }
  if (maxConcurrent === 0) {
    return {
      ok: false,
      code: 'concurrency',
      reason: 'No calls may be placed: VAPI_MAX_CONCURRENT_CALLS is 0.',
      suggestion: 'Do not retry. The operator must set VAPI_MAX_CONCURRENT_CALLS to 1 or more and restart the server.',
      retryable: false,
    };
  }
  return undefined;
}

/** `placed` calls in the window reached `max`; the oldest leaves the window in `untilOldestLeavesMs`. */
export function hourlyRefusal(placed: number, max: number, untilOldestLeavesMs: number): Exclude<LimitVerdict, { ok: true }> {
  const retryAfterSeconds = Math.min(3600, Math.max(1, Math.ceil(untilOldestLeavesMs / 1000)));
  return {
    ok: false,
    code: 'hourly-rate',
    reason: `${placed} calls were placed in the last hour, the limit is ${max} (VAPI_MAX_CALLS_PER_HOUR).`,
    suggestion: `Wait ${formatDuration(retryAfterSeconds)} (until the oldest of those calls leaves the one-hour window), then try again. Do not loop on this call.`,
    retryable: true,
    retryAfterSeconds,
  };
}

/** The live calls (`ids`) and the slots `held` by requests in flight or untraceable calls reached `max`. */
export function concurrencyRefusal(ids: string[], held: number, max: number): Exclude<LimitVerdict, { ok: true }> {
  const heldText = held > 0 ? ` and ${held} being placed or not traceable` : '';
  return {
    ok: false,
    code: 'concurrency',
    reason: `${ids.length + held} calls are live${heldText ? ` (${ids.length} known${heldText})` : ''}, the limit is ${max} at once (VAPI_MAX_CONCURRENT_CALLS).`,
    suggestion: ids.length > 0
      ? `End or wait for one of the live calls (${ids.join(', ')}) to finish, then try again.`
      : 'Wait for the calls being placed to finish, then try again.',
    retryable: true,
  };
}

export function requireCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`CallLimits ${name} must be a whole number of 0 or more, not ${String(value)}.`);
  }
  return value;
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
