/**
 * Placing a call exactly once: a slot under the call limits, POST /call carrying the idempotency key, a lost answer
 * resolved by looking the key up at Vapi, and concurrent requests with one key sharing one placement.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SharedIdempotencyKeys, SharedKeyState } from '../../cluster/shared-keys.js';
import type { CallReservation } from '../../guard/limits.js';
import { VapiError } from '../../vapi/errors.js';
import { findCallByIdempotencyKey, withIdempotencyKey } from '../../vapi/idempotency.js';
import { isCallId, type Call, type CreateCallBody } from '../../vapi/schemas.js';
import { CallError, failureFromVapiError, refusalError } from '../errors.js';
import type { CoreParts } from '../parts.js';
import type { PlaceCallResult } from './place-call.js';

/**
 * Concurrent requests with the same key share one placement: only the first places a call. In cluster mode the key
 * is also claimed in the shared store, so the same key sent to another instance meanwhile waits for this placement
 * (placedElsewhere builds its answer from the call it placed).
 */
export async function placeOnce(
  parts: CoreParts,
  key: string,
  place: () => Promise<PlaceCallResult>,
  placedElsewhere: (callId: string) => Promise<PlaceCallResult>,
  signal: AbortSignal,
): Promise<PlaceCallResult> {
  const running = parts.placements.inFlight.get(key);
  if (running) {
    const first = await running;
    return { ...first, alreadyPlaced: true, note: `A request with this idempotencyKey placed call ${first.callId}; nothing new was placed.` };
  }
  const placing = parts.sharedKeys ? placeClaimed(parts, parts.sharedKeys, key, place, placedElsewhere, signal) : place();
  parts.placements.inFlight.set(key, placing);
  try {
    return await placing;
  } finally {
    parts.placements.inFlight.delete(key);
  }
}

async function placeClaimed(
  parts: CoreParts,
  sharedKeys: SharedIdempotencyKeys,
  key: string,
  place: () => Promise<PlaceCallResult>,
  placedElsewhere: (callId: string) => Promise<PlaceCallResult>,
  signal: AbortSignal,
): Promise<PlaceCallResult> {
  const startedAt = Date.now();
  const claim = await sharedKeys.claim(key);
  if (!claim) {
    // Another instance took the key between the look-up and the claim: its call is this request's call.
    const callId = await callRecordedWithKey(parts, key, signal);
    if (callId) return placedElsewhere(callId);
    throw placingElsewhere(key);
  }
  try {
    const result = await place();
    if (result.callId) await claim.placed(result.callId);
    else await claim.release();
    return result;
  } catch (err) {
    const mayExist = parts.placements.uncertain.has(key) || (err instanceof CallError && err.failure.code === 'placed-unreadable');
    await (mayExist ? claim.uncertain(parts.placements.uncertain.get(key) ?? startedAt) : claim.release());
    throw err;
  }
}

/** How long a request waits for another instance's placement with the same key (a POST /call and its look-up). */
const WAIT_FOR_PLACEMENT_MS = 60_000;
const POLL_PLACEMENT_MS = 100;

/** The call a placement with `key` on another instance ended with; undefined when it placed nothing. */
async function waitForPlacement(sharedKeys: SharedIdempotencyKeys, key: string, signal: AbortSignal): Promise<SharedKeyState | undefined> {
  const deadline = Date.now() + WAIT_FOR_PLACEMENT_MS;
  for (;;) {
    const state = await sharedKeys.lookup(key);
    if (state?.state !== 'placing') return state;
    if (Date.now() >= deadline) throw placingElsewhere(key);
    await sleep(POLL_PLACEMENT_MS, undefined, { signal });
  }
}

function placingElsewhere(key: string): CallError {
  return new CallError({
    code: 'placement-in-progress',
    reason: `Another request with idempotency key ${key} is placing a call right now (on another instance of this server).`,
    suggestion: `Do not use another key. Call create_call again with idempotencyKey "${key}" in a few seconds: it then returns that call.`,
    retryable: true,
  });
}

