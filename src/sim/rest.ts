/** The REST routes: POST/GET /call and GET/PATCH/DELETE /call/{id}. Authentication happens before these. */
import { isUuid } from './wire.js';
import type { SimCall } from './call.js';
import { badRequest, notFound, routeNotFound } from './errors.js';
import {
  passesDateBound,
  validateCreateCall,
  validateListQuery,
  validatePatch,
  type CallSpec,
} from './validate.js';

export const CONCURRENCY_LIMIT = 10;

export interface CallStore {
  create(spec: CallSpec): SimCall;
  get(id: string): SimCall | undefined;
  /** Every call, newest first. */
  all(): SimCall[];
  remove(id: string): void;
}

export interface RestRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface RestResponse {
  status: number;
  body: unknown;
}

export function routeRest(request: RestRequest, store: CallStore, strict: boolean): RestResponse {
  const { method, query, body } = request;
  const path = request.path.replace(/\/+$/, '') || '/';
  if (path === '/call') {
    if (method === 'POST') return createCalls(body, store, strict);
    if (method === 'GET') return { status: 200, body: listCalls(query, store) };
  }
  const match = /^\/call\/([^/]+)$/.exec(path);
  if (match && ['GET', 'PATCH', 'DELETE'].includes(method)) {
    const call = findCall(decodeURIComponent(match[1]), store);
    switch (method) {
      case 'GET':
        return { status: 200, body: call.snapshot() };
      case 'PATCH': {
        const { name } = validatePatch(body);
        if (name !== undefined) call.rename(name);
        return { status: 200, body: call.snapshot() };
      }
      case 'DELETE': {
        // Deleting a live call hangs it up first so nothing keeps running for a record that is gone.
        call.end('call-deleted');
        const deleted = call.snapshot();
        store.remove(call.id);
        return { status: 200, body: deleted };
      }
    }
  }
  throw routeNotFound(method, request.path);
}

function findCall(id: string, store: CallStore): SimCall {
  if (!isUuid(id)) throw badRequest('Validation failed (uuid is expected)');
  const call = store.get(id);
  if (!call) throw notFound('Call not found');
  return call;
}

function createCalls(body: unknown, store: CallStore, strict: boolean): RestResponse {
  const request = validateCreateCall(body, strict);
  if (!request.batch) {
    const call = store.create(request.spec);
    return { status: 201, body: { ...call.snapshot(), subscriptionLimits: subscriptionLimits(store) } };
  }
  const results = request.specs.map((spec) => store.create(spec).snapshot());
  return { status: 201, body: { subscriptionLimits: subscriptionLimits(store), results, errors: request.errors } };
}

/** Reported for realism; the simulator never blocks on concurrency. */
function subscriptionLimits(store: CallStore) {
  const live = store.all().filter((call) => call.isLive).length;
  return {
    concurrencyBlocked: false,
    concurrencyLimit: CONCURRENCY_LIMIT,
    remainingConcurrentCalls: Math.max(0, CONCURRENCY_LIMIT - live),
  };
}

function listCalls(query: Record<string, string>, store: CallStore): unknown[] {
  const filters = validateListQuery(query);
  return store
    .all()
    .filter((call) => filters.id === undefined || call.id === filters.id)
    .filter((call) => filters.assistantId === undefined || call.field('assistantId') === filters.assistantId)
    .filter((call) => filters.phoneNumberId === undefined || call.field('phoneNumberId') === filters.phoneNumberId)
    .filter((call) =>
      filters.dateBounds.every((bound) =>
        passesDateBound(bound.field === 'createdAt' ? call.createdAtEpochMs : call.updatedAtEpochMs, bound),
      ),
    )
    .slice(0, filters.limit)
    .map((call) => call.snapshot());
}
