/**
 * placeCall: every check (dial policy, inline destinations, limits), then a dry run's preview and token, or the
 * call itself (confirmed by the human where the face can ask), listening at once unless told not to.
 */
import { checkInlineConfig, checkVariableValues } from '../../guard/index.js';
import type { CallReservation } from '../../guard/limits.js';
import { VapiError } from '../../vapi/errors.js';
import { isCallId, type Call, type CreateCallBody } from '../../vapi/schemas.js';
import { CallError, failureFromVapiError, refusalError } from '../errors.js';
import { transcriptUri, type CoreParts, type OperationContext } from '../parts.js';
import { monitorAvailability, summarizeCall, type CallSummary, type MonitorAvailability } from '../views/call.js';
import { listeningView, type ListeningView } from '../views/listening.js';
import { confirmWithHuman } from './confirm.js';
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
  /** From a dry run of this exact request: places it once. */
  confirmationToken?: string;
}

export interface PlaceCallResult {
  callId?: string;
  /** Vapi call status, or "dry-run". */
  status: string;
  dryRun: boolean;
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
  const verdict = parts.policy.check(args.customer.number);
  if (!verdict.ok) throw refusalError(verdict);
  checkInlineDestinations(parts, args);
  const destination = { e164: verdict.e164, ...(verdict.country ? { country: verdict.country } : {}) };
  const body = buildRequestBody(parts, args, verdict.e164);
  await checkLimits(parts, context.signal);

  const request = { method: 'POST', url: `${parts.config.baseUrl}/call`, body };
  if (args.dryRun) {
    const confirmation = parts.confirmations.issue(request);
    return {
      status: 'dry-run',
      dryRun: true,
      destination,
      request: { ...request, method: 'POST' as const },
      confirmationToken: confirmation.token,
      confirmationExpiresAt: confirmation.expiresAt,
      note: 'Nothing was placed. Every check passed; call again without dryRun to place this call.',
    };
  }

  if (args.confirmationToken !== undefined) {
    const redeemed = parts.confirmations.redeem(args.confirmationToken, request);
    if (!redeemed.ok) {
      throw new CallError({
        code: redeemed.code,
        reason: `${redeemed.reason} No call was placed.`,
        suggestion: 'Run create_call with dryRun: true again, show the user the new preview, and pass its token only once they agree.',
        retryable: false,
      });
    }
  }
  // A client that can ask still asks; the token stands in for the question only where it cannot.
  await confirmWithHuman(parts, context, `Place a phone call to ${verdict.e164}${args.customer.name ? ` (${args.customer.name})` : ''}?`, {
    confirmedByToken: args.confirmationToken !== undefined,
  });

  const reservation = await reserveSlot(parts, context.signal);
  const call = await postCall(parts, body, verdict.e164, reservation, context.signal);
  parts.directory.remember(call);
  parts.logger.info('call placed', { callId: call.id, status: call.status });

  const result = {
    callId: call.id,
    status: call.status ?? 'queued',
    dryRun: false,
    destination,
    call: summarizeCall(call),
    monitor: monitorAvailability(call),
    transcriptUri: transcriptUri(call.id),
  };
  if (!args.listen) return { ...result, note: 'Not listening (listen: false). Start later with listen_call.' };
  if (!call.monitor?.listenUrl) {
    return { ...result, note: 'Vapi gave this call no usable listen URL, so it cannot be followed live; use get_call when it ends.' };
  }
  const target = await listenerFor(parts, call.id, { saveAudio: true, signal: context.signal });
  return target.kind === 'live' ? { ...result, listening: listeningView(target.listener.state()) } : result;
}

function buildRequestBody(parts: CoreParts, args: PlaceCallArgs, e164: string): CreateCallBody {
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

  const customer = { ...args.customer, number: e164 };
  const body: CreateCallBody = { phoneNumberId, customer };
  if (assistantId) body.assistantId = assistantId;
  if (args.assistant) body.assistant = args.assistant;
  if (Object.keys(overrides).length > 0) body.assistantOverrides = overrides;
  if (args.name !== undefined) body.name = args.name;
  if (args.scheduledAt !== undefined) body.schedulePlan = { earliestAt: parseScheduledAt(args.scheduledAt) };
  return body;
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
 * POST /call, with the reserved slot settled by the outcome: given back only when the failure proves no call was
 * placed, kept when it may have been, and kept (for a while) when Vapi answered with an id this server cannot use.
 */
async function postCall(parts: CoreParts, body: CreateCallBody, e164: string, reservation: CallReservation, signal: AbortSignal): Promise<Call> {
  let call: Call;
  try {
    call = await parts.rest.createCall(body, { signal });
  } catch (err) {
    if (err instanceof VapiError && !err.mayHaveSucceeded) reservation.release();
    else reservation.untracked();
    if (err instanceof VapiError && err.kind === 'invalid-response') throw placedButUnreadable(e164, 'its answer could not be read');
    if (err instanceof VapiError) {
      throw new CallError(
        failureFromVapiError(err, {
          what: `Placing a call to ${e164}`,
          ifOutcomeUnknown: 'Check list_calls for this number before trying again: a blind retry could place a second call.',
        }),
      );
    }
    throw err;
  }
  const callId = call.id.trim().toLowerCase();
  if (!isCallId(callId)) {
    reservation.untracked();
    throw placedButUnreadable(e164, `it gave the call an id that is not a Vapi call id (${JSON.stringify(call.id.slice(0, 40))})`);
  }
  reservation.placed(callId);
  return { ...call, id: callId };
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
