/**
 * One listen WebSocket: paces audio frames out of the call's signal and relays the call's JSON events.
 *
 * Wire conditions (ListenOptions): frames may flow all the time or only while a party is audible (the silent
 * stretches are skipped, not sent); and the stream may stall every `everyMs` of call time for `holdMs`, the
 * frames of the stall then all going out at once, as after a network hiccup. JSON events are never held back.
 */
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { WebSocket } from 'ws';
import type { ActiveParties, PcmFormat, ToneSource } from './audio.js';
import { blockAlign } from './audio.js';
import { faultBody, type NestErrorBody } from './errors.js';

export type FramePacing = 'continuous' | 'while-speaking';

export interface StallPlan {
  everyMs: number;
  holdMs: number;
}

export interface ListenStreamOptions {
  format: PcmFormat;
  startFrame: boolean;
  wrapEvents: boolean;
  frameSizes: number[];
  frames: FramePacing;
  stalls?: StallPlan;
  speechUpdateTurn: boolean;
}

const NOT_STALLED = -1;

export class ListenConnection {
  private frame: Buffer | null = null;
  private fill = 0;
  private sizeIndex = 0;
  /** Stream bytes rendered so far, including those waiting in the unfinished frame. */
  private rendered = 0;
  private readonly block: number;
  /** Finished frames held back by the current stall, and which stall (its index since answer) holds them. */
  private held: Buffer[] = [];
  private heldStall = NOT_STALLED;

  constructor(
    readonly ws: WebSocket,
    /** First sample (since answer) this connection hears. */
    private readonly joinSample: number,
    private readonly options: ListenStreamOptions,
    private readonly countBytes: (bytes: number) => void,
  ) {
    this.block = blockAlign(options.format);
    if (options.startFrame) {
      const { sampleRate, channels } = options.format;
      this.sendText(JSON.stringify({ type: 'start', encoding: 'linear16', container: 'raw', sampleRate, channels }));
    }
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Renders and sends every whole frame of audio up to `sampleEnd` (samples since answer). */
  pump(sampleEnd: number, source: ToneSource, active: ActiveParties): void {
    const available = Math.max(0, sampleEnd - this.joinSample) * this.block;
    const streamStart = this.joinSample * this.block;
    if (this.options.frames === 'while-speaking' && !active.customer && !active.assistant && this.rendered < available) {
      // Nobody audible: the stretch is skipped; what was rendered of the last frame goes out as a short frame.
      this.finishFrame();
      this.rendered = available;
    }
    while (this.rendered < available) {
      if (!this.frame) {
        this.frame = Buffer.allocUnsafe(this.options.frameSizes[this.sizeIndex]);
        this.fill = 0;
      }
      const take = Math.min(this.frame.length - this.fill, available - this.rendered);
      source.render(this.frame, this.fill, streamStart + this.rendered, take, active);
      this.fill += take;
      this.rendered += take;
      if (this.fill === this.frame.length) {
        this.deliver(this.frame, this.joinSample + this.rendered / this.block);
        this.frame = null;
        this.sizeIndex = (this.sizeIndex + 1) % this.options.frameSizes.length;
      }
    }
    if (this.held.length > 0 && this.stallAt(sampleEnd) !== this.heldStall) this.releaseHeld();
  }

  /** Sends what is held and the unfinished frame as it is, so the stream ends exactly where the call did. */
  flushPartialFrame(): void {
    this.releaseHeld();
    if (this.frame && this.fill > 0) this.sendBinary(this.frame.subarray(0, this.fill));
    this.frame = null;
    this.fill = 0;
  }

  private finishFrame(): void {
    if (this.frame && this.fill > 0) this.deliver(this.frame.subarray(0, this.fill), this.joinSample + this.rendered / this.block);
    this.frame = null;
    this.fill = 0;
  }

  /** Sends a finished frame that ends at `endSample` (since answer), or holds it while the stream is stalled. */
  private deliver(frame: Buffer, endSample: number): void {
    const stall = this.stallAt(endSample);
    if (this.held.length > 0 && stall !== this.heldStall) this.releaseHeld();
    if (stall === NOT_STALLED) {
      this.sendBinary(frame);
    } else {
      this.heldStall = stall;
      this.held.push(frame);
    }
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    this.heldStall = NOT_STALLED;
    for (const frame of held) this.sendBinary(frame);
  }

  /** Which stall (1, 2, …) covers this point of the call, or NOT_STALLED. Stall k spans [k·every, k·every + hold). */
  private stallAt(sample: number): number {
    const stalls = this.options.stalls;
    if (!stalls) return NOT_STALLED;
    const ms = (sample * 1000) / this.options.format.sampleRate;
    const index = Math.floor(ms / stalls.everyMs);
    return index >= 1 && ms - index * stalls.everyMs < stalls.holdMs ? index : NOT_STALLED;
  }

  sendEvent(event: object): void {
    this.sendText(JSON.stringify(this.options.wrapEvents ? { message: event } : event));
  }

  sendText(text: string): void {
    if (this.open) this.ws.send(text);
  }

  sendBinary(data: Buffer): void {
    if (!this.open) return;
    this.ws.send(data, { binary: true });
    this.countBytes(data.length);
  }
}

/** Answers a WebSocket handshake with a plain HTTP error, as a proxy or the API would. */
export function rejectUpgrade(socket: Duplex, status: number, body: NestErrorBody = faultBody(status)): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}
