/**
 * Streaming voice-quality analysis of one call: levels, voice activity per party, and the turn metrics built on
 * them (turn-taking.ts: response latency, interruptions, talk time, silence). Memory is constant per call: running
 * counters, a fixed latency histogram, a few recent turns and at most one partial sample carried between frames.
 *
 * Stereo streams (customer on channel 0, assistant on channel 1) are analysed from the samples themselves
 * (voice-activity.ts), on the stream's own clock: the samples received. A mono stream mixes both parties, so turns
 * then come from the speech-update event timings instead, on the events' clock (`source`). The two clocks never
 * mix: when the stream switches between them (speech events before the first stereo frame, a reconnection in
 * another format) the turn metrics start again on the new clock, so every figure stays finite and within the
 * time analysed, however the stream arrives (digital silence, bursts, gaps, events in any order).
 */
import { DOUBLE_ZERO, plus0, seconds1, TurnTaking, type Party, type TurnMetrics } from './turn-taking.js';
import { pcmKernel, STAGING_BYTES, STAGING_START, type PcmKernel, type PcmKernelChoice } from './pcm-kernel.js';
import { VoiceActivity } from './voice-activity.js';

export type { InterruptionRecord, LatencyTurn, Party } from './turn-taking.js';

export interface LevelReading {
  /** RMS of the last ~100 ms window, dBFS (-96 = digital silence). */
  rmsDbfs: number;
  /** Peak of the last ~100 ms window, dBFS. */
  peakDbfs: number;
  /** Samples at full scale since the start. */
  clippedSamples: number;
}

export interface AudioMetrics extends TurnMetrics {
  /** audio: measured from the stereo samples; events: speech-update timings (mono stream); none: nothing yet; off: disabled. */
  source: 'audio' | 'events' | 'none' | 'off';
  /** Seconds of the call the turn metrics cover (no party's talk time exceeds it). */
  analyzedSeconds: number;
  levels: Partial<Record<Party | 'mixed', LevelReading>>;
}

/** The metrics could not be computed: why, in their place (the rest of a result is unaffected). */
export interface AudioUnavailable {
  source: 'error';
  reason: string;
}

/** What a reader gets: the metrics, or why they are unavailable. */
export type AudioReading = AudioMetrics | AudioUnavailable;

export interface AnalyzerFormat {
  sampleRate: number;
  channels: number;
}

const SILENCE_DBFS = -96;
const FULL_SCALE = 32768;
const VAD_WINDOW_MS = 10;
const LEVEL_WINDOWS = 10; // 100 ms
const CLIP = 32767;
/** |sample| ≥ CLIP exactly when sample² ≥ CLIP². */
const CLIP_SQUARE = CLIP * CLIP;
/** Event timestamps outside [0, this] (epoch ms, year 2286) are not times: the receive time is used instead. */
const LATEST_EPOCH_MS = 1e13;
/** Slots of the sums of squares (a Float64Array: they outgrow small integers, which would deoptimise fields). */
const CUSTOMER_WINDOW = 0;
const ASSISTANT_WINDOW = 1;
const LEFT_LEVEL = 2;
const RIGHT_LEVEL = 3;

interface ChannelLevel {
  /** Largest squared sample of the level window: |sample| is its square root. */
  peakSquare: number;
  clipped: number;
  last: LevelReading;
}

/** Which clock drives the turn metrics. */
type Clock = 'none' | 'stream' | 'events';

export class CallAudioAnalyzer {
  private readonly enabled: boolean;
  private format: AnalyzerFormat | undefined;
  private clock: Clock = 'none';
  private readonly kernel: PcmKernel;
  private readonly carry = new Uint8Array(4);
  private carried = 0;
  /** Stream time (ms) of earlier formats, and samples (per channel) in the current one. */
  private earlierStreamMs = DOUBLE_ZERO;
  private samples = 0;
  private windowSamples = 0;
  private inWindow = 0;
  private windowsInLevel = 0;
  private readonly levels: ChannelLevel[] = [newLevel(), newLevel()];
  private readonly energy = new Float64Array(4);
  private turns = new TurnTaking();
  private customerVoice = new VoiceActivity('customer', this.turns);
  private assistantVoice = new VoiceActivity('assistant', this.turns);
  /** Events' clock: the epoch ms that is time zero (the answer, or the first speech event), and the latest time. */
  private eventEpoch: number | undefined;
  private lastEventMs = DOUBLE_ZERO;

  /** kernel: which per-sample kernel measures the samples (pcm-kernel.ts; the same figures either way). */
  constructor(options: { enabled?: boolean; kernel?: PcmKernelChoice } = {}) {
    this.enabled = options.enabled !== false;
    this.kernel = pcmKernel(options.kernel);
  }

