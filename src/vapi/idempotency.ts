/**
 * Exactly-once dialing, the pieces that need no tool: an idempotency key travels with the call in
 * `assistantOverrides.metadata` (the per-call data Vapi keeps and returns on GET /call; CreateCallDTO has no
 * top-level metadata), recent keys are remembered, and after a POST /call whose outcome is unknown the call
 * carrying the key is looked for among the calls created since just before the request.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { VapiError } from './errors.js';
import type { Call, CreateCallBody, ListCallsFilters } from './schemas.js';

/** The field of `assistantOverrides.metadata` that carries the key. */
export const IDEMPOTENCY_METADATA_FIELD = 'idempotencyKey';
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

export function newIdempotencyKey(): string {
  return randomUUID();
}

/** A copy of `body` whose `assistantOverrides.metadata` carries the key, next to any metadata already there. */
export function withIdempotencyKey(body: CreateCallBody, key: string): CreateCallBody {
  const overrides = isRecord(body.assistantOverrides) ? body.assistantOverrides : {};
  const metadata = isRecord(overrides.metadata) ? overrides.metadata : {};
  return { ...body, assistantOverrides: { ...overrides, metadata: { ...metadata, [IDEMPOTENCY_METADATA_FIELD]: key } } };
}

/** The key a call carries, if any. */
export function idempotencyKeyOf(call: Call): string | undefined {
  const overrides = (call as Record<string, unknown>).assistantOverrides;
  const metadata = isRecord(overrides) ? overrides.metadata : undefined;
  const key = isRecord(metadata) ? metadata[IDEMPOTENCY_METADATA_FIELD] : undefined;
  return typeof key === 'string' ? key : undefined;
}

export interface IdempotencyKeysOptions {
  /** Keys kept at most; the oldest is forgotten first. Default 1000. */
  capacity?: number;
  /** How long a key is remembered. Default 24 h. */
  ttlMs?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

/** Recently used keys → the call each placed. Bounded in count and in age. */
export class IdempotencyKeys {
  private readonly entries = new Map<string, { callId: string; at: number }>();
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: IdempotencyKeysOptions = {}) {
    this.capacity = options.capacity ?? 1000;
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60_000;
    this.now = options.now ?? (() => performance.now());
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('capacity must be a positive integer');
    if (!(this.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
  }

  /** The call placed with `key`, while it is remembered. */
  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.callId;
  }

  remember(key: string, callId: string): void {
    this.entries.delete(key); // re-insert so Map order is age order
    this.entries.set(key, { callId, at: this.now() });
    this.prune();
  }

  get size(): number {
    this.prune();
    return this.entries.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (this.entries.size > this.capacity || now - entry.at >= this.ttlMs) this.entries.delete(key);
      else break; // the rest are younger
    }
  }
}

export type PlacementCheck =
  | { outcome: 'placed'; call: Call; listings: number }
  | { outcome: 'not-placed'; listings: number }
  /** Vapi could not be listed at all: nothing is known. */
  | { outcome: 'unknown'; reason: string; listings: 0 };

export interface FindCallOptions {
  /** Epoch ms just before the POST /call was sent. */
  requestStartedAt: number;
  /** Subtracted from requestStartedAt, for clock skew between this machine and Vapi. Default 5 min. */
  clockSkewMs?: number;
  /** Listings in all (Vapi's list can trail a create by a moment). Default 3. */
  attempts?: number;
  /** Wait between listings. Default 1000 ms. */
  delayMs?: number;
  /** Calls per GET /call page. Default 100. */
  pageSize?: number;
  /** Pages read per listing at most. Default 10. */
  maxPages?: number;
  signal?: AbortSignal;
}

type ListCalls = (filters: ListCallsFilters, options?: { signal?: AbortSignal }) => Promise<Call[]>;

/**
 * Looks for the call carrying `key` among the calls created since just before the request, with GET /call and
 * `createdAtGe`, a bounded number of times. "not-placed" needs every listing to have come back without it;
 * "unknown" means no listing came back at all.
 */
export async function findCallByIdempotencyKey(
  rest: { listCalls: ListCalls },
  key: string,
  options: FindCallOptions,
): Promise<PlacementCheck> {
  const attempts = options.attempts ?? 3;
  const delayMs = options.delayMs ?? 1000;
  const since = new Date(options.requestStartedAt - (options.clockSkewMs ?? 5 * 60_000)).toISOString();
  let listings = 0;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(delayMs, undefined, { signal: options.signal });
    try {
      const found = await findInListing((filters, opts) => rest.listCalls(filters, opts), key, since, options);
      listings++;
      if (found) return { outcome: 'placed', call: found, listings };
    } catch (err) {
      if (options.signal?.aborted) throw err;
      lastError = err;
    }
  }
  if (listings > 0) return { outcome: 'not-placed', listings };
  const why = lastError instanceof VapiError ? lastError.message : 'GET /call failed';
  return { outcome: 'unknown', reason: `Vapi could not be asked whether the call was placed (${why}).`, listings: 0 };
}

/** Pages newest-first through the calls created since `since`; the next page ends where the last one did. */
async function findInListing(listCalls: ListCalls, key: string, since: string, options: FindCallOptions): Promise<Call | undefined> {
  const pageSize = options.pageSize ?? 100;
  const maxPages = options.maxPages ?? 10;
  const seen = new Set<string>();
  let createdAtLe: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const filters: ListCallsFilters = { createdAtGe: since, limit: pageSize, ...(createdAtLe && { createdAtLe }) };
    const calls = await listCalls(filters, { signal: options.signal });
    let fresh = 0;
    for (const call of calls) {
      if (seen.has(call.id)) continue;
      seen.add(call.id);
      fresh++;
      if (idempotencyKeyOf(call) === key) return call;
    }
    const oldest = calls.at(-1)?.createdAt;
    if (calls.length < pageSize || fresh === 0 || oldest === undefined) return undefined;
    // Le, not Lt: calls sharing the oldest timestamp must not be skipped; `seen` drops the repeats.
    createdAtLe = oldest;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
