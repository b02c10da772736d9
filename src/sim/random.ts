/** A small seeded PRNG (mulberry32) so every id, pause and word of a simulated call is reproducible. */
import { randomBytes } from 'node:crypto';

export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = normaliseSeed(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += this.int(16).toString(16);
    return out;
  }

  /** A version-4-shaped uuid. */
  uuid(): string {
    const variant = (8 + this.int(4)).toString(16);
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }

  /**
   * A UUIDv7 (RFC 9562), as Vapi mints call ids: the first 48 bits are `epochMs`, then the version, 12 random
   * bits, the variant and 62 random bits.
   */
  uuidV7(epochMs: number): string {
    if (!Number.isInteger(epochMs) || epochMs < 0 || epochMs >= 2 ** 48) throw new RangeError('uuidV7: epochMs out of range');
    const time = epochMs.toString(16).padStart(12, '0');
    const variant = (8 + this.int(4)).toString(16);
    return `${time.slice(0, 8)}-${time.slice(8)}-7${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }

  /** An independent stream derived from this seed and a label, unaffected by how much this one was used. */
  static derive(seed: number, label: number): SeededRandom {
    return new SeededRandom(splitMix32(normaliseSeed(seed) ^ Math.imul(label + 1, 0x9e3779b9)));
  }
}

/** A seed for when none is given, so separate runs do not reuse call ids. */
export function freshSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

function normaliseSeed(seed: number): number {
  return Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
}

function splitMix32(value: number): number {
  let z = (value + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}
