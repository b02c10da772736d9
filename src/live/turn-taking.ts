/**
 * Turn-taking of one call on one timeline (ms): who is talking, and what the turns add up to (response latency,
 * interruptions with their overlap, talk time per party, the longest silence and dead air). It is told when a
 * party starts and stops; voice-activity.ts tells it from the audio, the analyzer from speech-update events.
 *
 * Every figure is finite and never negative: times only move forward through `Math.max`, and a party whose
 * speech has no known end yet (an event-timed segment) is counted up to "now", never to infinity.
 */

export type Party = 'customer' | 'assistant';

export interface LatencyTurn {
  /** When the assistant started answering, seconds into the analysed stream. */
  atSeconds: number;
  ms: number;
}

export interface InterruptionRecord {
  atSeconds: number;
  by: Party;
  /** How long both spoke at once; absent while the overlap is still going on. */
  overlapMs?: number;
}

export interface TurnMetrics {
  talking: Record<Party, boolean>;
  responseLatency: { count: number; p50Ms?: number; p90Ms?: number; maxMs?: number; recent: LatencyTurn[] };
  interruptions: { count: number; byCustomer: number; byAssistant: number; recent: InterruptionRecord[] };
  talkSeconds: Record<Party, number>;
  /** Assistant's share of all talk time, 0..1 (absent before anyone spoke). */
  assistantTalkShare?: number;
  longestSilenceMs: number;
  deadAirMs: number;
}

const HISTOGRAM_BIN_MS = 10;
const HISTOGRAM_BINS = 3000; // 30 s; longer answers land in the last bin (max stays exact)
const RECENT = 5;

/**
 * Times start as -0, not 0: -0 is not a small integer, so these fields are doubles from the start and V8 does
 * not have to migrate every object's shape (and deoptimise the hot loop) when they first hold a fraction.
 * -0 behaves as 0 in every comparison and sum here, and `plus0` turns it into 0 on the way out.
 */
export const DOUBLE_ZERO = -0;

interface Speaker {
  /** A speech segment is open (possibly in its hangover). */
  inSegment: boolean;
  segmentStart: number;
  /** End (ms) of the last moment with speech; meaningless while `untilNow`. */
  lastVoicedEnd: number;
  /** The open segment has no known end yet (event-timed): it lasts until now. */
  untilNow: boolean;
  lastEnd: number;
  talkMs: number;
}

export class TurnTaking {
  private readonly speakers: Record<Party, Speaker> = { customer: newSpeaker(), assistant: newSpeaker() };
  private readonly latencyBins = new Uint32Array(HISTOGRAM_BINS);
  private latencyCount = 0;
  private latencyMax = 0;
  private readonly recentLatencies: LatencyTurn[] = [];
  private readonly interruptionCounts = { customer: 0, assistant: 0 };
  private readonly recentInterruptions: InterruptionRecord[] = [];
  private openOverlap: { record: InterruptionRecord; startMs: number } | undefined;
  private longestSilenceMs = DOUBLE_ZERO;
  private deadAirMs = DOUBLE_ZERO;

  isTalking(party: Party): boolean {
    return this.speakers[party].inSegment;
  }

  /** The party's open segment had speech up to `endMs`. */
  voicedUntil(party: Party, endMs: number): void {
    this.speakers[party].lastVoicedEnd = endMs;
  }

  /** End of the party's last moment with speech in its open segment. */
  lastVoicedEnd(party: Party): number {
    return this.speakers[party].lastVoicedEnd;
  }

  /**
   * The party started speaking at `atMs`: an interruption if the other party is still talking, otherwise the
   * end of a silence (and, for the assistant after the customer, a response). `untilNow`: no end will be
   * measured, the segment lasts until stop() (event timing).
   */
  start(party: Party, atMs: number, untilNow = false): void {
    const other: Party = party === 'customer' ? 'assistant' : 'customer';
    const speaker = this.speakers[party];
    const otherSpeaker = this.speakers[other];
    let interrupting = false;
    if (otherSpeaker.inSegment) {
      if (otherSpeaker.untilNow || otherSpeaker.lastVoicedEnd > atMs) interrupting = true;
      // The other party went quiet before this one started: its turn ended where its voice did.
      else this.stop(other, otherSpeaker.lastVoicedEnd);
    }
    if (interrupting) {
      this.interruptionCounts[party]++;
      const record: InterruptionRecord = { atSeconds: seconds2(atMs), by: party };
      pushRecent(this.recentInterruptions, record);
      this.openOverlap = { record, startMs: atMs };
    } else {
      const silence = atMs - Math.max(speaker.lastEnd, otherSpeaker.lastEnd);
      if (silence > 0) {
        this.deadAirMs += silence;
        if (silence > this.longestSilenceMs) this.longestSilenceMs = silence;
      }
      if (party === 'assistant' && otherSpeaker.lastEnd > 0 && otherSpeaker.lastEnd >= speaker.lastEnd && atMs >= otherSpeaker.lastEnd) {
        this.recordLatency(atMs, atMs - otherSpeaker.lastEnd);
      }
    }
    speaker.inSegment = true;
    speaker.segmentStart = atMs;
    speaker.lastVoicedEnd = atMs;
    speaker.untilNow = untilNow;
  }

