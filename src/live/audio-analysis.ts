/**
 * Streaming voice-quality analysis of one call: levels, voice activity per party, and the turn metrics built on
 * them (response latency, interruptions, talk time, silence). Memory is constant per call: running counters, a
 * fixed latency histogram, a few recent turns and at most one partial sample carried between frames.
 *
 * Stereo streams (customer on channel 0, assistant on channel 1) are analysed from the samples themselves. A mono
 * stream mixes both parties, so turns then come from the speech-update event timings instead (`source`).
 *
 * Voice activity: each channel's energy per 10 ms window is compared with a noise floor that follows the line
 * (quickly down, slowly up, only outside speech so speech never raises it), with hysteresis: speech starts after two windows above floor + 12 dB and ends after
 * 250 ms below floor + 6 dB (and never below -50 dBFS). The first 200 ms of a stream only learn the floor. Timestamps are those of the first and last voiced window, so the hangover delays
 * when an end is known but not where it is placed.
 */

export type Party = 'customer' | 'assistant';

export interface LevelReading {
  /** RMS of the last ~100 ms window, dBFS (-96 = digital silence). */
  rmsDbfs: number;
  /** Peak of the last ~100 ms window, dBFS. */
  peakDbfs: number;
  /** Samples at full scale since the start. */
  clippedSamples: number;
}

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

export interface AudioMetrics {
  /** audio: measured from the stereo samples; events: speech-update timings (mono stream); none: nothing yet; off: disabled. */
  source: 'audio' | 'events' | 'none' | 'off';
  analyzedSeconds: number;
  levels: Partial<Record<Party | 'mixed', LevelReading>>;
  talking: Record<Party, boolean>;
  responseLatency: { count: number; p50Ms?: number; p90Ms?: number; maxMs?: number; recent: LatencyTurn[] };
  interruptions: { count: number; byCustomer: number; byAssistant: number; recent: InterruptionRecord[] };
  talkSeconds: Record<Party, number>;
  /** Assistant's share of all talk time, 0..1 (absent before anyone spoke). */
  assistantTalkShare?: number;
  longestSilenceMs: number;
  deadAirMs: number;
}

export interface AnalyzerFormat {
  sampleRate: number;
  channels: number;
}

const SILENCE_DBFS = -96;
const FULL_SCALE = 32768;
const VAD_WINDOW_MS = 10;
const LEVEL_WINDOWS = 10; // 100 ms
const ONSET_WINDOWS = 2;
const HANGOVER_WINDOWS = 25;
const START_RATIO = 10 ** (12 / 10);
const STOP_RATIO = 10 ** (6 / 10);
/** Mean square below which nothing counts as speech whatever the floor (-50 dBFS). */
const ABSOLUTE_START_POWER = (FULL_SCALE * 10 ** (-50 / 20)) ** 2;
/** The first 200 ms only learn the line's floor (their quietest window): a hissy line is not speech. */
const WARMUP_WINDOWS = 20;
const FLOOR_FALL = 0.3;
const FLOOR_RISE = 0.02;
const HISTOGRAM_BIN_MS = 10;
const HISTOGRAM_BINS = 3000; // 30 s; longer answers land in the last bin (max stays exact)
const RECENT = 5;
const CLIP = 32767;
/** Slots of the sums of squares (a Float64Array: they outgrow small integers, which would deoptimise fields). */
const CUSTOMER_WINDOW = 0;
const ASSISTANT_WINDOW = 1;
const LEFT_LEVEL = 2;
const RIGHT_LEVEL = 3;

interface ChannelLevel {
  peak: number;
  clipped: number;
  last: LevelReading;
}

interface Voice {
  floor: number;
  voicedRun: number;
  silentRun: number;
  windows: number;
  /** A speech segment is open (possibly in its hangover). */
  inSegment: boolean;
  segmentStart: number;
  /** End (ms) of the last window with speech energy; Infinity while an event-timed segment is open. */
  lastVoicedEnd: number;
  /** Start (ms) of the first window of a pending onset run. */
  pendingStart: number;
  lastEnd: number;
  talkMs: number;
}

