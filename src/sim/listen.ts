/** One listen WebSocket: paces audio frames out of the call's signal and relays the call's JSON events. */
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { WebSocket } from 'ws';
import type { ActiveParties, PcmFormat, ToneSource } from './audio.js';
import { blockAlign } from './audio.js';
import { faultBody, type NestErrorBody } from './errors.js';

export interface ListenStreamOptions {
  format: PcmFormat;
  startFrame: boolean;
  wrapEvents: boolean;
  frameSizes: number[];
}

export class ListenConnection {
  private frame: Buffer | null = null;
  private fill = 0;
  private sizeIndex = 0;
  /** Stream bytes rendered so far, including those waiting in the unfinished frame. */
  private rendered = 0;
  private readonly block: number;

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
        this.sendBinary(this.frame);
        this.frame = null;
        this.sizeIndex = (this.sizeIndex + 1) % this.options.frameSizes.length;
      }
    }
  }

  /** Sends the unfinished frame as it is, so the stream ends exactly where the call did. */
  flushPartialFrame(): void {
    if (this.frame && this.fill > 0) this.sendBinary(this.frame.subarray(0, this.fill));
    this.frame = null;
    this.fill = 0;
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