  /** The party's open segment ended at `endMs` (never before it began). */
  stop(party: Party, endMs: number): void {
    const speaker = this.speakers[party];
    if (!speaker.inSegment) return;
    const end = Math.max(speaker.segmentStart, endMs);
    speaker.inSegment = false;
    speaker.untilNow = false;
    speaker.talkMs += end - speaker.segmentStart;
    speaker.lastEnd = end;
    if (this.openOverlap) {
      this.openOverlap.record.overlapMs = Math.max(0, Math.round(end - this.openOverlap.startMs));
      this.openOverlap = undefined;
    }
  }

  /** The figures so far; `nowMs` ends any segment still open. */
  metrics(nowMs: number): TurnMetrics {
    const customerMs = this.talkMs('customer', nowMs);
    const assistantMs = this.talkMs('assistant', nowMs);
    const totalTalk = customerMs + assistantMs;
    return {
      talking: { customer: this.speakers.customer.inSegment, assistant: this.speakers.assistant.inSegment },
      responseLatency: {
        count: this.latencyCount,
        ...(this.latencyCount > 0 && { p50Ms: this.percentile(0.5), p90Ms: this.percentile(0.9), maxMs: this.latencyMax }),
        recent: this.recentLatencies.map((turn) => ({ ...turn })),
      },
      interruptions: {
        count: this.interruptionCounts.customer + this.interruptionCounts.assistant,
        byCustomer: this.interruptionCounts.customer,
        byAssistant: this.interruptionCounts.assistant,
        recent: this.recentInterruptions.map((record) => ({ ...record })),
      },
      talkSeconds: { customer: seconds1(customerMs), assistant: seconds1(assistantMs) },
      ...(totalTalk > 0 && { assistantTalkShare: plus0(Math.round((assistantMs / totalTalk) * 100) / 100) }),
      longestSilenceMs: plus0(Math.round(this.longestSilenceMs)),
      deadAirMs: plus0(Math.round(this.deadAirMs)),
    };
  }

  private talkMs(party: Party, nowMs: number): number {
    const speaker = this.speakers[party];
    if (!speaker.inSegment) return speaker.talkMs;
    const end = speaker.untilNow ? nowMs : speaker.lastVoicedEnd;
    return speaker.talkMs + Math.max(0, end - speaker.segmentStart);
  }

  private recordLatency(atMs: number, ms: number): void {
    const rounded = Math.round(ms);
    this.latencyCount++;
    this.latencyBins[Math.min(HISTOGRAM_BINS - 1, Math.floor(rounded / HISTOGRAM_BIN_MS))]++;
    if (rounded > this.latencyMax) this.latencyMax = rounded;
    pushRecent(this.recentLatencies, { atSeconds: seconds2(atMs), ms: rounded });
  }

  /** Nearest-rank percentile from the histogram, at the middle of its bin (never above the exact max). */
  private percentile(fraction: number): number {
    const rank = Math.max(1, Math.ceil(fraction * this.latencyCount));
    let seen = 0;
    for (let bin = 0; bin < HISTOGRAM_BINS; bin++) {
      seen += this.latencyBins[bin];
      if (seen >= rank) return Math.min(this.latencyMax, bin * HISTOGRAM_BIN_MS + HISTOGRAM_BIN_MS / 2);
    }
    return this.latencyMax;
  }
}

function newSpeaker(): Speaker {
  return {
    inSegment: false,
    segmentStart: DOUBLE_ZERO,
    lastVoicedEnd: DOUBLE_ZERO,
    untilNow: false,
    lastEnd: DOUBLE_ZERO,
    talkMs: DOUBLE_ZERO,
  };
}

function pushRecent<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECENT) list.shift();
}

/** -0 out as 0: JSON would print it as 0 anyway, and readers compare it with 0. */
export function plus0(value: number): number {
  return value + 0;
}

/** Milliseconds as seconds with one decimal (rounding is monotonic: a part never exceeds its whole). */
export function seconds1(ms: number): number {
  return plus0(Math.round(ms / 100) / 10);
}

function seconds2(ms: number): number {
  return plus0(Math.round(ms / 10) / 100);
}
