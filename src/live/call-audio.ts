/**
 * The audio side of one listener: the stream's format, the bytes received and where each connection's stream
 * ended, what goes to the WAV, and the analysis, whose metrics degrade alone to a stated error when they cannot
 * be computed (they never take the transcript down).
 *
 * Audio continues in the same WAV across reconnections with no silence inserted for the gap: bytes on disk =
 * bytes received, except that a connection ending mid-sample gets its torn block zero-completed so the channels
 * stay aligned. A reconnection announcing a different format stops audio saving (the file keeps its format) while
 * the transcript goes on.
 */
import type { Logger } from '../log.js';
import type { AudioFormat } from '../vapi/schemas.js';
import { CallAudioAnalyzer, type AudioReading } from './audio-analysis.js';
import type { CallRecording } from './recording.js';

export type FormatSource = 'start-frame' | 'default';

export interface CallAudioOptions {
  callId: string;
  recording: CallRecording;
  logger: Logger;
  /** Default true: measure levels and voice-quality metrics. */
  analysis?: boolean;
  /** Builds the analyzer (tests inject one that fails, to see the metrics degrade alone). */
  createAnalyzer?: (options: { enabled: boolean }) => CallAudioAnalyzer;
  /** Something visible changed (format, saving stopped). */
  onChange: () => void;
  /** Adds a line to the call's event log. */
  record: (record: object) => void;
}

export class CallAudio {
  format: (AudioFormat & { source: FormatSource }) | undefined;
  /** Audio bytes received over every connection. */
  bytes = 0;
  /** Why audio stopped being saved while listening went on (format change). */
  stoppedReason: string | undefined;
  /** Zero bytes inserted where a connection ended mid-sample (see endOfConnection). */
  private alignmentPadding = 0;
  private readonly analyzer: CallAudioAnalyzer;
  private failure: string | undefined;

  constructor(private readonly options: CallAudioOptions) {
    const enabled = options.analysis !== false;
    this.analyzer = options.createAnalyzer?.({ enabled }) ?? new CallAudioAnalyzer({ enabled });
  }

  /** The WAV data offset an event arriving now sits at: bytes received plus alignment padding. */
  get offset(): number {
    return this.bytes + this.alignmentPadding;
  }

  /** Seconds of audio received, in the stream's format. */
  get durationSeconds(): number {
    const byteRate = this.format ? this.format.sampleRate * this.format.channels * 2 : 0;
    return byteRate > 0 ? Math.round((this.bytes / byteRate) * 10) / 10 : 0;
  }

  setFormat(format: AudioFormat, source: FormatSource): void {
    const receivedAt = Date.now();
    this.analyzer.setFormat(format);
    if (this.format === undefined) {
      this.format = { sampleRate: format.sampleRate, channels: format.channels, source };
      this.options.record({ receivedAt, meta: 'format', sampleRate: format.sampleRate, channels: format.channels, source });
      this.options.recording.startAudio(format);
      this.options.onChange();
      return;
    }
    if (format.sampleRate === this.format.sampleRate && format.channels === this.format.channels) return;
    this.options.record({ receivedAt, meta: 'format-changed', sampleRate: format.sampleRate, channels: format.channels, source });
    if (this.stoppedReason === undefined && this.options.recording.savingAudio) {
      this.stoppedReason =
        `the stream switched from ${describeFormat(this.format)} to ${describeFormat(format)} after reconnecting; ` +
        'audio after that point is not saved (the transcript continues)';
      this.options.logger.warn('listen audio format changed; audio saving stopped', {
        callId: this.options.callId,
        from: describeFormat(this.format),
        to: describeFormat(format),
      });
      this.options.onChange();
    }
  }

  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.analyzer.audio(chunk);
    if (this.stoppedReason === undefined) this.options.recording.writeAudio(chunk);
  }

  /** Speech-update timings drive the metrics of mono streams. */
  event(event: { type?: unknown; status?: unknown; role?: unknown; timestamp?: unknown }, receivedAt: number): void {
    this.analyzer.event(event, receivedAt);
  }

  /**
   * A connection ended. It can end mid-sample (frames may split samples) while the next one starts on a sample
   * boundary, so the torn block is completed with zeros; otherwise every later sample would be shifted and the
   * channels garbled. Returns the padding added: the only place (besides the close padding) where the file
   * differs from the bytes received, by less than one block per connection.
   */
  endOfConnection(): number {
    this.analyzer.endOfConnection();
    if (this.format === undefined) return 0;
    const blockAlign = this.format.channels * 2;
    const partial = this.offset % blockAlign;
    if (partial === 0) return 0;
    const padding = blockAlign - partial;
    this.alignmentPadding += padding;
    if (this.stoppedReason === undefined) this.options.recording.padAudioToBlock();
    return padding;
  }

  /** The metrics, or a stated error when they cannot be computed (logged once per call). */
  reading(): AudioReading {
    try {
      const metrics = this.analyzer.metrics();
      const bad = firstNonFinite(metrics);
      if (bad !== undefined) throw new Error(`${bad} is not a finite number`);
      return metrics;
    } catch (err) {
      return this.failed(err);
    }
  }

  /** One line for humans: the metrics so far, or why they are unavailable. */
  summaryLine(): string {
    const reading = this.reading();
    if (reading.source === 'error') return `Audio: ${reading.reason}`;
    try {
      return this.analyzer.summaryLine();
    } catch (err) {
      return `Audio: ${this.failed(err).reason}`;
    }
  }

  private failed(err: unknown): { source: 'error'; reason: string } {
    const detail = err instanceof Error ? err.message : String(err);
    if (this.failure === undefined) {
      this.failure = detail;
      this.options.logger.error('audio metrics could not be computed; the transcript is unaffected', { callId: this.options.callId, error: detail });
    }
    return { source: 'error', reason: `the audio metrics could not be computed (${detail}); the transcript and recording are unaffected` };
  }
}

function describeFormat(format: AudioFormat): string {
  return `${format.sampleRate} Hz / ${format.channels} ch`;
}

/** The path of the first number in `value` that is NaN or infinite (JSON would turn it into null). */
function firstNonFinite(value: unknown, path = 'audio'): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const bad = firstNonFinite(inner, `${path}.${key}`);
    if (bad !== undefined) return bad;
  }
  return undefined;
}
