/**
 * The duplicate-call guard: an agent that retries create_call without its idempotency key would place a second
 * real call. A call to a number that has a live call from this server, or had one placed within the window
 * (VAPI_DUPLICATE_WINDOW_SECONDS), is refused as `duplicate-suspected`, naming that call and its key, unless the
 * request says `allowRepeat: true` or carries that call's own key (which returns that call: nothing new is placed).
 */
import type { CoreParts } from './parts.js';
import { CallError } from './errors.js';
import type { NumberClaim, RecentCall } from '../guard/recent-calls.js';

export { RecentCalls, type RecentCallsStore } from '../guard/recent-calls.js';

export interface DuplicateCheck {
  e164: string;
  idempotencyKey: string;
  allowRepeat: boolean;
  signal: AbortSignal;
}

/** Refuses a suspected duplicate (throws CallError); quiet when the guard is off or the request says it is meant. */
export async function checkDuplicate(parts: CoreParts, request: DuplicateCheck): Promise<void> {
  const refusal = await duplicateOf(parts, request);
  if (refusal) throw refusal;
}

/** Failures after which a call may exist: the number stays claimed. */
const MAYBE_PLACED = new Set(['outcome-unknown', 'placed-unreadable']);

/**
 * Runs `place` holding a claim on the number, taken right before (checked again, nothing awaited in between), so
 * two concurrent requests with different keys cannot both pass; a failure that proves nothing was placed frees it.
 */
export async function withNumberClaim<T extends { call: { id: string } }>(parts: CoreParts, request: DuplicateCheck, place: () => Promise<T>): Promise<T> {
  const claim = await claimNumber(parts, request);
  try {
    const placed = await place();
    claim.placed(placed.call.id);
    return placed;
  } catch (err) {
    if (!(err instanceof CallError && MAYBE_PLACED.has(err.failure.code))) claim.release();
    throw err;
  }
}

async function claimNumber(parts: CoreParts, request: DuplicateCheck): Promise<NumberClaim> {
  const { recentCalls } = parts;
  const exclusive = recentCalls.enabled && !request.allowRepeat;
  const claim = await recentCalls.claim(request.e164, request.idempotencyKey, exclusive);
  if ('busy' in claim) throw duplicateError(parts, request.e164, claim.busy, 'being placed right now');
  return claim;
}

async function duplicateOf(parts: CoreParts, request: DuplicateCheck): Promise<CallError | undefined> {
  const { recentCalls } = parts;
  if (!recentCalls.enabled || request.allowRepeat) return undefined;
  const latest = await recentCalls.latest(request.e164);
  if (!latest || latest.key === request.idempotencyKey) return undefined;
  if (latest.callId === undefined) return duplicateError(parts, request.e164, latest, 'being placed, or placed with its outcome unknown');
  const ageMs = recentCalls.options.now() - latest.at;
  if (ageMs < (recentCalls.options.windowMs ?? 0)) return duplicateError(parts, request.e164, latest, `placed ${formatAge(ageMs)} ago`);
  if (await isLive(parts, latest.callId, request.signal)) return duplicateError(parts, request.e164, latest, 'still live');
  return undefined;
}

/** Live as far as this server knows: its listener says so, or, for a call not listened to, Vapi does. */
async function isLive(parts: CoreParts, callId: string, signal: AbortSignal): Promise<boolean> {
  const listener = parts.listeners.get(callId)?.state();
  if (listener) return !listener.ended && listener.status !== 'ended';
  if (!(await parts.limits.liveCallIds()).includes(callId)) return false;
  const call = await parts.rest.getCall(callId, { signal }).catch(() => undefined);
  if (call?.status === 'ended') {
    await parts.limits.recordEnded(callId);
    return false;
  }
  return true;
}

function duplicateError(parts: CoreParts, e164: string, latest: RecentCall, how: string): CallError {
  const windowSeconds = Math.round((parts.recentCalls.options.windowMs ?? 0) / 1000);
  const which = latest.callId ? `call ${latest.callId}` : 'a call';
  return new CallError({
    code: 'duplicate-suspected',
    reason:
      `Not placed: this server already has ${which} to ${e164} (idempotencyKey "${latest.key}"), ${how}. ` +
      `A second call to the same number within ${windowSeconds} s, or while one is live, looks like a retry.`,
    suggestion:
      `If this was a retry, do not place another call: follow ${latest.callId ? `call ${latest.callId} with read_transcript or get_call` : 'the call with list_calls'}, ` +
      `or call create_call again with idempotencyKey "${latest.key}" to get it back. ` +
      'Only if the user wants a second call to this number, call create_call again with allowRepeat: true.',
    retryable: false,
    existingCall: { ...(latest.callId ? { callId: latest.callId } : {}), idempotencyKey: latest.key },
  });
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}
