/**
 * What this server has learned about calls: their monitor URLs (bearer capabilities, kept here and never shown),
 * their last seen status, and the ids the model has seen (for completion). Bounded, oldest forgotten first.
 */
import type { Call } from './schemas.js';

export interface KnownCall {
  id: string;
  status?: string;
  endedReason?: string;
  startedAt?: string;
  /** The number the call went to, for previews. */
  customerNumber?: string;
  listenUrl?: string;
  controlUrl?: string;
}

export class CallDirectory {
  private readonly calls = new Map<string, KnownCall>();

  constructor(private readonly capacity = 1000) {}

  /** Records what a Call object says; fields it lacks keep their previous values. */
  remember(call: Call): KnownCall {
    const previous = this.calls.get(call.id);
    const known: KnownCall = {
      id: call.id,
      status: call.status ?? previous?.status,
      endedReason: call.endedReason ?? previous?.endedReason,
      startedAt: call.startedAt ?? previous?.startedAt,
      customerNumber: call.customer?.number ?? previous?.customerNumber,
      listenUrl: call.monitor?.listenUrl ?? previous?.listenUrl,
      controlUrl: call.monitor?.controlUrl ?? previous?.controlUrl,
    };
    this.calls.delete(call.id); // re-insert so Map order is recency order
    this.calls.set(call.id, known);
    if (this.calls.size > this.capacity) {
      const oldest = this.calls.keys().next().value;
      if (oldest !== undefined) this.calls.delete(oldest);
    }
    return known;
  }

  markStatus(id: string, status: string, endedReason?: string): void {
    const known = this.calls.get(id);
    if (known) {
      known.status = status;
      if (endedReason) known.endedReason = endedReason;
    }
  }

  get(id: string): KnownCall | undefined {
    return this.calls.get(id);
  }

  /** Most recently seen first. */
  ids(): string[] {
    return [...this.calls.keys()].reverse();
  }
}
