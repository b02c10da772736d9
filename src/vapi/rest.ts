/**
 * Vapi's REST `/call` endpoints. The private key goes only to `baseUrl` (redirects are not followed), reads
 * and idempotent writes are retried, and POST /call is never repeated because a second attempt could place a
 * second phone call.
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { VapiError } from './errors.js';
import { DEFAULT_USER_AGENT, sendHttp, type HttpMethod, type RetryPolicy } from './http.js';
import {
  CallSchema,
  isCallId,
  LIST_CALL_FILTER_KEYS,
  type Call,
  type CreateCallBody,
  type ListCallsFilters,
} from './schemas.js';

export type { RetryPolicy } from './http.js';

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 8000, maxTotalMs: 20000 };
const DEFAULT_TIMEOUT_MS = 15000;

export interface RestClientOptions {
  /** e.g. https://api.vapi.ai; a trailing slash is tolerated. */
  baseUrl: string;
  /** Private API key, sent as `Authorization: Bearer <apiKey>` to `baseUrl` only. */
  apiKey: string;
  dispatcher?: Dispatcher;
  /** Per attempt; default 15000. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  /** Default `vapi-call-mcp/<version>`. */
  userAgent?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** Thrown before any request when a call id is not a UUID, so no odd string ever reaches a URL. */
export class InvalidCallIdError extends Error {
  constructor() {
    super('Invalid call id: a Vapi call id is a UUID such as 7420f27a-0000-4000-8000-000000000001');
    this.name = 'InvalidCallIdError';
  }
}

const CallListSchema = z.array(CallSchema);

interface Endpoint {
  method: HttpMethod;
  /** Path with real values, query included (not secret; logged at debug level). */
  path: string;
  /** Path template for errors, e.g. "GET /call/{id}". */
  operation: string;
  body?: unknown;
  /**
   * GET, PATCH (it only sets a name, so repeating it is harmless) and DELETE (Vapi itself answers 503 "retry")
   * are retried; POST /call is not.
   */
  retry: boolean;
}

export class VapiRestClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly dispatcher?: Dispatcher;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly logger?: Logger;
  private readonly userAgent: string;

  constructor(options: RestClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new TypeError('Vapi base URL is not a valid URL');
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new TypeError('Vapi base URL must be http(s)');
    if (!options.apiKey) throw new TypeError('Vapi API key is required');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.dispatcher = options.dispatcher;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.logger = options.logger;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  }

  async createCall(body: CreateCallBody, options?: RequestOptions): Promise<Call> {
    const endpoint: Endpoint = { method: 'POST', path: '/call', operation: 'POST /call', body, retry: false };
    return parseWith(CallSchema, endpoint, await this.send(endpoint, options));
  }

  async listCalls(filters: ListCallsFilters = {}, options?: RequestOptions): Promise<Call[]> {
    const query = new URLSearchParams();
    for (const key of LIST_CALL_FILTER_KEYS) {
      const value = filters[key];
      if (value !== undefined && value !== null) query.set(key, String(value));
    }
    const search = query.toString();
    const endpoint: Endpoint = {
      method: 'GET',
      path: search ? `/call?${search}` : '/call',
      operation: 'GET /call',
      retry: true,
    };
    return parseWith(CallListSchema, endpoint, await this.send(endpoint, options));
  }

  async getCall(id: string, options?: RequestOptions): Promise<Call> {
    const endpoint: Endpoint = { method: 'GET', path: callPath(id), operation: 'GET /call/{id}', retry: true };
    return parseWith(CallSchema, endpoint, await this.send(endpoint, options));
  }

  private async send(endpoint: Endpoint, options?: RequestOptions): Promise<unknown> {
    const response = await sendHttp({
      method: endpoint.method,
      url: this.baseUrl + endpoint.path,
      operation: endpoint.operation,
      logFields: { path: endpoint.path },
      headers: { authorization: `Bearer ${this.apiKey}`, 'user-agent': this.userAgent },
      body: endpoint.body,
      timeoutMs: this.timeoutMs,
      retry: endpoint.retry ? this.retry : undefined,
      signal: options?.signal,
      dispatcher: this.dispatcher,
      logger: this.logger,
      secrets: [this.apiKey],
    });
    return response.body;
  }
}

function callPath(id: string): string {
  if (typeof id !== 'string' || !isCallId(id)) throw new InvalidCallIdError();
  return `/call/${encodeURIComponent(id)}`;
}

function parseWith<T>(schema: z.ZodType<T>, endpoint: Endpoint, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new VapiError({
      kind: 'invalid-response',
      operation: endpoint.operation,
      // The request was accepted; for a POST the call probably exists even though its answer was unreadable.
      mayHaveSucceeded: true,
      cause: parsed.error,
    });
  }
  return parsed.data;
}
