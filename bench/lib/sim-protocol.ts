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

/** The capacity section's load generator (bench/children/load-gen.ts): one captured call replayed to every call. */
export interface LoadGenSettings {
  seed: number;
  /** Length of the simulator call captured and replayed (looped when a call lasts longer). */
  captureMinutes: number;
  /** One timer tick for all calls: every socket gets what fell due since the last tick in one write. */
  tickMs: number;
}

/** A call opened without REST (the least-work listener's ramp): its id and listen URL. */
export interface OpenedCall {
  callId: string;
  url: string;
}

export type SimRequest =
  | { cmd: 'now' }
  | { cmd: 'bytes'; callIds: string[] }
  | { cmd: 'hangup'; callIds: string[] }
  | { cmd: 'listeners'; callIds: string[] }
  | { cmd: 'opens'; callIds: string[] }
  | { cmd: 'emissions' }
  | { cmd: 'open'; count: number }
  | { cmd: 'close' };

/** Per call: wall-clock times (sim host clock) at which each transcript event was handed to the listen socket. */
export interface Emissions {
  transcripts: Record<string, number[]>;
  /** Events of any type delivered to at least one listener, per call, by type. */
  counts: Record<string, Record<string, number>>;
}

export type SimReplyValue = number | Record<string, number> | Record<string, number[]> | Emissions | OpenedCall[] | null;

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

/** In a load child (simulator host, load generator): answers the driver's requests with `handle`. */
export function serveDriver(handle: (request: SimRequest) => SimReplyValue | Promise<SimReplyValue>): void {
  // The driver may be gone (interrupted): then there is no one to answer.
  const reply = (message: SimReply) => process.connected && process.send?.(message);
  process.on('message', (message: SimRequest & { id: number }) => {
    Promise.resolve()
      .then(() => handle(message))
      .then(
        (value) => reply({ type: 'reply', id: message.id, value }),
        (error: unknown) => reply({ type: 'reply', id: message.id, error: String(error) }),
      );
  });
}
