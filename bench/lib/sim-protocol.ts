/** Messages between the driver and the simulator host child (bench/children/sim-host.ts) over Node IPC. */

export interface SimHostSettings {
  /** Call time runs this many times faster than the wall clock. */
  speed: number;
  seed: number;
  ringMs: number;
  answerMs: number;
  /** The default appointment dialogue, repeated this many times, so calls keep talking for the whole step. */
  scriptRepeats: number;
}

export type SimRequest =
  | { cmd: 'now' }
  | { cmd: 'bytes'; callIds: string[] }
  | { cmd: 'hangup'; callIds: string[] }
  | { cmd: 'listeners'; callIds: string[] }
  | { cmd: 'emissions' }
  | { cmd: 'close' };

/** Per call: wall-clock times (sim host clock) at which each transcript event was handed to the listen socket. */
export interface Emissions {
  transcripts: Record<string, number[]>;
  /** Events of any type delivered to at least one listener, per call, by type. */
  counts: Record<string, Record<string, number>>;
}

export type SimReplyValue = number | Record<string, number> | Emissions | null;

export interface SimReady {
  type: 'ready';
  baseUrl: string;
  apiKey: string;
}

export interface SimReply {
  type: 'reply';
  id: number;
  value?: SimReplyValue;
  error?: string;
}
