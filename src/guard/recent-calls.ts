/**
 * The memory behind the duplicate-call guard (src/core/duplicate-guard.ts): the last call placed, or being placed,
 * to each number. Held in this process (RecentCalls) or shared by a cluster's instances (src/cluster).
 */

/** The last call placed (or being placed) to one number. */
export interface RecentCall {
  key: string;
  /** Absent while the request is in flight. */
  callId?: string;
  /** Epoch ms when it was claimed. */
  at: number;
}

/** A placement's hold on a number, settled once. */
export interface NumberClaim {
  placed(callId: string): void;
  release(): void;
}

type Awaitable<T> = T | Promise<T>;

export interface RecentCallsStore {
  /** windowMs undefined: the guard is off. */
  readonly options: { windowMs: number | undefined; now: () => number };
  readonly enabled: boolean;
  latest(e164: string): Awaitable<RecentCall | undefined>;
  /**
   * Marks a placement with `key` under way to this number. With `exclusive`, a placement with another key still in
   * flight to it wins: nothing is claimed and that placement is returned.
   */
  claim(e164: string, key: string, exclusive: boolean): Awaitable<NumberClaim | { busy: RecentCall }>;
}

const MAX_REMEMBERED_NUMBERS = 1000;

export class RecentCalls implements RecentCallsStore {
  private readonly byNumber = new Map<string, RecentCall>();

  constructor(readonly options: { windowMs: number | undefined; now: () => number }) {}

  get enabled(): boolean {
    return this.options.windowMs !== undefined;
  }

  latest(e164: string): RecentCall | undefined {
    return this.byNumber.get(e164);
  }

  claim(e164: string, key: string, exclusive: boolean): NumberClaim | { busy: RecentCall } {
    const previous = this.byNumber.get(e164);
    if (exclusive && previous && previous.key !== key && previous.callId === undefined) return { busy: previous };
    const entry: RecentCall = { key, at: this.options.now() };
    this.byNumber.delete(e164);
    this.byNumber.set(e164, entry);
    while (this.byNumber.size > MAX_REMEMBERED_NUMBERS) this.byNumber.delete(this.byNumber.keys().next().value as string);
    return {
      placed: (callId) => {
        entry.callId = callId;
      },
      release: () => {
        if (this.byNumber.get(e164) !== entry) return;
        if (previous) this.byNumber.set(e164, previous);
        else this.byNumber.delete(e164);
      },
    };
  }
}