export class CallAudioAnalyzer {
  private readonly enabled: boolean;
  private format: AnalyzerFormat | undefined;
  private source: AudioMetrics['source'] = 'none';
  private carry = Buffer.alloc(4);
  private carried = 0;
  private scratch: Buffer | undefined;
  /** Samples (per channel) analysed since the start of the stream. */
  private samples = 0;
  private windowSamples = 0;
  private inWindow = 0;
  private windowsInLevel = 0;
  private readonly levels: ChannelLevel[] = [newLevel(), newLevel()];
  private readonly energy = new Float64Array(4);
  private readonly voices: Record<Party, Voice> = { customer: newVoice(), assistant: newVoice() };
  private readonly latencyBins = new Uint32Array(HISTOGRAM_BINS);
  private latencyCount = 0;
  private latencyMax = 0;
  private readonly recentLatencies: LatencyTurn[] = [];
  private interruptionCounts = { customer: 0, assistant: 0 };
  private readonly recentInterruptions: InterruptionRecord[] = [];
  private openOverlap: { record: InterruptionRecord; startMs: number } | undefined;
  private longestSilenceMs = DOUBLE_ZERO;
  private deadAirMs = DOUBLE_ZERO;
  /** Event-timed streams: epoch ms that is time zero (the answer, or the first speech event). */
  private eventEpoch: number | undefined;
  private lastEventMs = DOUBLE_ZERO;

  constructor(options: { enabled?: boolean } = {}) {
    this.enabled = options.enabled !== false;
    if (!this.enabled) this.source = 'off';
  }

  /** The stream's format; a later different format continues the analysis in the new format. */
  setFormat(format: AnalyzerFormat): void {
    if (!this.enabled) return;
    if (this.format && this.format.sampleRate === format.sampleRate && this.format.channels === format.channels) return;
    this.format = { sampleRate: format.sampleRate, channels: format.channels };
    this.windowSamples = Math.max(1, Math.round((format.sampleRate * VAD_WINDOW_MS) / 1000));
    this.carried = 0;
    this.source = format.channels === 2 ? 'audio' : 'events';
  }

  /** PCM bytes as received: frames may be any size and split samples. */
  audio(chunk: Buffer): void {
    const format = this.format;
    if (!format || chunk.length === 0) return;
    const block = format.channels * 2;
    let offset = 0;
    if (this.carried > 0) {
      const take = Math.min(block - this.carried, chunk.length);
      chunk.copy(this.carry, this.carried, 0, take);
      this.carried += take;
      offset = take;
      if (this.carried < block) return;
      this.carried = 0;
      this.samplesFrom(this.carry, 0, 1);
    }
    const blocks = Math.floor((chunk.length - offset) / block);
    if (blocks > 0) this.samplesFrom(chunk, offset, blocks);
    const rest = chunk.length - offset - blocks * block;
    if (rest > 0) {
      chunk.copy(this.carry, 0, chunk.length - rest);
      this.carried = rest;
    }
  }

  /** A connection ended: a torn sample is dropped (the next connection starts on a sample boundary). */
  endOfConnection(): void {
    this.carried = 0;
  }

  /** Listen events: speech-update timings drive the turns when the stream is mono. */
  event(event: { type?: unknown; status?: unknown; role?: unknown; timestamp?: unknown }, receivedAt: number): void {
    if (this.source === 'audio' || !this.enabled) return;
    const at = typeof event.timestamp === 'number' && Number.isFinite(event.timestamp) ? event.timestamp : receivedAt;
    if (event.type === 'status-update' && event.status === 'in-progress') {
      this.eventEpoch ??= at;
      return;
    }
    if (event.type !== 'speech-update') return;
    const party: Party | undefined = event.role === 'user' ? 'customer' : event.role === 'assistant' ? 'assistant' : undefined;
    if (!party || (event.status !== 'started' && event.status !== 'stopped')) return;
    this.eventEpoch ??= at;
    if (this.source === 'none') this.source = 'events';
    const ms = Math.max(this.lastEventMs, at - this.eventEpoch);
    this.lastEventMs = ms;
    const voice = this.voices[party];
    if (event.status === 'started' && !voice.inSegment) {
      this.onset(party, ms);
      voice.lastVoicedEnd = Number.POSITIVE_INFINITY;
    } else if (event.status === 'stopped' && voice.inSegment) {
      voice.lastVoicedEnd = ms;
      this.closeSegment(party, ms);
    }
  }

