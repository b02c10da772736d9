/**
 * The backstop behind VAPI_MAX_CALL_MINUTES: Vapi is asked to end each call at the cap (maxDurationSeconds), and a
 * call this server listens to that is still live `graceMs` after its cap is ended here, through its control URL,
 * with the reason written to the call's JSONL. A call's time counts from when this server first sees it answered.
 */
import type { ListenerRegistry } from '../live/registry.js';
import type { Logger } from '../log.js';

export const DEFAULT_BACKSTOP_GRACE_MS = 30_000;
const DEFAULT_CHECK_EVERY_MS = 1000;

export interface DurationBackstopOptions {
  capMs: number;
  listeners: ListenerRegistry;
  /** Ends the call through its control URL; rejects when that failed. */
  end: (callId: string) => Promise<void>;
  logger: Logger;
  /** After the cap, how long a call may still run before it is ended here. Default 30 s. */
  graceMs?: number;
  /** How often live calls are looked at. Default 1 s. */
  checkEveryMs?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

export class DurationBackstop {
  private readonly options: DurationBackstopOptions;
  private readonly now: () => number;
  private readonly graceMs: number;
  /** When each live call was first seen answered. */
  private readonly answeredAt = new Map<string, number>();
  private readonly ending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly offListChanged: () => void;

  constructor(options: DurationBackstopOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.graceMs = options.graceMs ?? DEFAULT_BACKSTOP_GRACE_MS;
    this.offListChanged = options.listeners.onListChanged(() => this.schedule());
  }

  close(): void {
    this.offListChanged();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs the periodic check while any listener is live, and stops it when none is. */
  private schedule(): void {
    const anyLive = this.options.listeners.list().some((listener) => !listener.lifecycle().filesFinal);
    if (anyLive && !this.timer) {
      this.timer = setInterval(() => this.check(), this.options.checkEveryMs ?? DEFAULT_CHECK_EVERY_MS);
      this.timer.unref();
    } else if (!anyLive && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private check(): void {
    const now = this.now();
    const live = new Set<string>();
    for (const listener of this.options.listeners.list()) {
      const state = listener.lifecycle();
      if (state.ended || !state.listening) continue;
      live.add(state.callId);
      if (state.status !== 'in-progress') continue;
      const answeredAt = this.answeredAt.get(state.callId) ?? now;
      this.answeredAt.set(state.callId, answeredAt);
      if (now - answeredAt < this.options.capMs + this.graceMs || this.ending.has(state.callId)) continue;

      this.ending.add(state.callId);
      const minutes = Math.round((this.options.capMs / 60_000) * 100) / 100;
      const reason = `still live ${Math.round(this.graceMs / 1000)} s after the ${minutes}-minute cap (VAPI_MAX_CALL_MINUTES); ended by this server`;
      listener.note('max-duration-backstop', { reason });
      this.options.logger.warn('call ran past its maximum duration; ending it', { callId: state.callId });
      this.options.end(state.callId).catch((err: unknown) => {
        const error = (err as { reason?: string }).reason ?? (err instanceof Error ? err.message : String(err));
        listener.note('max-duration-backstop-failed', { error });
        this.options.logger.error('could not end a call past its maximum duration', { callId: state.callId, error });
      });
    }
    for (const id of this.answeredAt.keys()) if (!live.has(id)) this.answeredAt.delete(id);
    for (const id of this.ending) if (!live.has(id)) this.ending.delete(id);
    this.schedule();
  }
}
