/**
 * One HTTP exchange with Vapi (or a call's control URL): JSON in, parsed body out, every failure mapped to a
 * VapiError, optional retries with backoff. Callers pass an `operation` label that is used for errors and logs;
 * the URL itself is never logged because control URLs are bearer capabilities.
 */
import type { Dispatcher } from 'undici';
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger, type Logger } from '../log.js';
import { Redactor } from '../redact.js';
import { VapiError, vapiMessageFrom } from './errors.js';
import { VERSION } from '../version.js';

/** undici costs about 90 ms to load: loaded by the first request rather than at start-up. */
let undici: Promise<typeof import('undici')> | undefined;
const loadUndici = () => (undici ??= import('undici'));

export const DEFAULT_USER_AGENT = `vapi-call-mcp/${VERSION}`;

export interface RetryPolicy {
  /** Attempts in total, including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  /** Longest single wait; a Retry-After above it ends the retries. */
  maxDelayMs: number;
  /** Budget for all attempts and waits together. */
  maxTotalMs: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  /** Names a request in errors and logs, e.g. "GET /call/{id}" or "control say". */
  operation: string;
  /** Extra, non-secret context for the debug line. */
  logFields?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Serialised as JSON when present. */
  body?: unknown;
  timeoutMs: number;
  /** Absent: exactly one attempt. Only pass a policy for requests that are safe to repeat. */
  retry?: RetryPolicy;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** Largest response body read; a bigger one fails with kind 'too-large'. Default MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
  /** Values masked in anything taken from the response (a server may echo a key back). */
  secrets?: readonly (string | undefined)[];
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the body is JSON, the text otherwise, undefined when empty. */
  body: unknown;
}

const RETRYABLE_STATUSES = new Set([408, 429]);
/** Error codes meaning the connection was never established, so nothing reached the server. */
const NOT_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/**
 * Response bodies are read up to this many bytes and no further: a broken or hostile server cannot make the
 * process hold (and parse) an answer of any size. Far above any real Call object or page of calls.
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Non-JSON error bodies are usually gateway HTML pages; keep the start only. */
const MAX_TEXT_MESSAGE_CHARS = 300;

/** Sends the request, retrying per `retry`; resolves with a 2xx response, otherwise rejects with a VapiError. */
export async function sendHttp(req: HttpRequest): Promise<HttpResponse> {
  const logger = req.logger ?? silentLogger;
  const redactor = new Redactor();
  for (const secret of req.secrets ?? []) redactor.add(secret);
  const startedAt = performance.now();
  const elapsed = () => performance.now() - startedAt;

  for (let attempt = 1; ; attempt++) {
    if (req.signal?.aborted) throw new VapiError({ kind: 'aborted', operation: req.operation, cause: req.signal.reason });
    const timeoutMs = req.retry ? Math.max(1, Math.min(req.timeoutMs, req.retry.maxTotalMs - elapsed())) : req.timeoutMs;
    logger.debug(req.operation, { ...req.logFields, ...(attempt > 1 ? { attempt } : {}) });

    let failure: VapiError;
    let retryAfterMs: number | undefined;
    try {
      const response = await attemptOnce(req, timeoutMs);
      if (response.status >= 200 && response.status < 300) return response;
      retryAfterMs = parseRetryAfter(response.headers['retry-after']);
      failure = httpError(req, response, redactor, retryAfterMs);
    } catch (error) {
      if (!(error instanceof VapiError) || error.kind === 'aborted') throw error;
      failure = error;
    }

    const policy = req.retry;
    if (!policy || !isRetryable(failure) || attempt >= policy.maxAttempts) throw failure;
    // Retrying before the server's Retry-After would only earn another refusal, so a long one ends the retries.
    if (retryAfterMs !== undefined && retryAfterMs > policy.maxDelayMs) throw failure;
    const waitMs = retryAfterMs ?? backoffDelay(policy, attempt);
    if (elapsed() + waitMs >= policy.maxTotalMs) throw failure;

    logger.warn(`retrying ${req.operation}`, { reason: describeFailure(failure), delayMs: Math.round(waitMs), attempt });
    try {
      await delay(waitMs, undefined, { signal: req.signal });
    } catch {
      throw new VapiError({
        kind: 'aborted',
        operation: req.operation,
        mayHaveSucceeded: failure.mayHaveSucceeded,
        cause: req.signal?.reason,
      });
    }
  }
}