  metrics(): AudioMetrics {
    const nowMs = this.source === 'events' && this.format?.channels !== 2 ? this.lastEventMs : this.streamMs(this.samples);
    const talkSeconds = { customer: round1(this.talkMs('customer', nowMs) / 1000), assistant: round1(this.talkMs('assistant', nowMs) / 1000) };
    const totalTalk = this.talkMs('customer', nowMs) + this.talkMs('assistant', nowMs);
    const levels: AudioMetrics['levels'] = {};
    if (this.format?.channels === 2) {
      levels.customer = { ...this.levels[0].last, clippedSamples: this.levels[0].clipped };
      levels.assistant = { ...this.levels[1].last, clippedSamples: this.levels[1].clipped };
    } else if (this.format) {
      levels.mixed = { ...this.levels[0].last, clippedSamples: this.levels[0].clipped };
    }
    return {
      source: this.source,
      analyzedSeconds: round1(this.streamMs(this.samples) / 1000),
      levels,
      talking: { customer: this.voices.customer.inSegment, assistant: this.voices.assistant.inSegment },
      responseLatency: {
        count: this.latencyCount,
        ...(this.latencyCount > 0 && {
          p50Ms: this.percentile(0.5),
          p90Ms: this.percentile(0.9),
          maxMs: this.latencyMax,
        }),
        recent: this.recentLatencies.map((turn) => ({ ...turn })),
      },
      interruptions: {
        count: this.interruptionCounts.customer + this.interruptionCounts.assistant,
        byCustomer: this.interruptionCounts.customer,
        byAssistant: this.interruptionCounts.assistant,
        recent: this.recentInterruptions.map((record) => ({ ...record })),
      },
      talkSeconds,
      ...(totalTalk > 0 && { assistantTalkShare: Math.round((this.talkMs('assistant', nowMs) / totalTalk) * 100) / 100 }),
      longestSilenceMs: Math.round(this.longestSilenceMs),
      deadAirMs: Math.round(this.deadAirMs),
    };
  }

  /** One line for humans: who is talking, levels and the metrics so far. */
  summaryLine(): string {
    const m = this.metrics();
    if (m.source === 'none') return 'Audio: nothing analysed yet';
    if (m.source === 'off') return 'Audio: analysis off (VAPI_AUDIO_ANALYSIS=0)';
    const level = (party: Party) => m.levels[party] ? `${m.levels[party].rmsDbfs} dBFS${m.talking[party] ? ' (talking)' : ''}` : '';
    const parts: string[] = [];
    if (m.levels.customer) parts.push(`customer ${level('customer')}`, `assistant ${level('assistant')}`);
    const latency = m.responseLatency;
    parts.push(latency.count > 0 ? `response p50 ${latency.p50Ms} ms / p90 ${latency.p90Ms} ms / max ${latency.maxMs} ms` : 'no responses yet');
    parts.push(`interruptions ${m.interruptions.count} (customer ${m.interruptions.byCustomer}, assistant ${m.interruptions.byAssistant})`);
    parts.push(`talk ${m.talkSeconds.customer}s customer / ${m.talkSeconds.assistant}s assistant`);
    parts.push(`longest silence ${(m.longestSilenceMs / 1000).toFixed(1)}s, dead air ${(m.deadAirMs / 1000).toFixed(1)}s`);
    return `Audio (${m.source === 'audio' ? 'measured from audio' : 'from event timings, mono stream'}): ${parts.join(' · ')}`;
  }

  // ---- samples ----------------------------------------------------------------------------------------------

  private samplesFrom(buffer: Buffer, offset: number, blocks: number): void {
    const channels = this.format!.channels;
    const count = blocks * channels;
    let view: Int16Array;
    if (((buffer.byteOffset + offset) & 1) === 0) {
      view = new Int16Array(buffer.buffer, buffer.byteOffset + offset, count);
    } else {
      // Int16Array needs an even byte offset; odd ones (rare) go through a copy.
      if (!this.scratch || this.scratch.length < count * 2) this.scratch = Buffer.alloc(Math.max(count * 2, 4096));
      buffer.copy(this.scratch, 0, offset, offset + count * 2);
      view = new Int16Array(this.scratch.buffer, this.scratch.byteOffset, count);
    }
    if (channels === 2) this.stereo(view, blocks);
    else this.mono(view, blocks);
  }

