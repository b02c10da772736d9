/**
 * The voice-quality metrics a call should produce, computed from the simulator's true speech intervals with the
 * definitions README.md gives: latency = assistant start − customer's last end when the customer spoke last;
 * an interruption = a party starting while the other is audible; silence = nobody audible between answer
 * (or the last speech) and the next start.
 */
import type { SpeechInterval } from '../../src/sim/index.js';

export interface TrueMetrics {
  latenciesMs: number[];
  interruptions: { by: 'customer' | 'assistant'; atMs: number; overlapMs: number }[];
  talkMs: { customer: number; assistant: number };
  longestSilenceMs: number;
  deadAirMs: number;
}

export function trueMetrics(intervals: SpeechInterval[]): TrueMetrics {
  const sorted = [...intervals].sort((a, b) => a.startMs - b.startMs);
  const lastEnd = { customer: 0, assistant: 0 };
  const talkMs = { customer: 0, assistant: 0 };
  const latenciesMs: number[] = [];
  const interruptions: TrueMetrics['interruptions'] = [];
  let longestSilenceMs = 0;
  let deadAirMs = 0;
  let speechEnd = 0;
  for (const interval of sorted) {
    talkMs[interval.party] += interval.endMs - interval.startMs;
    const other = interval.party === 'customer' ? 'assistant' : 'customer';
    const overlapping = sorted.find((o) => o.party === other && o.startMs < interval.startMs && o.endMs > interval.startMs);
    if (overlapping) {
      interruptions.push({
        by: interval.party,
        atMs: interval.startMs,
        overlapMs: Math.min(overlapping.endMs, interval.endMs) - interval.startMs,
      });
    } else {
      const silence = interval.startMs - speechEnd;
      if (silence > 0) {
        deadAirMs += silence;
        longestSilenceMs = Math.max(longestSilenceMs, silence);
      }
      if (interval.party === 'assistant' && lastEnd.customer > 0 && lastEnd.customer >= lastEnd.assistant) {
        latenciesMs.push(interval.startMs - lastEnd.customer);
      }
    }
    lastEnd[interval.party] = Math.max(lastEnd[interval.party], interval.endMs);
    speechEnd = Math.max(speechEnd, interval.endMs);
  }
  return { latenciesMs, interruptions, talkMs, longestSilenceMs, deadAirMs };
}
