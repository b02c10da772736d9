/**
 * Voice activity of one party from its channel's energy per 10 ms window, told to the call's turn-taking.
 *
 * Each window's mean square is compared with a noise floor that follows the line (quickly down, slowly up, only
 * outside speech so speech never raises it), with hysteresis: speech starts after two windows above floor + 12 dB
 * and ends after 250 ms below floor + 6 dB (and never below -50 dBFS). The first 200 ms only learn the floor (their
 * quietest window): a hissy line is not speech. Timestamps are those of the first and last voiced window, so the
 * hangover delays when an end is known but not where it is placed. Exact digital silence is a floor of 0, which
 * the absolute threshold covers.
 */
import { DOUBLE_ZERO, type Party, type TurnTaking } from './turn-taking.js';

const ONSET_WINDOWS = 2;
const HANGOVER_WINDOWS = 25;
const START_RATIO = 10 ** (12 / 10);
const STOP_RATIO = 10 ** (6 / 10);
const FULL_SCALE = 32768;
/** Mean square below which nothing counts as speech whatever the floor (-50 dBFS). */
const ABSOLUTE_START_POWER = (FULL_SCALE * 10 ** (-50 / 20)) ** 2;
const WARMUP_WINDOWS = 20;
const FLOOR_FALL = 0.3;
const FLOOR_RISE = 0.02;

export class VoiceActivity {
  private floor = DOUBLE_ZERO;
  private voicedRun = 0;
  private silentRun = 0;
  private windows = 0;
  /** Start (ms) of the first window of a pending onset run. */
  private pendingStart = DOUBLE_ZERO;

  constructor(
    private readonly party: Party,
    private readonly turns: TurnTaking,
  ) {}

  /** One 10 ms window of this party's channel: its mean square and where it lies on the stream (ms). */
  window(power: number, startMs: number, endMs: number): void {
    if (this.windows < WARMUP_WINDOWS) {
      this.floor = this.windows++ === 0 ? power : Math.min(this.floor, power);
      return;
    }
    const turns = this.turns;
    const startThreshold = Math.max(this.floor * START_RATIO, ABSOLUTE_START_POWER);
    const stopThreshold = Math.max(this.floor * STOP_RATIO, ABSOLUTE_START_POWER / 2);
    if (turns.isTalking(this.party)) {
      if (power >= stopThreshold) {
        turns.voicedUntil(this.party, endMs);
        this.silentRun = 0;
      } else {
        this.followFloor(power);
        if (++this.silentRun >= HANGOVER_WINDOWS) this.stopTalking(turns.lastVoicedEnd(this.party));
      }
      return;
    }
    this.silentRun = 0;
    if (power >= startThreshold) {
      if (this.voicedRun === 0) this.pendingStart = startMs;
      if (++this.voicedRun >= ONSET_WINDOWS) {
        this.voicedRun = 0;
        turns.start(this.party, this.pendingStart);
        turns.voicedUntil(this.party, endMs);
      }
    } else {
      this.voicedRun = 0;
      this.followFloor(power);
    }
  }

  private stopTalking(atMs: number): void {
    this.turns.stop(this.party, atMs);
    this.voicedRun = 0;
    this.silentRun = 0;
  }

  private followFloor(power: number): void {
    this.floor += (power - this.floor) * (power < this.floor ? FLOOR_FALL : FLOOR_RISE);
  }
}
