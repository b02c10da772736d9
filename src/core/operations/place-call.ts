/**
 * placeCall: every check (dial policy, inline destinations, quiet hours, limits), then a dry run's preview and
 * token, a confirmation-required preview where the human must agree but the face cannot ask, or the call itself,
 * placed at most once per idempotency key, listening at once unless told not to.
 */
import type { Call } from '../../vapi/schemas.js';
import { newIdempotencyKey, withIdempotencyKey } from '../../vapi/idempotency.js';
import { refusalError } from '../errors.js';
import { transcriptUri, type CoreParts, type OperationContext } from '../parts.js';
import { monitorAvailability, summarizeCall, type CallSummary, type MonitorAvailability } from '../views/call.js';
import { listeningView, type ListeningView } from '../views/listening.js';
import { buildRequestBody, checkInlineDestinations, checkQuietHours, previewCall, type CallPreview, type PlaceCallArgs } from './call-request.js';
import { CONFIRMATION_NOTE, confirmChange } from './confirm.js';
import { listenerFor } from './listen.js';
import { checkDuplicate, withNumberClaim } from '../duplicate-guard.js';
import { callPlacedWithKey, checkLimits, placeOnce, postCall, reserveSlot } from './place-once.js';

export type { CallPreview } from './call-request.js';

export interface PlaceCallRequest {
  customer: { number: string; name?: string; extension?: string };
  /** Defaults to the configured assistant (VAPI_ASSISTANT_ID) unless an inline assistant is given. */
  assistantId?: string;
  /** An inline transient assistant (Vapi CreateAssistantDTO), checked for destinations. */
  assistant?: Record<string, unknown>;
  assistantOverrides?: Record<string, unknown>;
  /** Defaults to the configured number (VAPI_PHONE_NUMBER_ID). */
  phoneNumberId?: string;
  firstMessage?: string;
  variableValues?: Record<string, string | number | boolean | null>;
  name?: string;
  /** ISO 8601 date-time to place the call later. */
  scheduledAt?: string;
  /** Start listening at once (default true). */
  listen?: boolean;
  /** Ask Vapi to enable live listen and control (default true). */
  monitor?: boolean;
  /** Run every check and return the exact request and a confirmation token, placing nothing (default false). */
  dryRun?: boolean;
  /** From a dry run or confirmation-required preview of this exact request: places it once. */
  confirmationToken?: string;
  /** Names this attempt: the same key again returns the call it placed and places nothing. Generated when absent. */
  idempotencyKey?: string;
  /** Place it even though this server called the same number moments ago or has a live call to it. */
  allowRepeat?: boolean;
}

export interface PlaceCallResult {
  callId?: string;
  /** Vapi call status, "dry-run", or "confirmation-required" (nothing placed; show the preview, pass the token back). */
  status: string;
  dryRun: boolean;
  /** The key of this attempt (given or generated): pass it again to retry without risking a second call. */
  idempotencyKey: string;
  /** True when the key had already placed this call: nothing new was placed. */
  alreadyPlaced?: boolean;
  preview?: CallPreview;
  destination: { e164: string; country?: string };
  call?: CallSummary;
  monitor?: MonitorAvailability;
  transcriptUri?: string;
  listening?: ListeningView;
  /** Dry run only: the request that would be sent. */
  request?: { method: 'POST'; url: string; body: Record<string, unknown> };
  confirmationToken?: string;
  confirmationExpiresAt?: string;
  note?: string;
}

