/** Public types of the Vapi simulator (re-exported from ./index.ts). */
import type { SimLogger, WireCall } from './wire.js';

/** The documented default private key the simulator accepts on REST. */
export const DEFAULT_SIM_API_KEY = 'sim-private-key-0000';
/** The default public key accepted on listen/control when monitorPlan turns their authentication on. */
export const DEFAULT_SIM_PUBLIC_KEY = 'sim-public-key-0000';

/** One scripted utterance. `pauseMs` is the silence before it, in call time. */
export interface ScriptTurn {
  role: 'customer' | 'assistant';
  text: string;
  pauseMs?: number;
  /**
   * Talk over the previous turn: start this long (call ms) after it began instead of after it ended. The party
   * talked over stops `overlapMs` later (default 600), or at its natural end if that comes first.
   */
  interruptAfterMs?: number;
  overlapMs?: number;
}

/** When a party could be heard on the audio, in ms since the call was answered (sample-exact). */
export interface SpeechInterval {
  party: 'customer' | 'assistant';
  startMs: number;
  endMs: number;
}

export interface ListenOptions {
  /** Default true: the first text frame describes the audio format. */
  startFrame?: boolean;
  /** Default false: events are sent bare; true: each event is sent as `{"message": {...}}`. */
  wrapEvents?: boolean;
  /** Default 20 ms of audio. An array cycles through the sizes (frames may split samples). */
  frameBytes?: number | number[];
  /** Default 16000. Any multiple of 4 between 8000 and 48000. */
  sampleRate?: number;
  /** Default 2 (customer left, assistant right); 1 mixes both parties. */
  channels?: 1 | 2;
  /** Line hiss on both channels at this RMS level in dBFS (for example -60); default none (digital silence). */
  noiseFloorDbfs?: number;
  /**
   * Default 'continuous': audio frames all the time, silence included. 'while-speaking': binary frames only while a
   * party is audible; while nobody is, none at all (the audio of those stretches is skipped, not delayed).
   */
  frames?: 'continuous' | 'while-speaking';
  /**
   * Network stalls, in call time since answer: from every `everyMs` on, audio frames are held back for `holdMs`
   * and then sent all at once, faster than real time (JSON events are not held). Default none.
   */
  stalls?: { everyMs: number; holdMs: number };
  /** Default true: speech-update events carry a `turn` number; false leaves it out. */
  speechUpdateTurn?: boolean;
}

export interface SimulatorOptions {
  /** The one private key accepted on REST; anything else gets 401. */
  apiKey?: string;
  /** Accepted on listen/control when `monitorPlan.*AuthenticationEnabled`. */
  publicKey?: string;
  host?: string;
  port?: number;
  /** Time compression: 1 = real time, 100 = a hundred times faster. Applies to every timer and to audio pacing. */
  speed?: number;
  /** Same seed and same inputs give the same ids, events and audio. Random when omitted. */
  seed?: number;
  /** The scripted conversation after the first message; a short appointment confirmation by default. */
  script?: ScriptTurn[];
  /** Default true: once the script has run out and nothing happens for 8 s of call time, the customer hangs up. */
  hangupAfterScript?: boolean;
  /** Call-time durations of queued → ringing and ringing → in-progress. */
  ringMs?: number;
  answerMs?: number;
  /**
   * Default false. True: a queued call starts ringing only once a listen socket is open (ringMs later), so a listener
   * hears the whole call, from its first status change, however late it connects (tests on a busy machine).
   */
  waitForListener?: boolean;
  listen?: ListenOptions;
  /** Reject a top-level `metadata` on POST /call (accepted and ignored by default). */
  strict?: boolean;
  logger?: SimLogger;
  /**
   * Observer called as each JSON event is handed to a call's listen sockets, with how many sockets it reached
   * (benchmarks time event delivery with it). It cannot change what is sent.
   */
  onEvent?: (callId: string, event: Readonly<Record<string, unknown>>, listeners: number) => void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization?: string;
  at: number;
}

export interface RecordedControl {
  callId: string;
  body: unknown;
  authorization?: string;
  at: number;
}

export type RestFaultStatus = 500 | 502 | 503 | 429;
export type MalformedKind = 'bad-json' | 'truncated-binary' | 'giant-frame' | 'unknown-event';

export interface SimulatorFaults {
  /** The next `count` REST requests fail with `status` (429 carries Retry-After when given). */
  failNext(count: number, status: RestFaultStatus, options?: { retryAfterSeconds?: number }): void;
  /** The next `count` REST responses are held back `ms` wall milliseconds (not scaled) after being processed. */
  delayNext(count: number, ms: number): void;
  /** Drops every listen socket of the call without a close frame; the call goes on. */
  dropListen(callId: string): void;
  /** Sends one malformed frame on every listen socket of the call. */
  sendMalformed(callId: string, kind: MalformedKind): void;
  /**
   * The next `count` listen handshakes fail with `status` (default 500; any 400–599) and a short JSON body, as
   * Vapi refuses upgrades (400 and 500 both seen).
   */
  rejectListenUpgrades(count: number, status?: number): void;
  /**
   * The next `count` POST /call requests that create a call (201) create it, then drop the connection without
   * answering: the call goes on and is listed by GET /call, but the client never sees its id.
   */
  dropAfterCreate(count: number): void;
}

export interface Simulator {
  readonly baseUrl: string;
  readonly port: number;
  readonly apiKey: string;
  readonly publicKey: string;
  /** Every REST request (not control or listen), in arrival order. */
  readonly requests: RecordedRequest[];
  /** Every POST to a control URL, in arrival order, accepted or not. */
  readonly controlLog: RecordedControl[];
  /** A snapshot of the server-side Call object. */
  getCall(id: string): WireCall | undefined;
  /** How many listen sockets of the call are open now (0 for an unknown or ended call). */
  listenerCount(callId: string): number;
  /** Total audio bytes sent so far on the listen socket(s) of a call, counted per connection and summed. */
  audioBytesSent(callId: string): number;
  /**
   * Ground truth for audio analysis: every interval in which a party was audible (speaking and not muted), in ms
   * since the call was answered, in order of their start; an interval still open ends at the current call time.
   */
  speechIntervals(callId: string): SpeechInterval[];
  /** The customer hangs up now (default endedReason `customer-ended-call`). */
  hangup(callId: string, endedReason?: string): void;
  readonly faults: SimulatorFaults;
  /** Stops timers, closes sockets (code 1001) and frees the port; idempotent. */
  close(): Promise<void>;
}
