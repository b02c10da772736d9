/**
 * The synthetic call audio: signed 16-bit little-endian PCM, interleaved, customer on channel 0 and assistant on
 * channel 1 (mono sums both). While a party speaks (and is not muted) its channel carries a sine tone whose
 * loudness swells four times a second like syllables; otherwise the channel is digital silence (all zeros), or
 * line hiss at a chosen noise floor, which is added to both channels all the time.
 *
 * Samples are a pure function of their index since the call was answered, read from one precomputed period per
 * tone, so audio is deterministic and rendering allocates nothing but the frames it sends.
 */

export const CUSTOMER_CHANNEL = 0;
export const ASSISTANT_CHANNEL = 1;
export const CUSTOMER_TONE_HZ = 440;
export const ASSISTANT_TONE_HZ = 880;
/** Peak amplitude of a speaking party's tone. */
export const TONE_PEAK_AMPLITUDE = 8000;
/** The tone's loudness swells at this rate, between ENVELOPE_FLOOR × peak and the peak. */
export const SYLLABLE_RATE_HZ = 4;
export const ENVELOPE_FLOOR = 0.55;

export const DEFAULT_SAMPLE_RATE = 16000;
export const DEFAULT_CHANNELS = 2;

export interface PcmFormat {
  sampleRate: number;
  channels: 1 | 2;
}

/** Length of the hiss table; the channels read it half a table apart, so their hiss is not identical. */
const NOISE_TABLE_LENGTH = 8191;

export interface ActiveParties {
  customer: boolean;
  assistant: boolean;
}

export function blockAlign(format: PcmFormat): number {
  return format.channels * 2;
}

/** 20 ms of audio: 1280 bytes at 16 kHz stereo. */
export function defaultFrameBytes(format: PcmFormat): number {
  return (format.sampleRate / 50) * blockAlign(format);
}

export function isSupportedSampleRate(rate: number): boolean {
  return Number.isInteger(rate) && rate >= 8000 && rate <= 48000 && rate % SYLLABLE_RATE_HZ === 0;
}

/** Whole samples elapsed `ms` after the call was answered. */
export function samplesAt(ms: number, sampleRate: number): number {
  return Math.max(0, Math.floor((ms * sampleRate) / 1000 + 1e-9));
}

export class ToneSource {
  private readonly customerTone: Int16Array;
  private readonly assistantTone: Int16Array;
  private readonly period: number;
  private readonly block: number;
  private readonly scratch: Buffer;
  private readonly noise: Int16Array | undefined;

  /** `noiseFloorDbfs`: RMS level of the hiss on each channel; undefined for digital silence. */
  constructor(
    private readonly format: PcmFormat,
    noiseFloorDbfs?: number,
  ) {
    // One syllable period holds a whole number of cycles of both tones, so the table loops seamlessly.
    this.period = format.sampleRate / SYLLABLE_RATE_HZ;
    this.customerTone = toneTable(CUSTOMER_TONE_HZ, format.sampleRate, this.period);
    this.assistantTone = toneTable(ASSISTANT_TONE_HZ, format.sampleRate, this.period);
    this.block = blockAlign(format);
    this.scratch = Buffer.alloc(this.block);
    this.noise = noiseFloorDbfs === undefined ? undefined : noiseTable(noiseFloorDbfs);
  }

  /**
   * Writes `length` bytes of the stream, starting at byte `streamByte` (counted from the first sample after
   * answer), into `out` at `outOffset`. Byte ranges need not align with samples.
   */
  render(out: Buffer, outOffset: number, streamByte: number, length: number, active: ActiveParties): void {
    if (!active.customer && !active.assistant && !this.noise) {
      out.fill(0, outOffset, outOffset + length);
      return;
    }
    const block = this.block;
    const end = streamByte + length;
    let position = streamByte;
    let offset = outOffset;
    while (position < end) {
      const sample = Math.floor(position / block);
      const inBlock = position - sample * block;
      const take = Math.min(block - inBlock, end - position);
      if (take === block) {
        this.writeBlock(out, offset, sample, active);
      } else {
        this.writeBlock(this.scratch, 0, sample, active);
        this.scratch.copy(out, offset, inBlock, inBlock + take);
      }
      position += take;
      offset += take;
    }
  }

  private writeBlock(target: Buffer, offset: number, sample: number, active: ActiveParties): void {
    const phase = sample % this.period;
    let customer = active.customer ? this.customerTone[phase] : 0;
    let assistant = active.assistant ? this.assistantTone[phase] : 0;
    if (this.noise) {
      const length = NOISE_TABLE_LENGTH;
      customer += this.noise[sample % length];
      assistant += this.noise[(sample + (length >> 1)) % length];
    }
    if (this.format.channels === 2) {
      target.writeInt16LE(clamp16(customer), offset);
      target.writeInt16LE(clamp16(assistant), offset + 2);
    } else {
      target.writeInt16LE(clamp16(customer + assistant), offset);
    }
  }
}

function toneTable(frequency: number, sampleRate: number, length: number): Int16Array {
  const table = new Int16Array(length);
  for (let n = 0; n < length; n++) {
    const swell = Math.sin((Math.PI * n) / length) ** 2;
    const envelope = ENVELOPE_FLOOR + (1 - ENVELOPE_FLOOR) * swell;
    table[n] = Math.round(TONE_PEAK_AMPLITUDE * envelope * Math.sin((2 * Math.PI * frequency * n) / sampleRate));
  }
  return table;
}

function clamp16(value: number): number {
  return Math.max(-32768, Math.min(32767, value));
}

/** Deterministic white-ish hiss with the given RMS (uniform samples: RMS = amplitude / √3). */
function noiseTable(rmsDbfs: number): Int16Array {
  const amplitude = 32768 * 10 ** (rmsDbfs / 20) * Math.sqrt(3);
  const table = new Int16Array(NOISE_TABLE_LENGTH);
  let state = 0x2545f491;
  for (let n = 0; n < table.length; n++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    table[n] = Math.round(amplitude * (((state >>> 0) / 0xffffffff) * 2 - 1));
  }
  return table;
}
