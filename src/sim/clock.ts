/**
 * Scaled time. "Call time" runs `speed` times faster than the wall clock. Everything that happens in a call is a
 * discrete event on one queue, processed in call-time order at the exact time it was scheduled for, however
 * late the wall-clock tick that processes it. That keeps event order and audio byte-exact from run to run.
 */
import type { SimLogger } from './wire.js';

/** Wall interval of the pacing tick; at speed 100 one tick covers one second of call time. */
const TICK_WALL_MS = 10;

export class SimClock {
  private readonly startPerf = performance.now();
  private readonly startEpoch = Date.now();

  constructor(readonly speed: number) {}

  /** Call-time milliseconds since the simulator started. */
  now(): number {
    return (performance.now() - this.startPerf) * this.speed;
  }

  /** The epoch milliseconds that a call time stands for. */
  epochMs(callTime: number): number {
    return Math.round(this.startEpoch + callTime);
  }

  callTimeOfEpoch(epochMs: number): number {
    return epochMs - this.startEpoch;
  }

  iso(callTime: number): string {
    return new Date(this.epochMs(callTime)).toISOString();
  }
}

export interface Timer {
  cancel(): void;
}

interface Entry {
  time: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface SchedulerHooks {
  /** Runs after every advance (tick or external input), e.g. to push audio that is now due. */
  afterAdvance(): void;
  /** True while something other than queued events needs ticks (e.g. open listen sockets). */
  hasOtherWork(): boolean;
}

export class Scheduler {
  private queue: Entry[] = [];
  private seq = 0;
  private current = 0;
  private processing = false;
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly clock: SimClock,
    private readonly hooks: SchedulerHooks,
    private readonly logger: SimLogger,
  ) {}

  /** The simulated present: the time of the event being processed, or of the last advance. */
  get now(): number {
    return this.current;
  }

  at(time: number, fn: () => void): Timer {
    const entry: Entry = { time: Math.max(time, this.current), seq: this.seq++, fn, cancelled: false };
    let index = this.queue.length;
    while (index > 0 && this.queue[index - 1].time > entry.time) index--;
    this.queue.splice(index, 0, entry);
    this.ensureTicking();
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        const position = this.queue.indexOf(entry);
        if (position >= 0) this.queue.splice(position, 1);
      },
    };
  }

  after(delayMs: number, fn: () => void): Timer {
    return this.at(this.current + Math.max(0, delayMs), fn);
  }

  /** Processes everything due by the wall clock; call before acting on any outside input. */
  sync(): void {
    if (this.processing || this.closed) return;
    this.processing = true;
    try {
      const target = this.clock.now();
      while (this.queue.length > 0 && this.queue[0].time <= target) {
        const entry = this.queue.shift()!;
        this.current = Math.max(this.current, entry.time);
        try {
          entry.fn();
        } catch (error) {
          this.logger.error('simulator event failed', { error });
        }
      }
      this.current = Math.max(this.current, target);
      this.hooks.afterAdvance();
    } finally {
      this.processing = false;
    }
    this.ensureTicking();
  }

  /** Starts the tick if there is work (call after adding listeners). */
  ensureTicking(): void {
    if (this.closed) return;
    const busy = this.queue.length > 0 || this.hooks.hasOtherWork();
    if (busy && !this.ticker) {
      this.ticker = setInterval(() => this.sync(), TICK_WALL_MS);
    } else if (!busy && this.ticker && !this.processing) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