  private stereo(view: Int16Array, blocks: number): void {
    const left = this.levels[0];
    const right = this.levels[1];
    const energy = this.energy;
    let i = 0;
    let remaining = blocks;
    while (remaining > 0) {
      const take = Math.min(remaining, this.windowSamples - this.inWindow);
      const from = i;
      let sumC = 0;
      let sumA = 0;
      let maxC = 0;
      let minC = 0;
      let maxA = 0;
      let minA = 0;
      const end = i + take * 2;
      for (; i < end; i += 2) {
        const c = view[i];
        const a = view[i + 1];
        sumC += c * c;
        sumA += a * a;
        if (c > maxC) maxC = c;
        else if (c < minC) minC = c;
        if (a > maxA) maxA = a;
        else if (a < minA) minA = a;
      }
      energy[CUSTOMER_WINDOW] += sumC;
      energy[ASSISTANT_WINDOW] += sumA;
      energy[LEFT_LEVEL] += sumC;
      energy[RIGHT_LEVEL] += sumA;
      left.peak = Math.max(left.peak, maxC, -minC);
      right.peak = Math.max(right.peak, maxA, -minA);
      // Full scale is rare: only then are the samples counted one by one.
      if (maxC >= CLIP || minC <= -CLIP) left.clipped += countClipped(view, from, end);
      if (maxA >= CLIP || minA <= -CLIP) right.clipped += countClipped(view, from + 1, end);
      this.inWindow += take;
      this.samples += take;
      remaining -= take;
      if (this.inWindow === this.windowSamples) this.closeWindow(true);
    }
  }

  private mono(view: Int16Array, blocks: number): void {
    const level = this.levels[0];
    let i = 0;
    while (i < blocks) {
      const take = Math.min(blocks - i, this.windowSamples - this.inWindow);
      const from = i;
      let sum = 0;
      let max = 0;
      let min = 0;
      const end = i + take;
      for (; i < end; i++) {
        const s = view[i];
        sum += s * s;
        if (s > max) max = s;
        else if (s < min) min = s;
      }
      this.energy[LEFT_LEVEL] += sum;
      level.peak = Math.max(level.peak, max, -min);
      if (max >= CLIP || min <= -CLIP) {
        for (let k = from; k < end; k++) if (view[k] >= CLIP || view[k] <= -CLIP) level.clipped++;
      }
      this.inWindow += take;
      this.samples += take;
      if (this.inWindow === this.windowSamples) this.closeWindow(false);
    }
  }

  private closeWindow(stereo: boolean): void {
    const startMs = this.streamMs(this.samples - this.inWindow);
    const endMs = this.streamMs(this.samples);
    const energy = this.energy;
    if (stereo) {
      // Decide both parties on this window before acting, so simultaneous onsets see each other consistently.
      this.detect('customer', energy[CUSTOMER_WINDOW] / this.inWindow, startMs, endMs);
      this.detect('assistant', energy[ASSISTANT_WINDOW] / this.inWindow, startMs, endMs);
      energy[CUSTOMER_WINDOW] = 0;
      energy[ASSISTANT_WINDOW] = 0;
    }
    this.inWindow = 0;
    if (++this.windowsInLevel === LEVEL_WINDOWS) {
      const samples = this.windowSamples * LEVEL_WINDOWS;
      for (let channel = 0; channel < 2; channel++) {
        const level = this.levels[channel];
        const sum = energy[LEFT_LEVEL + channel];
        level.last = { rmsDbfs: dbfs(Math.sqrt(sum / samples)), peakDbfs: dbfs(level.peak), clippedSamples: level.clipped };
        energy[LEFT_LEVEL + channel] = 0;
        level.peak = 0;
      }
      this.windowsInLevel = 0;
    }
  }

  private detect(party: Party, power: number, startMs: number, endMs: number): void {
    const voice = this.voices[party];
    if (voice.windows < WARMUP_WINDOWS) {
      voice.floor = voice.windows++ === 0 ? power : Math.min(voice.floor, power);
      return;
    }
    const startThreshold = Math.max(voice.floor * START_RATIO, ABSOLUTE_START_POWER);
    const stopThreshold = Math.max(voice.floor * STOP_RATIO, ABSOLUTE_START_POWER / 2);
    if (voice.inSegment) {
      if (power >= stopThreshold) {
        voice.lastVoicedEnd = endMs;
        voice.silentRun = 0;
      } else {
        this.followFloor(voice, power);
        if (++voice.silentRun >= HANGOVER_WINDOWS) this.closeSegment(party, voice.lastVoicedEnd);
      }
      return;
    }
    if (power >= startThreshold) {
      if (voice.voicedRun === 0) voice.pendingStart = startMs;
      if (++voice.voicedRun >= ONSET_WINDOWS) {
        voice.voicedRun = 0;
        this.onset(party, voice.pendingStart);
        voice.lastVoicedEnd = endMs;
      }
    } else {
      voice.voicedRun = 0;
      this.followFloor(voice, power);
    }
  }

  private followFloor(voice: Voice, power: number): void {
    voice.floor += (power - voice.floor) * (power < voice.floor ? FLOOR_FALL : FLOOR_RISE);
  }

  // ---- turns ------------------------------------------------------------------------------------------------

