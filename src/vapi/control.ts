/**
 * Live control of a running call through its `monitor.controlUrl`. A control URL is a bearer capability, so
 * it is never logged or put in an error; messages are sent exactly once because none of them is idempotent.
 * This client never holds the private API key: only the optional public key goes to control URLs.
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../log.js';
import { DEFAULT_USER_AGENT, sendHttp } from './http.js';
import type { RequestOptions } from './rest.js';
import { isCallId, type ControlAction, type ControlMessage, type TransferDestination } from './schemas.js';

const DEFAULT_TIMEOUT_MS = 10000;

export interface ControlClientOptions {
  /** Sent as `Authorization: Bearer <publicKey>` when the call has control authentication enabled. */
  publicKey?: string;
  dispatcher?: Dispatcher;
  /** Default 10000. */
  timeoutMs?: number;
  logger?: Logger;
}

/** Thrown before any request when a control URL is not an http(s) URL; the message never repeats the URL. */
export class InvalidControlUrlError extends Error {
  constructor() {
    super('Invalid control URL: expected the http(s) URL from call.monitor.controlUrl');
    this.name = 'InvalidControlUrlError';
  }
}

export class VapiControlClient {
  private readonly publicKey?: string;
  private readonly dispatcher?: Dispatcher;
  private readonly timeoutMs: number;
  private readonly logger?: Logger;

  constructor(options: ControlClientOptions = {}) {
    this.publicKey = options.publicKey || undefined;
    this.dispatcher = options.dispatcher;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.logger = options.logger;
  }

  /**
   * One POST of the bare message to the call's monitor.controlUrl. Never retried (control messages are not
   * idempotent). Any 2xx is success; returns the parsed body if JSON, else the text, else undefined.
   */
  async send(controlUrl: string, message: ControlMessage, options?: RequestOptions): Promise<unknown> {
    const url = parseControlUrl(controlUrl);
    const callId = callIdFromControlUrl(url);
    const headers: Record<string, string> = { 'user-agent': DEFAULT_USER_AGENT };
    if (this.publicKey) headers.authorization = `Bearer ${this.publicKey}`;
    const response = await sendHttp({
      method: 'POST',
      url: url.href,
      operation: `control ${message.type}`,
      logFields: callId ? { callId } : undefined,
      headers,
      body: message,
      timeoutMs: this.timeoutMs,
      signal: options?.signal,
      dispatcher: this.dispatcher,
      logger: this.logger,
      secrets: [this.publicKey, controlUrl, url.href],
    });
    return response.body;
  }

  say(
    controlUrl: string,
    say: { content: string; endCallAfterSpoken?: boolean; interruptAssistantEnabled?: boolean },
    options?: RequestOptions,
  ): Promise<unknown> {
    const message: ControlMessage = { type: 'say', content: say.content };
    if (say.endCallAfterSpoken !== undefined) message.endCallAfterSpoken = say.endCallAfterSpoken;
    if (say.interruptAssistantEnabled !== undefined) message.interruptAssistantEnabled = say.interruptAssistantEnabled;
    return this.send(controlUrl, message, options);
  }

  addMessage(
    controlUrl: string,
    message: { role: string; content: string },
    triggerResponseEnabled: boolean,
    options?: RequestOptions,
  ): Promise<unknown> {
    return this.send(
      controlUrl,
      { type: 'add-message', message: { role: message.role, content: message.content }, triggerResponseEnabled },
      options,
    );
  }

  control(controlUrl: string, action: ControlAction, options?: RequestOptions): Promise<unknown> {
    return this.send(controlUrl, { type: 'control', control: action }, options);
  }

  endCall(controlUrl: string, options?: RequestOptions): Promise<unknown> {
    return this.send(controlUrl, { type: 'end-call' }, options);
  }

  transfer(controlUrl: string, destination: TransferDestination, content?: string, options?: RequestOptions): Promise<unknown> {
    const message: ControlMessage = { type: 'transfer', destination };
    if (content !== undefined) message.content = content;
    return this.send(controlUrl, message, options);
  }
}

function parseControlUrl(controlUrl: string): URL {
  let url: URL;
  try {
    url = new URL(controlUrl);
  } catch {
    throw new InvalidControlUrlError();
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidControlUrlError();
  return url;
}

/** The call id from a `…/<id>/control` path, when that segment is a UUID; nothing else of the URL is exposed. */
export function callIdFromControlUrl(url: URL): string | undefined {
  const segments = url.pathname.split('/').filter(Boolean);
  if (segments.length < 2 || segments[segments.length - 1] !== 'control') return undefined;
  const candidate = segments[segments.length - 2];
  return isCallId(candidate) ? candidate : undefined;
}