  /** The stream's format; a later different format continues the analysis in the new format. */
  setFormat(format: AnalyzerFormat): void {
    if (!this.enabled || !isUsableFormat(format)) return;
    if (this.format && this.format.sampleRate === format.sampleRate && this.format.channels === format.channels) return;
    if (this.format) this.earlierStreamMs = this.streamMs();
    this.format = { sampleRate: format.sampleRate, channels: format.channels };
    this.samples = 0;
    this.windowSamples = Math.max(1, Math.round((format.sampleRate * VAD_WINDOW_MS) / 1000));
    this.carried = 0;
    this.inWindow = 0;
    this.energy.fill(0);
    this.useClock(format.channels === 2 ? 'stream' : 'events');
  }

  /**
   * PCM bytes as received: frames may be any size and split samples. The bytes of a torn sample carried from the
   * last frame and this frame's go to the kernel's staging area together; whole samples are analysed there and the
   * torn rest is carried to the next frame.
   */
  audio(chunk: Buffer): void {
    const format = this.format;
    if (!format || chunk.length === 0) return;
    const block = format.channels * 2;
    const bytes = this.kernel.bytes;
    const carry = this.carry;
    let offset = 0;
    while (offset < chunk.length) {
      const carried = this.carried;
      for (let k = 0; k < carried; k++) bytes[STAGING_START + k] = carry[k];
      const take = Math.min(chunk.length - offset, STAGING_BYTES - carried);
      bytes.set(take === chunk.length ? chunk : chunk.subarray(offset, offset + take), STAGING_START + carried);
      offset += take;
      const blocks = Math.floor((carried + take) / block);
      const rest = carried + take - blocks * block;
      for (let k = 0; k < rest; k++) carry[k] = bytes[STAGING_START + blocks * block + k];
      this.carried = rest;
      if (blocks > 0) this.analyse(blocks);
    }
  }

  /** A connection ended: a torn sample is dropped (the next connection starts on a sample boundary). */
  endOfConnection(): void {
    this.carried = 0;
  }

  /** Listen events: speech-update timings drive the turns unless stereo audio does. */
  event(event: { type?: unknown; status?: unknown; role?: unknown; timestamp?: unknown }, receivedAt: number): void {
    if (!this.enabled || this.clock === 'stream') return;
    const at = epochMs(event.timestamp) ?? epochMs(receivedAt);
    if (at === undefined) return;
    if (event.type === 'status-update' && event.status === 'in-progress') {
      this.eventEpoch ??= at;
      return;
    }
    if (event.type !== 'speech-update') return;
    const party: Party | undefined = event.role === 'user' ? 'customer' : event.role === 'assistant' ? 'assistant' : undefined;
    if (!party || (event.status !== 'started' && event.status !== 'stopped')) return;
    this.useClock('events');
    this.eventEpoch ??= at;
    const ms = Math.max(this.lastEventMs, at - this.eventEpoch);
    this.lastEventMs = ms;
    const talking = this.turns.isTalking(party);
    if (event.status === 'started' && !talking) this.turns.start(party, ms, true);
    else if (event.status === 'stopped' && talking) this.turns.stop(party, ms);
  }