async function attemptOnce(req: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.body);
  }

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onCallerAbort = () => controller.abort();
  req.signal?.addEventListener('abort', onCallerAbort, { once: true });

  try {
    const { request } = await loadUndici();
    const response = await request(req.url, {
      method: req.method,
      headers,
      body,
      dispatcher: req.dispatcher,
      signal: controller.signal,
    });
    const text = await readBounded(response.body, req.maxResponseBytes ?? MAX_RESPONSE_BYTES, req);
    return { status: response.statusCode, headers: response.headers, body: parseBody(text) };
  } catch (error) {
    if (error instanceof VapiError) throw error;
    // Checked in this order: a caller abort wins over a timeout that fired at the same moment.
    const changes = changesState(req);
    if (req.signal?.aborted) {
      throw new VapiError({ kind: 'aborted', operation: req.operation, mayHaveSucceeded: changes, cause: req.signal.reason });
    }
    if (timedOut) throw new VapiError({ kind: 'timeout', operation: req.operation, mayHaveSucceeded: changes, cause: error });
    throw new VapiError({
      kind: 'network',
      operation: req.operation,
      mayHaveSucceeded: changes && !neverConnected(error),
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** The body as text, or a 'too-large' VapiError as soon as it passes maxBytes (the rest is never read). */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number, req: HttpRequest): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      // The server answered, so a request that changes state did reach it.
      throw new VapiError({ kind: 'too-large', operation: req.operation, mayHaveSucceeded: changesState(req) });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A GET has no effect to have succeeded with, so "may have succeeded" only ever applies to other methods. */
function changesState(req: HttpRequest): boolean {
  return req.method !== 'GET';
}

function httpError(req: HttpRequest, response: HttpResponse, redactor: Redactor, retryAfterMs?: number): VapiError {
  let message = vapiMessageFrom(response.body);
  if (typeof response.body === 'string' && message && message.length > MAX_TEXT_MESSAGE_CHARS) {
    message = `${message.slice(0, MAX_TEXT_MESSAGE_CHARS)}…`;
  }
  return new VapiError({
    kind: 'http',
    operation: req.operation,
    status: response.status,
    vapiMessage: message === undefined ? undefined : redactor.redact(message),
    // A 5xx may come after the server acted; a 4xx (including 408 and 429) means it refused the request.
    mayHaveSucceeded: changesState(req) && response.status >= 500,
    retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
  });
}

function isRetryable(error: VapiError): boolean {
  if (error.kind === 'network' || error.kind === 'timeout') return true;
  if (error.kind !== 'http' || error.status === undefined) return false;
  return RETRYABLE_STATUSES.has(error.status) || error.status >= 500;
}

function describeFailure(error: VapiError): string {
  return error.kind === 'http' ? `HTTP ${error.status}` : error.kind;
}

/** Exponential backoff with "equal jitter": a random wait between half and all of the capped exponential step. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return step / 2 + random() * (step / 2);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** True when the error shows the connection was never made (refused, unresolvable), so the request never left. */
function neverConnected(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, errors, cause } = current as { code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof code === 'string' && NOT_CONNECTED_CODES.has(code)) return true;
    // Node's happy-eyeballs connect reports one error per address tried.
    if (Array.isArray(errors) && errors.length > 0 && errors.every((inner) => neverConnected(inner))) return true;
    current = cause;
  }
  return false;
}
