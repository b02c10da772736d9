/**
 * Client for a call's listen WebSocket (`call.monitor.listenUrl`): binary frames are raw linear16 PCM, text
 * frames are JSON events. The format is only partly documented, so every variant seen in the wild is accepted:
 * an optional `{"type":"start",…}` frame announcing the format, events bare or wrapped in `{message: …}`,
 * binary frames of any size (even ones splitting a sample), unknown event types.
 *
 * The URL is a bearer capability: it never appears in errors or logs produced here.
 */
import type WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { VapiError, vapiMessageFrom } from './errors.js';
import { DEFAULT_AUDIO_FORMAT, type AudioFormat, type ListenEvent } from './schemas.js';

export interface ListenSocketHandlers {
  /** Once per connection, before that connection's first onAudio (or when a start frame arrives). */
  onFormat(format: AudioFormat, source: 'start-frame' | 'default'): void;
  /** Every binary frame, in order, unmodified (any size, even 1 byte). The buffer must not be mutated. */
  onAudio(chunk: Buffer): void;
  /** Parsed JSON, unwrapped from `{message:{type…}}` when wrapped; unknown types are delivered too. */
  onEvent(event: ListenEvent, receivedAt: number): void;
  /** A frame that could not be used; never fatal. */
  onMalformed(reason: string): void;
  /** Exactly once per opened connection, whoever closed it. */
  onClose(info: { code: number; reason: string }): void;
}

export interface ListenSocketOptions {
  url: string;
  /** Sent as `Authorization: Bearer <publicKey>` when set (Vapi's listenAuthenticationEnabled). */
  publicKey?: string;
  handlers: ListenSocketHandlers;
  /** Handshake deadline; default 10 000 ms. */
  connectTimeoutMs?: number;
  /**
   * Largest text (JSON) frame that is parsed; larger ones are reported through onMalformed and dropped.
   * Default 4 MiB. Binary frames are audio and are always delivered whole, whatever their size: by the time a
   * frame is seen it is already in memory, and dropping it would lose audio and shift sample alignment. The
   * transport-level ceiling for any frame is MAX_FRAME_PAYLOAD_BYTES; a bigger frame makes the socket close with
   * code 1009 (reported through onMalformed, then onClose).
   */
  maxFrameBytes?: number;
  /**
   * A connection that has carried nothing (no frame, no pong) for this long is cut as dead, so the listener can
   * reconnect or confirm the end; quiet connections are pinged at half of it. Default 20 000 ms. A half-open TCP
   * connection (peer vanished without a FIN) would otherwise never be noticed.
   */
  idleTimeoutMs?: number;
}

export interface ListenSocket {
  /** Closes the connection (code 1000); onClose still fires. Safe to call more than once. */
  close(): void;
  /** Audio bytes delivered through onAudio on this connection. */
  readonly bytesReceived: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 20_000;
export const DEFAULT_MAX_TEXT_FRAME_BYTES = 4 * 1024 * 1024;
/** Hard per-frame limit enforced by the WebSocket layer, protecting memory from a runaway peer. */
export const MAX_FRAME_PAYLOAD_BYTES = 64 * 1024 * 1024;
const CLOSE_GRACE_MS = 2_000;
const MAX_ERROR_BODY_BYTES = 4_096;
const OPERATION = 'listen socket';

/** ws costs about 30 ms to load: loaded by the first connection rather than at start-up. */
let wsModule: Promise<typeof import('ws')> | undefined;
const loadWs = () => (wsModule ??= import('ws'));

export async function openListenSocket(options: ListenSocketOptions): Promise<ListenSocket> {
  const WebSocketClient = (await loadWs()).default;
  const { handlers } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const maxTextBytes = options.maxFrameBytes ?? DEFAULT_MAX_TEXT_FRAME_BYTES;

  return new Promise<ListenSocket>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocketClient(options.url, {
        headers: options.publicKey ? { Authorization: `Bearer ${options.publicKey}` } : {},
        perMessageDeflate: false,
        maxPayload: MAX_FRAME_PAYLOAD_BYTES,
        followRedirects: false,
      });
    } catch {
      // Invalid URL: the message may contain the URL, so only the kind travels.
      reject(new VapiError({ kind: 'network', operation: OPERATION, cause: new Error('invalid listen URL') }));
      return;
    }

    let settled = false;
    let opened = false;
    let closeReported = false;
    let formatAnnounced = false;
    let audioStarted = false;
    let bytesReceived = 0;
    let closeTimer: NodeJS.Timeout | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let lastHeardAt = Date.now();
    const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

    const fail = (error: VapiError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      reject(error);
      ws.terminate();
    };

