/**
 * Event → notifications/resources/updated latency, matched per call: a transcript event emitted at time e is
 * delivered by the first update notification for its URI received at or after e. The server throttles updates
 * per URI (at most one per THROTTLE_MS, trailing edge), so an event arriving less than THROTTLE_MS after the
 * previous notification for its URI is deliberately held back; those events are reported separately, with the
 * throttle's share of their delay (previous notification + THROTTLE_MS − e, an upper bound since the server sent
 * that notification a little before the client received it).
 */
import { distribution, type Distribution } from './stats.js';

export const THROTTLE_MS = 100;

export interface LatencyReport {
  /** Transcript events emitted in the window. */
  events: number;
  /** Every event, as measured (includes throttle waits). */
  all: Distribution;
  /** Events that found no notification pending or recent: what the server itself adds. The latency target. */
  unthrottled: Distribution;
  /** Events that arrived inside a throttle window. */
  throttled: Distribution;
  /** The throttle's share of the throttled events' latency. */
  throttleWait: Distribution;
  /** Every event's latency minus its throttle wait. */
  excludingThrottle: Distribution;
  /** Events with no notification within `graceMs`: subscribers that were never told. Must be 0. */
  unnotified: number;
}

export interface LatencyInput {
  /** Per call id: when each transcript event was emitted (driver clock, ms). */
  emitted: Record<string, readonly number[]>;
  /** Per call id: when each update notification for its transcript arrived (driver clock, ms), ascending. */
  notified: ReadonlyMap<string, readonly number[]>;
  /** Only events emitted in [from, to) count. */
  from: number;
  to: number;
  graceMs?: number;
  throttleMs?: number;
}

export function analyseLatency(input: LatencyInput): LatencyReport {
  const throttleMs = input.throttleMs ?? THROTTLE_MS;
  const graceMs = input.graceMs ?? 5_000;
  const all: number[] = [];
  const unthrottled: number[] = [];
  const throttled: number[] = [];
  const waits: number[] = [];
  const excluding: number[] = [];
  let events = 0;
  let unnotified = 0;
  for (const [callId, times] of Object.entries(input.emitted)) {
    const notes = input.notified.get(callId) ?? [];
    for (const emittedAt of times) {
      if (emittedAt < input.from || emittedAt >= input.to) continue;
      events++;
      const index = firstAtOrAfter(notes, emittedAt);
      if (index === notes.length || notes[index] - emittedAt > graceMs) {
        unnotified++;
        continue;
      }
      const latency = notes[index] - emittedAt;
      all.push(latency);
      const previous = index > 0 ? notes[index - 1] : -Infinity;
      const wait = Math.max(0, previous + throttleMs - emittedAt);
      if (wait > 0) {
        throttled.push(latency);
        waits.push(Math.min(wait, latency));
        excluding.push(Math.max(0, latency - wait));
      } else {
        unthrottled.push(latency);
        excluding.push(latency);
      }
    }
  }
  return {
    events,
    all: distribution(all),
    unthrottled: distribution(unthrottled),
    throttled: distribution(throttled),
    throttleWait: distribution(waits),
    excludingThrottle: distribution(excluding),
    unnotified,
  };
}

function firstAtOrAfter(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
