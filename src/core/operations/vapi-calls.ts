/**
 * The REST and control steps operations share: fetching a call, finding its live control URL, and sending a
 * control message, each turning Vapi failures into failures the caller can act on.
 */
import { VapiError } from '../../vapi/errors.js';
import type { KnownCall } from '../../vapi/call-directory.js';
import { TERMINAL_STATUSES, type Call } from '../../vapi/schemas.js';
import { CallError, failureFromVapiError, type FailureContext } from '../errors.js';
import type { CoreParts } from '../parts.js';

/** Runs a Vapi request, converting a VapiError into a CallError phrased for the context. */
export async function askVapi<T>(context: FailureContext, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (err instanceof VapiError) throw new CallError(failureFromVapiError(err, context));
    throw err;
  }
}

export async function fetchCall(parts: CoreParts, callId: string, signal: AbortSignal): Promise<Call> {
  const call = await askVapi({ what: `Fetching call ${callId}`, callId }, () => parts.rest.getCall(callId, { signal }));
  parts.directory.remember(call);
  return call;
}

/** What this process knows of a call, asked of Vapi first (and returned as `fetched`) when that is not `enough`. */
export async function knownCall(
  parts: CoreParts,
  callId: string,
  signal: AbortSignal,
  enough: (known: KnownCall) => boolean,
): Promise<{ known: KnownCall; fetched?: Call }> {
  const known = parts.directory.get(callId);
  if (known && enough(known)) return { known };
  const fetched = await fetchCall(parts, callId, signal);
  return { known: parts.directory.remember(fetched), fetched };
}

export function endedCallError(callId: string, endedReason: string | undefined): CallError {
  return new CallError({
    code: 'call-ended',
    reason: `Call ${callId} has ended${endedReason ? ` (${endedReason})` : ''}; live control is only possible during a call.`,
    suggestion: 'Use get_call for its outcome and transcript, or read_transcript for the lines heard live.',
    retryable: false,
  });
}

/** The control URL of a call that is not over, from what this server knows or from GET /call/{id}. */
async function liveControlUrl(parts: CoreParts, callId: string, signal: AbortSignal): Promise<string> {
  const { known } = await knownCall(parts, callId, signal, (k) => Boolean(k.controlUrl && k.status));
  if (known.status && TERMINAL_STATUSES.has(known.status)) throw endedCallError(callId, known.endedReason);
  if (!known.controlUrl) {
    throw new CallError({
      code: 'control-unavailable',
      reason: `Call ${callId} has no live control: Vapi did not give it a control URL (monitorPlan.controlEnabled is off for this call or its assistant).`,
      suggestion: 'Place calls with create_call (it enables control by default), or enable monitorPlan.controlEnabled on the assistant in Vapi.',
      retryable: false,
    });
  }
  return known.controlUrl;
}

/**
 * Sends one control message to a live call: `send` gets the call's control URL. `what` names the action for
 * messages ("Saying text").
 */
export async function sendControl(
  parts: CoreParts,
  callId: string,
  what: string,
  send: (controlUrl: string) => Promise<unknown>,
  signal: AbortSignal,
): Promise<void> {
  const controlUrl = await liveControlUrl(parts, callId, signal);
  try {
    await send(controlUrl);
  } catch (err) {
    if (!(err instanceof VapiError)) throw err;
    if (err.kind === 'http' && err.status === 401) {
      throw new CallError({
        code: 'control-auth-required',
        reason: `${what} in call ${callId} was refused: the call's control URL requires authentication.`,
        suggestion: 'The operator must set VAPI_PUBLIC_KEY to the Vapi public key and restart the server.',
        retryable: false,
      });
    }
    if (err.kind === 'http' && (err.status === 404 || err.status === 400 || err.status === 410)) {
      // The usual cause is a call that ended since we last looked: ask Vapi before blaming the arguments.
      const call = await fetchCall(parts, callId, signal).catch(() => undefined);
      if (call?.status && TERMINAL_STATUSES.has(call.status)) throw endedCallError(callId, call.endedReason);
      if (call?.status && call.status !== 'in-progress' && call.status !== 'forwarding') {
        throw new CallError({
          code: 'call-not-live',
          reason: `${what} in call ${callId} failed: the call is ${call.status}, not yet in progress.${err.vapiMessage ? ` Vapi said: "${err.vapiMessage}".` : ''}`,
          suggestion: 'Wait until it is answered (read_transcript with waitSeconds returns when the status changes), then try again.',
          retryable: true,
        });
      }
    }
    throw new CallError(failureFromVapiError(err, { callId, what: `${what} in call ${callId}` }));
  }
}