export async function placeCall(parts: CoreParts, given: PlaceCallRequest, context: OperationContext): Promise<PlaceCallResult> {
  const args: PlaceCallArgs = { ...given, listen: given.listen ?? true, monitor: given.monitor ?? true, dryRun: given.dryRun ?? false };
  const idempotencyKey = given.idempotencyKey ?? newIdempotencyKey();
  const verdict = parts.policy.check(args.customer.number);
  if (!verdict.ok) throw refusalError(verdict);
  const destination = { e164: verdict.e164, ...(verdict.country ? { country: verdict.country } : {}) };
  if (!args.dryRun) {
    const earlier = await callPlacedWithKey(parts, idempotencyKey, context.signal);
    if (earlier) return alreadyPlaced(parts, earlier, destination, idempotencyKey, context.signal);
  }
  const duplicateCheck = { e164: verdict.e164, idempotencyKey, allowRepeat: given.allowRepeat === true, signal: context.signal };
  await checkDuplicate(parts, duplicateCheck);
  checkInlineDestinations(parts, args);
  await checkQuietHours(parts, verdict.e164, args.scheduledAt);
  const { body, capNote } = buildRequestBody(parts, args, verdict.e164);
  await checkLimits(parts, context.signal);

  // Tokens are bound to the request without its idempotency key: the key names the attempt, not what is confirmed.
  const request = { method: 'POST' as const, url: `${parts.config.baseUrl}/call`, body };
  const preview = previewCall(parts, body, destination);
  if (args.dryRun) {
    const confirmation = await parts.confirmations.issue(request);
    return {
      status: 'dry-run',
      dryRun: true,
      destination,
      idempotencyKey,
      preview,
      request: { ...request, body: withIdempotencyKey(body, idempotencyKey) },
      confirmationToken: confirmation.token,
      confirmationExpiresAt: confirmation.expiresAt,
      note: joinNotes('Nothing was placed. Every check passed; call again without dryRun to place this call.', capNote)!,
    };
  }

  const confirmation = await confirmChange(parts, context, {
    question: `Place a phone call to ${verdict.e164}${args.customer.name ? ` (${args.customer.name})` : ''}? ${preview.summary}`,
    request,
    token: args.confirmationToken,
    retry: 'Run create_call without the token (or with dryRun: true) to get a new preview, show it to the user, and pass its token only once they agree.',
  });
  if (!confirmation.confirmed) {
    return {
      status: 'confirmation-required',
      dryRun: false,
      destination,
      idempotencyKey,
      preview,
      confirmationToken: confirmation.token,
      confirmationExpiresAt: confirmation.expiresAt,
      note: joinNotes(`${CONFIRMATION_NOTE} Pass idempotencyKey back too.`, capNote)!,
    };
  }

  return placeOnce(parts, idempotencyKey, async () => {
    const placed = await withNumberClaim(parts, duplicateCheck, async () =>
      postCall(parts, body, idempotencyKey, verdict.e164, await reserveSlot(parts, context.signal), context.signal),
    );
    const call = placed.call;
    parts.directory.remember(call);
    parts.idempotencyKeys.remember(idempotencyKey, call.id);
    parts.logger.info('call placed', { callId: call.id, status: call.status, ...(placed.recovered ? { recovered: true } : {}) });
    const result = await placedResult(parts, call, destination, idempotencyKey, args.listen, context.signal);
    const note = joinNotes(placed.recovered, capNote, result.note);
    return { ...result, ...(note ? { note } : {}) };
  }, (callId) => alreadyPlaced(parts, callId, destination, idempotencyKey, context.signal), context.signal);
}

async function placedResult(
  parts: CoreParts,
  call: Call,
  destination: PlaceCallResult['destination'],
  idempotencyKey: string,
  listen: boolean,
  signal: AbortSignal,
): Promise<PlaceCallResult> {
  const result: PlaceCallResult = {
    callId: call.id,
    status: call.status ?? 'queued',
    dryRun: false,
    destination,
    idempotencyKey,
    call: summarizeCall(call),
    monitor: monitorAvailability(call),
    transcriptUri: transcriptUri(call.id),
  };
  if (!listen) return { ...result, note: 'Not listening (listen: false). Start later with listen_call.' };
  if (!call.monitor?.listenUrl) {
    return { ...result, note: 'Vapi gave this call no usable listen URL, so it cannot be followed live; use get_call when it ends.' };
  }
  const target = await listenerFor(parts, call.id, { saveAudio: true, signal });
  return target.kind === 'live' ? { ...result, listening: listeningView(target.listener.state()) } : result;
}

async function alreadyPlaced(
  parts: CoreParts,
  callId: string,
  destination: PlaceCallResult['destination'],
  idempotencyKey: string,
  signal: AbortSignal,
): Promise<PlaceCallResult> {
  const call = await parts.rest.getCall(callId, { signal }).catch(() => undefined);
  const note = `This idempotencyKey already placed call ${callId}; nothing new was placed.`;
  const listener = parts.listeners.get(callId);
  return {
    callId,
    status: call?.status ?? listener?.state().status ?? 'unknown',
    dryRun: false,
    destination,
    idempotencyKey,
    alreadyPlaced: true,
    ...(call ? { call: summarizeCall(call), monitor: monitorAvailability(call) } : {}),
    transcriptUri: transcriptUri(callId),
    ...(listener ? { listening: listeningView(listener.state()) } : {}),
    note,
  };
}

function joinNotes(...notes: (string | undefined)[]): string | undefined {
  const present = notes.filter((n): n is string => !!n);
  return present.length > 0 ? present.join(' ') : undefined;
}
