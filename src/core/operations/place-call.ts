/**
 * placeCall: every check (dial policy, inline destinations, quiet hours, limits), then a dry run's preview and
 * token, a confirmation-required preview where the human must agree but the face cannot ask, or the call itself,
 * placed at most once per idempotency key, listening at once unless told not to.
 */
import { checkInlineConfig, checkVariableValues } from '../../guard/index.js';
import type { CallReservation } from '../../guard/limits.js';
import { VapiError } from '../../vapi/errors.js';
import { isCallId, type Call, type CreateCallBody } from '../../vapi/schemas.js';
import { CallError, failureFromVapiError, refusalError } from '../errors.js';
import { transcriptUri, type CoreParts, type OperationContext } from '../parts.js';
import { monitorAvailability, summarizeCall, type CallSummary, type MonitorAvailability } from '../views/call.js';
import { listeningView, type ListeningView } from '../views/listening.js';
import { phoneLib } from '../../guard/phone-lib.js';
import { findCallByIdempotencyKey, newIdempotencyKey, withIdempotencyKey } from '../../vapi/idempotency.js';
import { checkDuplicate, withNumberClaim } from '../duplicate-guard.js';
import { CONFIRMATION_NOTE, confirmChange } from './confirm.js';
import { listenerFor } from './listen.js';

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

/** What the human confirms before a call is placed. */
export interface CallPreview {
  /** One sentence for the user. */
  summary: string;
  number: { e164: string; international: string; national?: string; country?: string };
  customerName?: string;
  assistant: string;
  phoneNumberId: string;
  scheduledAt?: string;
  caps: { maxDurationSeconds?: number; maxConcurrentCalls: number; maxCallsPerHour: number; quietHours?: string };
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
    const confirmation = parts.confirmations.issue(request);
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
  });
}