/**
 * The call an idempotency key already placed, if any: remembered here, or, for a key whose earlier attempt ended
 * with its outcome unknown, looked up at Vapi first.
 */
export async function callPlacedWithKey(parts: CoreParts, key: string, signal: AbortSignal): Promise<string | undefined> {
  const running = parts.placements.inFlight.get(key);
  if (running) return (await running.catch(() => undefined))?.callId;
  return callRecordedWithKey(parts, key, signal);
}

/** The call remembered for `key` here or in the cluster (waiting for a placement elsewhere), or asked of Vapi. */
async function callRecordedWithKey(parts: CoreParts, key: string, signal: AbortSignal): Promise<string | undefined> {
  const known = parts.idempotencyKeys.get(key);
  if (known) return known;
  const shared = parts.sharedKeys ? await waitForPlacement(parts.sharedKeys, key, signal) : undefined;
  if (shared?.state === 'placed') {
    parts.idempotencyKeys.remember(key, shared.callId);
    return shared.callId;
  }
  const uncertainSince = parts.placements.uncertain.get(key) ?? (shared?.state === 'uncertain' ? shared.since : undefined);
  if (uncertainSince === undefined) return undefined;
  const check = await findCallByIdempotencyKey(parts.rest, key, { requestStartedAt: uncertainSince, signal, ...parts.placements.lookup });
  if (check.outcome === 'unknown') throw stillUnknown(key, check.reason);
  parts.placements.uncertain.delete(key);
  const callId = check.outcome === 'placed' ? check.call.id.trim().toLowerCase() : undefined;
  if (shared?.state === 'uncertain') await parts.sharedKeys?.resolveUncertain(key, shared.since, callId);
  if (callId === undefined || check.outcome !== 'placed') return undefined;
  parts.directory.remember({ ...check.call, id: callId });
  parts.idempotencyKeys.remember(key, callId);
  return callId;
}

/**
 * POST /call carrying the idempotency key, with the reserved slot settled by the outcome. When the answer is lost
 * (timeout, dropped connection, unreadable answer) the call is looked for at Vapi by its key: found, it is the
 * placed call; proven absent, the slot is given back and nothing was placed; Vapi unreachable, the slot is kept
 * and the key remembered as uncertain, so a retry with it checks again before placing anything.
 */
export async function postCall(
  parts: CoreParts,
  body: CreateCallBody,
  key: string,
  e164: string,
  reservation: CallReservation,
  signal: AbortSignal,
): Promise<{ call: Call; recovered?: string }> {
  let call: Call;
  let recovered: string | undefined;
  const requestStartedAt = Date.now();
  try {
    call = await parts.rest.createCall(withIdempotencyKey(body, key), { signal });
  } catch (err) {
    if (!(err instanceof VapiError)) {
      reservation.untracked();
      throw err;
    }
    if (!err.mayHaveSucceeded) {
      reservation.release();
      throw new CallError(failureFromVapiError(err, { what: `Placing a call to ${e164}` }));
    }
    if (err.kind === 'aborted' || signal.aborted) {
      reservation.untracked();
      rememberUncertain(parts, key, requestStartedAt);
      throw new CallError(
        failureFromVapiError(err, { what: `Placing a call to ${e164}`, ifOutcomeUnknown: retryWithKey(key) }),
      );
    }
    const lost = err.kind === 'invalid-response' ? 'its answer could not be read' : `its answer was lost (${err.message})`;
    const check = await findCallByIdempotencyKey(parts.rest, key, { requestStartedAt, signal, ...parts.placements.lookup });
    if (err.kind === 'invalid-response' && check.outcome !== 'placed') {
      // A success status with an unreadable body: placed, whatever the listing says.
      reservation.untracked();
      throw placedButUnreadable(e164, lost);
    }
    if (check.outcome === 'not-placed') {
      reservation.release();
      throw new CallError({
        code: 'not-placed',
        reason: `Placing a call to ${e164}: ${lost}. This server then asked Vapi (${check.listings} listing${check.listings === 1 ? '' : 's'}): no call carries idempotency key ${key}, so no call was placed.`,
        suggestion: `It is safe to try again; pass idempotencyKey "${key}" again so a retry can never place a second call.`,
        retryable: true,
      });
    }
    if (check.outcome === 'unknown') {
      reservation.untracked();
      rememberUncertain(parts, key, requestStartedAt);
      throw new CallError({
        code: 'outcome-unknown',
        reason: `Placing a call to ${e164}: ${lost}, and ${check.reason.charAt(0).toLowerCase()}${check.reason.slice(1)} A phone may be ringing.`,
        suggestion: retryWithKey(key),
        // Not a blind retry: only one with this same key is safe.
        retryable: false,
      });
    }
    call = check.call;
    recovered = `Vapi's answer to the request was lost (${lost.replace(/^its answer /, '')}), but this server found the call by its idempotency key: it was placed once, as call ${check.call.id.trim().toLowerCase()}.`;
  }
  const callId = call.id.trim().toLowerCase();
  if (!isCallId(callId)) {
    reservation.untracked();
    throw placedButUnreadable(e164, `it gave the call an id that is not a Vapi call id (${JSON.stringify(call.id.slice(0, 40))})`);
  }
  reservation.placed(callId);
  return { call: { ...call, id: callId }, ...(recovered ? { recovered } : {}) };
}

