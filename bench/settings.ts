/** What one run measures, and how hard: the full run (about 6-8 minutes on 2 cores) and the quick one (CI). */

export type Section = 'capacity' | 'duration' | 'baseline' | 'startup' | 'overhead' | 'http' | 'cluster';
export const SECTIONS: readonly Section[] = ['capacity', 'duration', 'baseline', 'startup', 'overhead', 'http', 'cluster'];

/** Cluster mode against the in-memory default (bench/sections/cluster.ts). */
export interface ClusterSettings {
  /** Capacity steps run both ways, interleaved. */
  calls: number[];
  /** Each step's pair is run this many times (rounds over `calls`). */
  repeats: number;
  /** Calls placed on the instance that is then killed. */
  failoverCalls: number;
  /** VAPI_MCP_LEASE_MS for the failover measure. */
  leaseMs: number;
}

export interface CapacitySettings {
  /** Concurrent calls per step, ascending; past the last one the count grows by `growth` until the step is not held. */
  steps: number[];
  /** No step above this many calls (the growth's end; the last listed step when --steps is given). */
  maxCalls: number;
  growth: number;
  /** After a failure, this many bisection steps between the last held and the failed count. */
  bisect: number;
  /** Calls are started evenly over this time, so they are not in lock-step. */
  staggerMs: number;
  /** Streaming time after every call is answered and before measuring. */
  warmupMs: number;
  /** The measured window. */
  windowMs: number;
  /** Real-time criteria (see bench/README.md). */
  maxLagMs: number;
  maxLatencyP99Ms: number;
  maxCpuPercent: number;
  /** The load generator: minutes of simulator call captured and replayed to every call; its one timer's tick. */
  captureMinutes: number;
  tickMs: number;
  /** Run the ramp a second time with the audio analysis off (VAPI_AUDIO_ANALYSIS=0) to compare. */
  compareAnalysisOff: boolean;
  /**
   * With --ab: after the ramps, the two largest listed steps held by both the other build and ours without the
   * analysis are run this many more times, alternating, so the A/B pools several steps (one 12 s step's noise on
   * this machine is the size of the difference it measures).
   */
  abRepeats: number;
  /** Also ramp the least-work listener (bench/children/bytes-listener.ts) on the measured core: the physical limit. */
  leastWork: boolean;
  /**
   * Prove the load generator alone at this many calls, against a receiver that only discards
   * (bench/children/drain-sink.ts); 0: skip.
   */
  generatorProofCalls: number;
  /** Profile ours once more at its highest held step to attribute the CPU the audio analysis takes. */
  profileAnalysis: boolean;
}

export interface HttpSettings {
  /** Real-time calls, placed through the first session. */
  calls: number;
  /** Streamable HTTP sessions, each subscribed to every call's transcript. */
  sessions: number;
  staggerMs: number;
  warmupMs: number;
  windowMs: number;
  /** Access-token checks timed (OAuth's cost per request). */
  tokenChecks: number;
}

export interface BenchSettings {
  mode: 'full' | 'quick';
  /** Pin the measured process and the load generator to different cores with taskset (when available). */
  pin: boolean;
  seed: number;
  sections: Section[];
  capacity: CapacitySettings;
  duration: {
    /** Call-time minutes at which the server's RSS is sampled; the call lasts until the last one. */
    marksMinutes: number[];
    /** Simulator speed-up for this call. */
    speed: number;
    /** Also stream the call once more taking heap snapshots (live heap after GC) at the second and last marks. */
    heapSnapshots: boolean;
  };
  baseline: {
    /** Call audio lengths compared, minutes. */
    minutes: number[];
    /** Wall-time budget for one naive run; the naive pattern is quadratic, so longer runs are cut and extrapolated. */
    naiveCapMs: number;
    /** Replay pace (× real time); the replay also waits for a listener that reads slower. */
    replaySpeed: number;
  };
  startup: { runs: number };
  overhead: { warmup: number; iterations: number };
  /** Calls watched by several Streamable HTTP sessions, each subscribed to every call. */
  http: HttpSettings;
  cluster: ClusterSettings;
}

export const FULL: BenchSettings = {
  mode: 'full',
  pin: true,
  seed: 20_240_611,
  sections: [...SECTIONS],
  capacity: {
    steps: [1, 10, 50, 100, 200, 400, 800],
    maxCalls: 12_800,
    growth: 1.25,
    bisect: 3,
    staggerMs: 3_000,
    warmupMs: 3_000,
    windowMs: 12_000,
    maxLagMs: 1_000,
    maxLatencyP99Ms: 100,
    maxCpuPercent: 95,
    captureMinutes: 3,
    tickMs: 20,
    compareAnalysisOff: true,
    abRepeats: 2,
    leastWork: true,
    generatorProofCalls: 2_000,
    profileAnalysis: true,
  },
  duration: { marksMinutes: [1, 10, 30, 60], speed: 100, heapSnapshots: true },
  baseline: { minutes: [1, 10, 30], naiveCapMs: 30_000, replaySpeed: 200 },
  startup: { runs: 9 },
  overhead: { warmup: 30, iterations: 300 },
  http: { calls: 100, sessions: 10, staggerMs: 3_000, warmupMs: 3_000, windowMs: 12_000, tokenChecks: 5_000 },
  cluster: { calls: [100, 300], repeats: 3, failoverCalls: 50, leaseMs: 5_000 },
};

export const QUICK: BenchSettings = {
  mode: 'quick',
  pin: true,
  seed: 20_240_611,
  sections: [...SECTIONS],
  capacity: { ...FULL.capacity, steps: [2, 10], maxCalls: 10, bisect: 0, abRepeats: 0, staggerMs: 300, warmupMs: 1_500, windowMs: 1_500, generatorProofCalls: 20 },
  duration: { marksMinutes: [1, 3], speed: 300, heapSnapshots: false },
  baseline: { minutes: [0.25], naiveCapMs: 5_000, replaySpeed: 200 },
  startup: { runs: 2 },
  overhead: { warmup: 5, iterations: 20 },
  http: { calls: 5, sessions: 2, staggerMs: 300, warmupMs: 1_000, windowMs: 1_500, tokenChecks: 300 },
  cluster: { calls: [5], repeats: 1, failoverCalls: 3, leaseMs: 1_000 },
};
