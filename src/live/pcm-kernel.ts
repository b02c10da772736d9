/**
 * The per-sample part of the audio analysis: over a range of 16-bit PCM samples, the exact sum of squares and the
 * largest square of each channel. Two kernels compute the same figures: WebAssembly SIMD (pcm-kernel.wat, 8 samples
 * per instruction) wherever the runtime supports it, and plain JS otherwise. Each kernel has one fixed staging area
 * per process that a call copies its frame into and measures at once (frames are analysed synchronously, so calls
 * never share it across a frame); frames at any byte offset are copied the same way, and memory stays constant.
 */
import { PCM_KERNEL_BASE64 } from './pcm-kernel-bytes.js';

/** auto: WebAssembly SIMD when the runtime validates it, else JS. */
export type PcmKernelChoice = 'auto' | 'wasm' | 'js';

export interface PcmKernel {
  readonly kind: 'wasm' | 'js';
  /** The staging area: a frame goes to bytes [STAGING_START, STAGING_START + STAGING_BYTES). */
  readonly bytes: Uint8Array;
  /** The same memory as samples: sample index i is bytes 2i and 2i + 1. */
  readonly samples: Int16Array;
  /**
   * After measure(): sum of squares of channel 0 and 1, largest square of channel 0 and 1 (mono: channel 0 only,
   * channel 1's figures are 0). Exact: every figure is an integer below 2^53.
   */
  readonly result: Float64Array;
  /** Measures samples [from, end) (indexes into `samples`) of a stream of 1 or 2 interleaved channels. */
  measure(from: number, end: number, channels: number): void;
}

/** Byte offset of the staging area (results come first, in the WebAssembly memory's layout). */
export const STAGING_START = 64;
/** Bytes a frame may fill at once (16 bytes of slack follow, for the SIMD kernel's last vector). */
export const STAGING_BYTES = 65_536 - STAGING_START - 16;

let wasmKernel: PcmKernel | null | undefined;
let jsKernel: PcmKernel | undefined;

/** The kernel of this choice (wasm throws when the runtime has no WebAssembly SIMD). */
export function pcmKernel(choice: PcmKernelChoice = 'auto'): PcmKernel {
  if (choice !== 'js') {
    wasmKernel ??= loadWasmKernel();
    if (wasmKernel) return wasmKernel;
    if (choice === 'wasm') throw new Error('this runtime has no WebAssembly SIMD');
  }
  return (jsKernel ??= new JsKernel());
}

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

function loadWasmKernel(): PcmKernel | null {
  const bytes = Buffer.from(PCM_KERNEL_BASE64, 'base64');
  const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!wasm || !wasm.validate(bytes)) return null;
  try {
    const { exports } = new wasm.Instance(new wasm.Module(bytes));
    const measure = exports.measure as (start: number, end: number, mono: number) => void;
    // One page, never grown: the views stay valid.
    const buffer = (exports.memory as { buffer: ArrayBuffer }).buffer;
    return {
      kind: 'wasm',
      bytes: new Uint8Array(buffer),
      samples: new Int16Array(buffer),
      result: new Float64Array(buffer, 0, 4),
      measure: (from, end, channels) => measure(from * 2, end * 2, channels === 1 ? 1 : 0),
    };
  } catch {
    return null;
  }
}

/** The same figures in plain JS (summed in doubles, exact for integers below 2^53). */
class JsKernel implements PcmKernel {
  readonly kind = 'js';
  private readonly buffer = new ArrayBuffer(65_536);
  readonly bytes = new Uint8Array(this.buffer);
  readonly samples = new Int16Array(this.buffer);
  readonly result = new Float64Array(4);

  measure(from: number, end: number, channels: number): void {
    if (channels === 2) this.stereo(from, end);
    else this.mono(from, end);
  }

  private stereo(from: number, end: number): void {
    const view = this.samples;
    let sumC = 0;
    let sumA = 0;
    // The peak is tracked on the squares the energy needs anyway: one comparison per sample, not two.
    let peakSquareC = 0;
    let peakSquareA = 0;
    for (let i = from; i < end; i += 2) {
      const c = view[i];
      const a = view[i + 1];
      const squareC = c * c;
      const squareA = a * a;
      sumC += squareC;
      sumA += squareA;
      if (squareC > peakSquareC) peakSquareC = squareC;
      if (squareA > peakSquareA) peakSquareA = squareA;
    }
    const result = this.result;
    result[0] = sumC;
    result[1] = sumA;
    result[2] = peakSquareC;
    result[3] = peakSquareA;
  }

  private mono(from: number, end: number): void {
    const view = this.samples;
    let sum = 0;
    let peakSquare = 0;
    for (let i = from; i < end; i++) {
      const s = view[i];
      const square = s * s;
      sum += square;
      if (square > peakSquare) peakSquare = square;
    }
    const result = this.result;
    result[0] = sum;
    result[1] = 0;
    result[2] = peakSquare;
    result[3] = 0;
  }
}