  metrics(): AudioMetrics {
    const streamMs = this.streamMs();
    const nowMs = this.clock === 'events' ? Math.max(this.lastEventMs, 0) : streamMs;
    const analyzedMs = this.clock === 'events' ? Math.max(streamMs, nowMs) : streamMs;
    const levels: AudioMetrics['levels'] = {};
    if (this.format?.channels === 2) {
      levels.customer = { ...this.levels[0].last, clippedSamples: this.levels[0].clipped };
      levels.assistant = { ...this.levels[1].last, clippedSamples: this.levels[1].clipped };
    } else if (this.format) {
      levels.mixed = { ...this.levels[0].last, clippedSamples: this.levels[0].clipped };
    }
    return {
      source: !this.enabled ? 'off' : this.clock === 'stream' ? 'audio' : this.clock,
      analyzedSeconds: seconds1(analyzedMs),
      levels,
      ...this.turns.metrics(nowMs),
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

  /** Switches the clock of the turn metrics; turns measured on another clock cannot continue on this one. */
  private useClock(clock: Exclude<Clock, 'none'>): void {
    if (this.clock === clock) return;
    if (this.clock !== 'none') {
      this.turns = new TurnTaking();
      this.customerVoice = new VoiceActivity('customer', this.turns);
      this.assistantVoice = new VoiceActivity('assistant', this.turns);
      this.eventEpoch = undefined;
      this.lastEventMs = DOUBLE_ZERO;
    }
    this.clock = clock;
  }

  // ---- samples ----------------------------------------------------------------------------------------------

  /** Analyses the staging area's first `blocks` blocks (one sample per channel each), window by window. */
  private analyse(blocks: number): void {
    const channels = this.format!.channels;
    const stereo = channels === 2;
    const { samples, result } = this.kernel;
    const left = this.levels[0];
    const right = this.levels[1];
    const energy = this.energy;
    let i = STAGING_START / 2;
    let remaining = blocks;
    while (remaining > 0) {
      const take = Math.min(remaining, this.windowSamples - this.inWindow);
      const end = i + take * channels;
      this.kernel.measure(i, end, channels);
      energy[LEFT_LEVEL] += result[0];
      if (result[2] > left.peakSquare) left.peakSquare = result[2];
      // Full scale is rare: only then are the samples counted one by one.
      if (result[2] >= CLIP_SQUARE) left.clipped += countClipped(samples, i, end, channels);
      if (stereo) {
        energy[CUSTOMER_WINDOW] += result[0];
        energy[ASSISTANT_WINDOW] += result[1];
        energy[RIGHT_LEVEL] += result[1];
        if (result[3] > right.peakSquare) right.peakSquare = result[3];
        if (result[3] >= CLIP_SQUARE) right.clipped += countClipped(samples, i + 1, end, 2);
      }
      i = end;
      this.inWindow += take;
      this.samples += take;
      remaining -= take;
      if (this.inWindow === this.windowSamples) this.closeWindow(stereo);
    }
  }

  private closeWindow(stereo: boolean): void {
    const energy = this.energy;
    if (stereo) {
      const startMs = this.streamMsAt(this.samples - this.inWindow);
      const endMs = this.streamMsAt(this.samples);
      // Both parties are judged on this window before either acts, so simultaneous onsets see each other.
      this.customerVoice.window(energy[CUSTOMER_WINDOW] / this.inWindow, startMs, endMs);
      this.assistantVoice.window(energy[ASSISTANT_WINDOW] / this.inWindow, startMs, endMs);
      energy[CUSTOMER_WINDOW] = 0;
      energy[ASSISTANT_WINDOW] = 0;
    }
    this.inWindow = 0;
    if (++this.windowsInLevel === LEVEL_WINDOWS) {
      const samples = this.windowSamples * LEVEL_WINDOWS;
      for (let channel = 0; channel < 2; channel++) {
        const level = this.levels[channel];
        const sum = energy[LEFT_LEVEL + channel];
        level.last = { rmsDbfs: dbfs(Math.sqrt(sum / samples)), peakDbfs: dbfs(Math.sqrt(level.peakSquare)), clippedSamples: level.clipped };
        energy[LEFT_LEVEL + channel] = 0;
        level.peakSquare = 0;
      }
      this.windowsInLevel = 0;
    }
  }

  /** Stream time (ms) of everything analysed. */
  private streamMs(): number {
    return this.streamMsAt(this.samples);
  }

  private streamMsAt(samples: number): number {
    return this.earlierStreamMs + (this.format ? (samples / this.format.sampleRate) * 1000 : 0);
  }
}

function isUsableFormat(format: AnalyzerFormat): boolean {
  return Number.isInteger(format.sampleRate) && format.sampleRate >= 1000 && format.sampleRate <= 384_000 && (format.channels === 1 || format.channels === 2);
}

/** A plausible epoch-ms time, or undefined. */
function epochMs(value: unknown): number | undefined {
  return typeof value === 'number' && value >= 0 && value <= LATEST_EPOCH_MS ? value : undefined;
}

function newLevel(): ChannelLevel {
  return { peakSquare: 0, clipped: 0, last: { rmsDbfs: SILENCE_DBFS, peakDbfs: SILENCE_DBFS, clippedSamples: 0 } };
}

function dbfs(amplitude: number): number {
  if (!(amplitude > 0)) return SILENCE_DBFS;
  return plus0(Math.min(0, Math.max(SILENCE_DBFS, Math.round(20 * Math.log10(amplitude / FULL_SCALE) * 10) / 10)));
}

/** Full-scale samples among view[from, end), every `step`th (one channel of interleaved stereo: 2). */
function countClipped(view: Int16Array, from: number, end: number, step: number): number {
  let count = 0;
  for (let k = from; k < end; k += step) if (view[k] >= CLIP || view[k] <= -CLIP) count++;
  return count;
}
