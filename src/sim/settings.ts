/** The simulator's options, checked and completed with their defaults. */
import { silentSimLogger, type SimLogger } from './wire.js';
import { DEFAULT_CHANNELS, DEFAULT_SAMPLE_RATE, defaultFrameBytes, isSupportedSampleRate, type PcmFormat } from './audio.js';
import type { ListenStreamOptions } from './listen.js';
import { freshSeed } from './random.js';
import { DEFAULT_SCRIPT } from './script.js';
import { DEFAULT_SIM_API_KEY, DEFAULT_SIM_PUBLIC_KEY, type ScriptTurn, type SimulatorOptions } from './types.js';

export interface Settings {
  apiKey: string;
  publicKey: string;
  host: string;
  port: number;
  speed: number;
  seed: number;
  script: readonly ScriptTurn[];
  usesDefaultScript: boolean;
  hangupAfterScript: boolean;
  ringMs: number;
  answerMs: number;
  waitForListener: boolean;
  stream: ListenStreamOptions;
  strict: boolean;
  logger: SimLogger;
  onEvent?: SimulatorOptions['onEvent'];
  noiseFloorDbfs?: number;
}

export function resolveSettings(options: SimulatorOptions): Settings {
  const speed = options.speed ?? 1;
  if (!Number.isFinite(speed) || speed <= 0) throw new RangeError('speed must be a positive number');
  const ringMs = nonNegative(options.ringMs ?? 1000, 'ringMs');
  const answerMs = nonNegative(options.answerMs ?? 3000, 'answerMs');
  const format: PcmFormat = {
    sampleRate: options.listen?.sampleRate ?? DEFAULT_SAMPLE_RATE,
    channels: options.listen?.channels ?? DEFAULT_CHANNELS,
  };
  if (!isSupportedSampleRate(format.sampleRate)) {
    throw new RangeError('listen.sampleRate must be an integer multiple of 4 between 8000 and 48000');
  }
  if (format.channels !== 1 && format.channels !== 2) throw new RangeError('listen.channels must be 1 or 2');
  const frameOption = options.listen?.frameBytes ?? defaultFrameBytes(format);
  const frameSizes = Array.isArray(frameOption) ? [...frameOption] : [frameOption];
  if (frameSizes.length === 0 || frameSizes.some((size) => !Number.isInteger(size) || size <= 0)) {
    throw new RangeError('listen.frameBytes must be positive integers');
  }
  const noiseFloorDbfs = options.listen?.noiseFloorDbfs;
  if (noiseFloorDbfs !== undefined && !(Number.isFinite(noiseFloorDbfs) && noiseFloorDbfs <= -20)) {
    throw new RangeError('listen.noiseFloorDbfs must be a number of dBFS at or below -20');
  }
  const frames = options.listen?.frames ?? 'continuous';
  if (frames !== 'continuous' && frames !== 'while-speaking') throw new RangeError("listen.frames must be 'continuous' or 'while-speaking'");
  const stalls = options.listen?.stalls;
  if (stalls !== undefined && !(stalls.everyMs > stalls.holdMs && stalls.holdMs > 0 && Number.isFinite(stalls.everyMs))) {
    throw new RangeError('listen.stalls needs 0 < holdMs < everyMs (finite call-time milliseconds)');
  }
  for (const turn of options.script ?? []) {
    if ((turn.role !== 'customer' && turn.role !== 'assistant') || typeof turn.text !== 'string') {
      throw new RangeError('script turns need a role of customer or assistant and a text');
    }
  }
  return {
    apiKey: options.apiKey ?? DEFAULT_SIM_API_KEY,
    publicKey: options.publicKey ?? DEFAULT_SIM_PUBLIC_KEY,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    speed,
    seed: options.seed ?? freshSeed(),
    script: options.script ? options.script.map((turn) => ({ ...turn })) : DEFAULT_SCRIPT,
    usesDefaultScript: options.script === undefined,
    hangupAfterScript: options.hangupAfterScript ?? true,
    ringMs,
    answerMs,
    waitForListener: options.waitForListener ?? false,
    stream: {
      format,
      startFrame: options.listen?.startFrame ?? true,
      wrapEvents: options.listen?.wrapEvents ?? false,
      frameSizes,
      frames,
      ...(stalls && { stalls: { everyMs: stalls.everyMs, holdMs: stalls.holdMs } }),
      speechUpdateTurn: options.listen?.speechUpdateTurn ?? true,
    },
    noiseFloorDbfs,
    strict: options.strict ?? false,
    logger: options.logger ?? silentSimLogger,
    onEvent: options.onEvent,
  };
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}