function retryWithKey(key: string): string {
  return (
    `Do not place it again with another key. Call create_call again with idempotencyKey "${key}": this server then asks Vapi first and returns the call if it was placed. ` +
    'Or look for the number in list_calls (or the Vapi dashboard) before deciding.'
  );
}

function stillUnknown(key: string, why: string): CallError {
  return new CallError({
    code: 'outcome-unknown',
    reason: `An earlier attempt with idempotency key ${key} may have placed a call, and ${why.charAt(0).toLowerCase()}${why.slice(1)}`,
    suggestion: retryWithKey(key),
    retryable: false,
  });
}

const MAX_UNCERTAIN_KEYS = 1000;
function rememberUncertain(parts: CoreParts, key: string, since: number): void {
  const uncertain = parts.placements.uncertain;
  uncertain.delete(key);
  uncertain.set(key, since);
  while (uncertain.size > MAX_UNCERTAIN_KEYS) uncertain.delete(uncertain.keys().next().value as string);
}

function placedButUnreadable(e164: string, what: string): CallError {
  return new CallError({
    code: 'placed-unreadable',
    reason: `Vapi accepted the call to ${e164}, but ${what}, so this server cannot follow or control it. The call may be ringing now.`,
    suggestion: 'Do not place it again. Find the call with list_calls and follow it with get_call; report the problem to the operator.',
    retryable: false,
  });
}

/**
 * Calls placed without listening never report their end, so when the concurrency limit bites, ask Vapi about the
 * calls still counted as live before refusing.
 */
export async function checkLimits(parts: CoreParts, signal: AbortSignal): Promise<void> {
  const verdict = await withFreshLiveCalls(parts, signal, async () => parts.limits.check());
  if (!verdict.ok) throw refusalError(verdict);
}

/** Takes a slot atomically, right before the request leaves; refused like checkLimits when none is free. */
export async function reserveSlot(parts: CoreParts, signal: AbortSignal): Promise<CallReservation> {
  const verdict = await withFreshLiveCalls(parts, signal, async () => parts.limits.reserve());
  if (!verdict.ok) throw refusalError(verdict);
  return verdict.reservation;
}

async function withFreshLiveCalls<V extends { ok: boolean; code?: string }>(parts: CoreParts, signal: AbortSignal, attempt: () => Promise<V>): Promise<V> {
  const first = await attempt();
  if (first.ok || first.code !== 'concurrency') return first;
  await Promise.all(
    (await parts.limits.liveCallIds()).map(async (id) => {
      const call = await parts.rest.getCall(id, { signal }).catch(() => undefined);
      if (call?.status === 'ended') await parts.limits.recordEnded(id);
    }),
  );
  return attempt();
}