    const connectTimer = setTimeout(() => fail(new VapiError({ kind: 'timeout', operation: OPERATION })), connectTimeoutMs);

    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      readSmallBody(res, (body) => {
        fail(new VapiError({ kind: 'http', operation: OPERATION, status: res.statusCode, vapiMessage: vapiMessageFrom(parseMaybeJson(body)) }));
      });
    });

    ws.on('error', (err: Error & { code?: string }) => {
      if (!opened) {
        fail(new VapiError({ kind: 'network', operation: OPERATION, cause: stripUrl(err) }));
        return;
      }
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        handlers.onMalformed(`frame larger than ${MAX_FRAME_PAYLOAD_BYTES} bytes; the connection was closed`);
      }
      // Otherwise a 'close' event follows and reports the end.
    });

    ws.on('open', () => {
      if (settled) return;
      opened = true;
      settled = true;
      clearTimeout(connectTimer);
      lastHeardAt = Date.now();
      heartbeat = setInterval(() => {
        const quietMs = Date.now() - lastHeardAt;
        if (quietMs >= idleTimeoutMs) ws.terminate(); // reported through 'close' as 1006
        else if (quietMs >= idleTimeoutMs / 2) ws.ping();
      }, idleTimeoutMs / 4);
      heartbeat.unref();
      resolve({
        close() {
          if (ws.readyState === WebSocketClient.CLOSED || ws.readyState === WebSocketClient.CLOSING) return;
          ws.close(1000);
          // A peer that never answers the close handshake must not keep the connection alive.
          closeTimer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
          closeTimer.unref();
        },
        get bytesReceived() {
          return bytesReceived;
        },
      });
    });

    ws.on('pong', () => {
      lastHeardAt = Date.now();
    });

    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(connectTimer);
      clearTimeout(closeTimer);
      clearInterval(heartbeat);
      if (!opened) {
        fail(new VapiError({ kind: 'network', operation: OPERATION }));
        return;
      }
      if (closeReported) return;
      closeReported = true;
      handlers.onClose({ code, reason: reason.toString('utf8') });
    });

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      lastHeardAt = Date.now();
      if (isBinary) {
        if (!formatAnnounced) {
          formatAnnounced = true;
          handlers.onFormat({ ...DEFAULT_AUDIO_FORMAT }, 'default');
        }
        audioStarted = true;
        bytesReceived += data.length;
        handlers.onAudio(data);
        return;
      }
      const receivedAt = Date.now();
      if (data.length > maxTextBytes) {
        handlers.onMalformed(`text frame of ${data.length} bytes exceeds the ${maxTextBytes}-byte limit; dropped`);
        return;
      }
      const parsed = parseEvent(data.toString('utf8'));
      if (typeof parsed === 'string') {
        handlers.onMalformed(parsed);
        return;
      }
      if (parsed.type === 'start') {
        if (audioStarted) {
          handlers.onMalformed('start frame after audio began; ignored');
          return;
        }
        if (formatAnnounced) {
          handlers.onMalformed('second start frame; ignored');
          return;
        }
        const format = formatFromStartFrame(parsed);
        if (typeof format === 'string') {
          handlers.onMalformed(format);
          return;
        }
        formatAnnounced = true;
        handlers.onFormat(format, 'start-frame');
      }
      handlers.onEvent(parsed, receivedAt);
    });
  });
}

/** The event carried by a text frame, or the reason it is unusable. */
export function parseEvent(text: string): ListenEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'text frame is not valid JSON';
  }
  if (!isPlainObject(value)) return 'text frame is JSON but not an object';
  const wrapped = value.message;
  if (isPlainObject(wrapped) && typeof wrapped.type === 'string') return wrapped as ListenEvent;
  if (typeof value.type === 'string') return value as ListenEvent;
  return 'JSON object without a string "type"';
}

/**
 * Format from a start frame; missing fields fall back to the default, anything unusable (non-linear16 encoding,
 * absurd rates or channel counts) makes the frame malformed so the default applies.
 */
export function formatFromStartFrame(frame: ListenEvent): AudioFormat | string {
  const encoding = frame.encoding;
  if (encoding !== undefined && encoding !== 'linear16') {
    return `start frame announces unsupported encoding ${JSON.stringify(encoding)}; assuming linear16`;
  }
  const sampleRate = frame.sampleRate === undefined ? DEFAULT_AUDIO_FORMAT.sampleRate : Number(frame.sampleRate);
  const channels = frame.channels === undefined ? DEFAULT_AUDIO_FORMAT.channels : Number(frame.channels);
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
    return `start frame has an unusable sampleRate ${JSON.stringify(frame.sampleRate)}; ignored`;
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 8) {
    return `start frame has an unusable channel count ${JSON.stringify(frame.channels)}; ignored`;
  }
  return { sampleRate, channels };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readSmallBody(res: IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).toString('utf8'));
  };
  res.on('data', (chunk: Buffer) => {
    if (size >= MAX_ERROR_BODY_BYTES) return;
    chunks.push(chunk.subarray(0, MAX_ERROR_BODY_BYTES - size));
    size += Math.min(chunk.length, MAX_ERROR_BODY_BYTES - size);
    if (size >= MAX_ERROR_BODY_BYTES) finish();
  });
  res.on('end', finish);
  res.on('close', finish);
  res.on('error', finish);
}

/** Errors from the HTTP layer can quote the request URL; keep only the code. */
function stripUrl(err: Error & { code?: string }): Error {
  return new Error(err.code ? `connection failed (${err.code})` : 'connection failed');
}