  private onset(party: Party, atMs: number): void {
    const other: Party = party === 'customer' ? 'assistant' : 'customer';
    const voice = this.voices[party];
    const otherVoice = this.voices[other];
    let interrupting = false;
    if (otherVoice.inSegment) {
      if (otherVoice.lastVoicedEnd > atMs) interrupting = true;
      // The other party went quiet before this one started: its turn ended where its voice did.
      else this.closeSegment(other, otherVoice.lastVoicedEnd);
    }
    if (interrupting) {
      this.interruptionCounts[party]++;
      const record: InterruptionRecord = { atSeconds: round2(atMs / 1000), by: party };
      pushRecent(this.recentInterruptions, record);
      this.openOverlap = { record, startMs: atMs };
    } else {
      const lastSpeechEnd = Math.max(voice.lastEnd, otherVoice.lastEnd);
      const silence = atMs - lastSpeechEnd;
      if (silence > 0) {
        this.deadAirMs += silence;
        if (silence > this.longestSilenceMs) this.longestSilenceMs = silence;
      }
      if (party === 'assistant' && otherVoice.lastEnd > 0 && otherVoice.lastEnd >= voice.lastEnd) {
        this.recordLatency(atMs, atMs - otherVoice.lastEnd);
      }
    }
    voice.inSegment = true;
    voice.segmentStart = atMs;
    voice.silentRun = 0;
  }

  private closeSegment(party: Party, endMs: number): void {
    const voice = this.voices[party];
    if (!voice.inSegment) return;
    const end = Math.max(voice.segmentStart, endMs);
    voice.inSegment = false;
    voice.talkMs += end - voice.segmentStart;
    voice.lastEnd = end;
    voice.voicedRun = 0;
    voice.silentRun = 0;
    if (this.openOverlap) {
      this.openOverlap.record.overlapMs = Math.max(0, Math.round(end - this.openOverlap.startMs));
      this.openOverlap = undefined;
    }
  }

  private recordLatency(atMs: number, ms: number): void {
    const rounded = Math.round(ms);
    this.latencyCount++;
    this.latencyBins[Math.min(HISTOGRAM_BINS - 1, Math.floor(rounded / HISTOGRAM_BIN_MS))]++;
    if (rounded > this.latencyMax) this.latencyMax = rounded;
    pushRecent(this.recentLatencies, { atSeconds: round2(atMs / 1000), ms: rounded });
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

  private talkMs(party: Party, nowMs: number): number {
    const voice = this.voices[party];
    if (!voice.inSegment) return voice.talkMs;
    const end = Number.isFinite(voice.lastVoicedEnd) ? voice.lastVoicedEnd : nowMs;
    return voice.talkMs + Math.max(0, end - voice.segmentStart);
  }

  private streamMs(samples: number): number {
    return this.format ? (samples / this.format.sampleRate) * 1000 : 0;
  }
}

function newLevel(): ChannelLevel {
  return { peak: 0, clipped: 0, last: { rmsDbfs: SILENCE_DBFS, peakDbfs: SILENCE_DBFS, clippedSamples: 0 } };
}

/**
 * Times and the floor start as -0, not 0: -0 is not a small integer, so these fields are doubles from the start
 * and V8 does not have to migrate every analyzer's shape (and deoptimise the hot loop) when they first hold a
 * fraction or Infinity mid-call. -0 behaves as 0 in every comparison and sum here.
 */
const DOUBLE_ZERO = -0;

function newVoice(): Voice {
  return {
    floor: DOUBLE_ZERO,
    voicedRun: 0,
    silentRun: 0,
    windows: 0,
    inSegment: false,
    segmentStart: DOUBLE_ZERO,
    lastVoicedEnd: DOUBLE_ZERO,
    pendingStart: DOUBLE_ZERO,
    lastEnd: DOUBLE_ZERO,
    talkMs: DOUBLE_ZERO,
  };
}

function dbfs(amplitude: number): number {
  if (amplitude <= 0) return SILENCE_DBFS;
  return Math.max(SILENCE_DBFS, Math.round(20 * Math.log10(amplitude / FULL_SCALE) * 10) / 10) || 0;
}

function pushRecent<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECENT) list.shift();
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Full-scale samples among every other sample of view[from, end) (one channel of interleaved stereo). */
function countClipped(view: Int16Array, from: number, end: number): number {
  let count = 0;
  for (let k = from; k < end; k += 2) if (view[k] >= CLIP || view[k] <= -CLIP) count++;
  return count;
}