/** Concurrent requests with the same key share one placement: only the first places a call. */
async function placeOnce(parts: CoreParts, key: string, place: () => Promise<PlaceCallResult>): Promise<PlaceCallResult> {
  const running = parts.placements.inFlight.get(key);
  if (running) {
    const first = await running;
    return { ...first, alreadyPlaced: true, note: `A request with this idempotencyKey placed call ${first.callId}; nothing new was placed.` };
  }
  const placing = place();
  parts.placements.inFlight.set(key, placing);
  try {
    return await placing;
  } finally {
    parts.placements.inFlight.delete(key);
  }
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

/**
 * The call an idempotency key already placed, if any: remembered here, or, for a key whose earlier attempt ended
 * with its outcome unknown, looked up at Vapi first.
 */
async function callPlacedWithKey(parts: CoreParts, key: string, signal: AbortSignal): Promise<string | undefined> {
  const running = parts.placements.inFlight.get(key);
  if (running) return (await running.catch(() => undefined))?.callId;
  const known = parts.idempotencyKeys.get(key);
  if (known) return known;
  const uncertainSince = parts.placements.uncertain.get(key);
  if (uncertainSince === undefined) return undefined;
  const check = await findCallByIdempotencyKey(parts.rest, key, { requestStartedAt: uncertainSince, signal, ...parts.placements.lookup });
  if (check.outcome === 'unknown') throw stillUnknown(key, check.reason);
  parts.placements.uncertain.delete(key);
  if (check.outcome === 'not-placed') return undefined;
  const callId = check.call.id.trim().toLowerCase();
  parts.directory.remember({ ...check.call, id: callId });
  parts.idempotencyKeys.remember(key, callId);
  return callId;
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

/** Quiet hours in the callee's local time, judged at the scheduled time for a scheduled call. */
async function checkQuietHours(parts: CoreParts, e164: string, scheduledAt: string | undefined): Promise<void> {
  if (!parts.quietHours) return;
  const verdict = await parts.quietHours.check(e164, scheduledAt === undefined ? undefined : parseScheduledAt(scheduledAt));
  if (!verdict.ok) throw refusalError(verdict);
}

/** What the human confirms: the number as dialled and as read, who speaks, from which number, and the limits. */
function previewCall(parts: CoreParts, body: CreateCallBody, destination: PlaceCallResult['destination']): CallPreview {
  const number = phoneLib().parsePhoneNumberFromString(destination.e164);
  const overrides = body.assistantOverrides as Record<string, unknown> | undefined;
  const maxDurationSeconds = typeof overrides?.maxDurationSeconds === 'number' ? overrides.maxDurationSeconds : undefined;
  const inlineName = typeof body.assistant?.name === 'string' ? body.assistant.name : undefined;
  const preview: CallPreview = {
    number: {
      e164: destination.e164,
      international: number?.formatInternational() ?? destination.e164,
      ...(number && number.country ? { national: number.formatNational() } : {}),
      ...(destination.country ? { country: destination.country } : {}),
    },
    ...(body.customer?.name ? { customerName: body.customer.name } : {}),
    assistant: body.assistantId ?? (inlineName ? `inline assistant "${inlineName}"` : 'inline assistant'),
    phoneNumberId: body.phoneNumberId ?? '',
    ...(body.schedulePlan ? { scheduledAt: body.schedulePlan.earliestAt } : {}),
    caps: {
      ...(maxDurationSeconds !== undefined ? { maxDurationSeconds } : {}),
      maxConcurrentCalls: parts.config.maxConcurrentCalls,
      maxCallsPerHour: parts.config.maxCallsPerHour,
      ...(parts.config.quietHours ? { quietHours: parts.config.quietHours.text } : {}),
    },
    summary: '',
  };
  const where = [preview.number.national, preview.number.country].filter(Boolean).join(', ');
  preview.summary =
    `Call ${preview.number.international}${where ? ` (${where})` : ''}${preview.customerName ? `, ${preview.customerName},` : ''}` +
    ` with assistant ${preview.assistant} from phone number ${preview.phoneNumberId}` +
    `${preview.scheduledAt ? ` at ${preview.scheduledAt}` : ' now'}` +
    `${maxDurationSeconds !== undefined ? `; it ends after at most ${formatDuration(maxDurationSeconds)}` : ''}.`;
  return preview;
}

function formatDuration(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} seconds`;
}

function joinNotes(...notes: (string | undefined)[]): string | undefined {
  const present = notes.filter((n): n is string => !!n);
  return present.length > 0 ? present.join(' ') : undefined;
}

function buildRequestBody(parts: CoreParts, args: PlaceCallArgs, e164: string): { body: CreateCallBody; capNote?: string } {
  const assistantId = args.assistant ? args.assistantId : (args.assistantId ?? parts.config.assistantId);
  if (!assistantId && !args.assistant) {
    throw new CallError({
      code: 'missing-assistant',
      reason: 'No assistant for the call: neither assistantId nor assistant was given, and VAPI_ASSISTANT_ID is not set.',
      suggestion: 'Pass assistantId (see your Vapi dashboard) or an inline assistant.',
      retryable: false,
    });
  }
  const phoneNumberId = args.phoneNumberId ?? parts.config.phoneNumberId;
  if (!phoneNumberId) {
    throw new CallError({
      code: 'missing-phone-number',
      reason: 'No phone number to call from: phoneNumberId was not given and VAPI_PHONE_NUMBER_ID is not set.',
      suggestion: 'Pass phoneNumberId (a Vapi phone number id from the dashboard) or ask the operator to set VAPI_PHONE_NUMBER_ID.',
      retryable: false,
    });
  }

  const overrides: Record<string, unknown> = { ...args.assistantOverrides };
  if (args.firstMessage !== undefined) overrides.firstMessage = args.firstMessage;
  if (args.variableValues !== undefined) {
    overrides.variableValues = { ...(overrides.variableValues as Record<string, unknown> | undefined), ...args.variableValues };
  }
  if (args.monitor) {
    overrides.monitorPlan = { ...(overrides.monitorPlan as Record<string, unknown> | undefined), listenEnabled: true, controlEnabled: true };
  }

  const cap = capDuration(parts, overrides.maxDurationSeconds ?? args.assistant?.maxDurationSeconds);
  if (cap) overrides.maxDurationSeconds = cap.seconds;

  const customer = { ...args.customer, number: e164 };
  const body: CreateCallBody = { phoneNumberId, customer };
  if (assistantId) body.assistantId = assistantId;
  if (args.assistant) body.assistant = cap && typeof args.assistant.maxDurationSeconds === 'number' ? { ...args.assistant, maxDurationSeconds: cap.seconds } : args.assistant;
  if (Object.keys(overrides).length > 0) body.assistantOverrides = overrides;
  if (args.name !== undefined) body.name = args.name;
  if (args.scheduledAt !== undefined) body.schedulePlan = { earliestAt: parseScheduledAt(args.scheduledAt) };
  return { body, ...(cap?.note ? { capNote: cap.note } : {}) };
}

/** The call's maxDurationSeconds under VAPI_MAX_CALL_MINUTES: the cap, or a shorter value asked for. */
function capDuration(parts: CoreParts, asked: unknown): { seconds: number; note?: string } | undefined {
  const minutes = parts.config.maxCallMinutes;
  if (minutes === undefined) return undefined;
  const capSeconds = minutes * 60;
  if (typeof asked === 'number' && asked > 0 && asked <= capSeconds) return { seconds: asked };
  if (typeof asked === 'number' && asked > capSeconds) {
    return {
      seconds: capSeconds,
      note: `maxDurationSeconds ${asked} was lowered to ${capSeconds}: this server caps calls at ${minutes} minutes (VAPI_MAX_CALL_MINUTES).`,
    };
  }
  return { seconds: capSeconds };
}

/** Numbers and SIP addresses inside inline configuration are dialled later in the call: check them now. */
function checkInlineDestinations(parts: CoreParts, args: PlaceCallArgs): void {
  const refusal =
    checkInlineConfig(parts.policy, 'assistant', args.assistant) ??
    checkInlineConfig(parts.policy, 'assistantOverrides', args.assistantOverrides) ??
    checkVariableValues(parts.policy, 'variableValues', args.variableValues) ??
    checkVariableValues(parts.policy, 'assistantOverrides.variableValues', args.assistantOverrides?.variableValues as Record<string, unknown> | undefined);
  if (refusal) throw refusalError(refusal);
}

function parseScheduledAt(value: string): string {
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new CallError({
      code: 'invalid-scheduled-at',
      reason: `scheduledAt "${value}" is not an ISO 8601 date-time.`,
      suggestion: 'Give a full date-time with time zone, e.g. 2026-11-21T15:00:00Z, or leave it out to call now.',
      retryable: false,
    });
  }
  return new Date(at).toISOString();
}

/**
 * POST /call carrying the idempotency key, with the reserved slot settled by the outcome. When the answer is lost
 * (timeout, dropped connection, unreadable answer) the call is looked for at Vapi by its key: found, it is the
 * placed call; proven absent, the slot is given back and nothing was placed; Vapi unreachable, the slot is kept
 * and the key remembered as uncertain, so a retry with it checks again before placing anything.
 */
async function postCall(
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
async function checkLimits(parts: CoreParts, signal: AbortSignal): Promise<void> {
  const verdict = await withFreshLiveCalls(parts, signal, () => parts.limits.check());
  if (!verdict.ok) throw refusalError(verdict);
}

/** Takes a slot atomically, right before the request leaves; refused like checkLimits when none is free. */
async function reserveSlot(parts: CoreParts, signal: AbortSignal): Promise<CallReservation> {
  const verdict = await withFreshLiveCalls(parts, signal, () => parts.limits.reserve());
  if (!verdict.ok) throw refusalError(verdict);
  return verdict.reservation;
}

async function withFreshLiveCalls<V extends { ok: boolean; code?: string }>(parts: CoreParts, signal: AbortSignal, attempt: () => V): Promise<V> {
  const first = attempt();
  if (first.ok || first.code !== 'concurrency') return first;
  await Promise.all(
    parts.limits.liveCallIds().map(async (id) => {
      const call = await parts.rest.getCall(id, { signal }).catch(() => undefined);
      if (call?.status === 'ended') parts.limits.recordEnded(id);
    }),
  );
  return attempt();
}


type PlaceCallArgs = PlaceCallRequest & { listen: boolean; monitor: boolean; dryRun: boolean };
