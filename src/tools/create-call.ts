import { z } from 'zod';
import { checkInlineConfig, checkVariableValues } from '../guard/index.js';
import type { CallReservation, LimitVerdict } from '../guard/limits.js';
import { VapiError } from '../vapi/errors.js';
import { isCallId, type Call, type CreateCallBody } from '../vapi/schemas.js';
import { callSummarySchema, monitorAvailability, monitorAvailabilitySchema, summarizeCall } from './call-view.js';
import { assistantOverridesSchema, inlineAssistantSchema, variableValuesSchema } from './assistant-config.js';
import { defineTool } from './define.js';
import { jsonLimited } from './fields.js';
import { confirmWithHuman } from './confirm.js';
import { transcriptUri, type ToolDeps } from './deps.js';
import { listenerFor } from './listening.js';
import { listeningShape, listeningView } from './listen-call.js';
import { failureFromVapiError, ToolError } from './result.js';

const DESCRIPTION = `Place an outbound phone call through Vapi: a real phone rings and a Vapi AI assistant talks to the person who answers. It costs money and reaches a real human.
- If the user has not clearly asked for this exact call, first call with dryRun: true, show the user the number and assistant, and place the call only after they approve.
- Returns at once with callId (status queued); the call then rings and is answered. Live listening starts immediately (listen: true), so follow the conversation with read_transcript (pass nextSeq back as sinceSeq, waitSeconds to wait for news) or the resource vapi://calls/{callId}/transcript. Audio and events are saved to disk.
- Steer it with inject_say (assistant says your words now) or add_message; hang up with end_call.
- customer.number must be E.164 (+ and country code, e.g. +14155552671). Emergency, short-code and premium-rate numbers are always refused; the operator may restrict numbers, countries and how many calls run at once or per hour.
- assistantId and phoneNumberId default to the server's configured ones.
- Every refusal says whether retrying can help; never retry a refused number with small edits.`;

const customerSchema = z.strictObject({
  number: z.string().max(64).describe('Number to call in E.164 form: + then country code and number, e.g. +14155552671'),
  name: z.string().max(40).optional().describe('Name of the person, available to the assistant'),
  extension: z.string().max(10).optional().describe('Extension to dial after connecting'),
});

const input = {
  customer: customerSchema.describe('Who to call'),
  assistantId: z.string().max(100).optional().describe('Vapi assistant to run the call; defaults to VAPI_ASSISTANT_ID'),
  assistant: jsonLimited(inlineAssistantSchema, 100_000).optional(),
  assistantOverrides: jsonLimited(assistantOverridesSchema, 100_000).optional(),
  phoneNumberId: z.string().max(100).optional().describe('Vapi phone number to call from; defaults to VAPI_PHONE_NUMBER_ID'),
  firstMessage: z.string().max(1000).optional().describe('What the assistant says first when the call is answered'),
  variableValues: jsonLimited(variableValuesSchema, 20_000).optional(),
  name: z.string().max(40).optional().describe('A label for the call, shown in list_calls'),
  scheduledAt: z.string().max(40).optional().describe('ISO 8601 time to place the call later instead of now'),
  listen: z.boolean().default(true).describe('Start live listening at once (transcript and audio saved); false places the call without listening'),
  monitor: z
    .boolean()
    .default(true)
    .describe('Ask Vapi to enable live listen and control for this call; false leaves the assistant\'s own monitorPlan in charge'),
  dryRun: z
    .boolean()
    .default(false)
    .describe('Run every check and return the exact request, and a confirmationToken for it, without placing the call'),
  confirmationToken: z
    .string()
    .max(200)
    .optional()
    .describe('From a dry run of this exact request: places it once, as confirmed by the user who saw the preview (valid 5 minutes)'),
};

const output = {
  callId: z.string().optional().describe('Id of the placed call; absent on a dry run'),
  status: z.string().describe('Vapi call status, or "dry-run"'),
  dryRun: z.boolean(),
  destination: z.object({ e164: z.string(), country: z.string().optional() }),
  call: callSummarySchema.optional(),
  monitor: monitorAvailabilitySchema.optional(),
  transcriptUri: z.string().optional(),
  listening: z.object(listeningShape).optional(),
  request: z
    .object({
      method: z.literal('POST'),
      url: z.string(),
      body: z
        .record(z.string(), z.unknown())
        .describe('The exact JSON body of POST /call (Vapi CreateCallDTO): customer, phoneNumberId, assistantId or assistant, assistantOverrides, name, schedulePlan'),
    })
    .optional()
    .describe('Dry run only: the request that would be sent'),
  confirmationToken: z.string().optional().describe('Dry run only: pass back with the same request to place it once, after the user agreed'),
  confirmationExpiresAt: z.string().optional(),
  note: z.string().optional(),
};

type CreateCallArgs = z.output<z.ZodObject<typeof input>>;

export const createCallTool = defineTool({
  name: 'create_call',
  title: 'Place a phone call',
  description: DESCRIPTION,
  input,
  output,
  // Not destructive (it changes nothing that exists) but not idempotent: every call places another call.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  changesCalls: true,
  async run(deps, args, context) {
    const verdict = deps.policy.check(args.customer.number);
    if (!verdict.ok) {
      throw new ToolError({ code: verdict.code, reason: verdict.reason, suggestion: verdict.suggestion, retryable: false });
    }
    checkInlineDestinations(deps, args);
    const destination = { e164: verdict.e164, ...(verdict.country ? { country: verdict.country } : {}) };
    const body = buildRequestBody(deps, args, verdict.e164);
    await checkLimits(deps, context.signal);

    const request = { method: 'POST', url: `${deps.config.baseUrl}/call`, body };
    if (args.dryRun) {
      const confirmation = deps.confirmations.issue(request);
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
      const redeemed = deps.confirmations.redeem(args.confirmationToken, request);
      if (!redeemed.ok) {
        throw new ToolError({
          code: redeemed.code,
          reason: `${redeemed.reason} No call was placed.`,
          suggestion: 'Run create_call with dryRun: true again, show the user the new preview, and pass its token only once they agree.',
          retryable: false,
        });
      }
    }
    // A client that can ask still asks; the token stands in for the question only where it cannot.
    await confirmWithHuman(deps, context, `Place a phone call to ${verdict.e164}${args.customer.name ? ` (${args.customer.name})` : ''}?`, {
      confirmedByToken: args.confirmationToken !== undefined,
    });

    const reservation = await reserveSlot(deps, context.signal);
    const call = await placeCall(deps, body, verdict.e164, reservation, context.signal);
    deps.directory.remember(call);
    deps.logger.info('call placed', { callId: call.id, status: call.status });

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
    const target = await listenerFor(deps, call.id, { saveAudio: true, signal: context.signal });
    return target.kind === 'live' ? { ...result, listening: listeningView(target.listener.state()) } : result;
  },
});

function buildRequestBody(deps: ToolDeps, args: CreateCallArgs, e164: string): CreateCallBody {
  const assistantId = args.assistant ? args.assistantId : (args.assistantId ?? deps.config.assistantId);
  if (!assistantId && !args.assistant) {
    throw new ToolError({
      code: 'missing-assistant',
      reason: 'No assistant for the call: neither assistantId nor assistant was given, and VAPI_ASSISTANT_ID is not set.',
      suggestion: 'Pass assistantId (see your Vapi dashboard) or an inline assistant.',
      retryable: false,
    });
  }
  const phoneNumberId = args.phoneNumberId ?? deps.config.phoneNumberId;
  if (!phoneNumberId) {
    throw new ToolError({
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
function checkInlineDestinations(deps: ToolDeps, args: CreateCallArgs): void {
  const refusal =
    checkInlineConfig(deps.policy, 'assistant', args.assistant) ??
    checkInlineConfig(deps.policy, 'assistantOverrides', args.assistantOverrides) ??
    checkVariableValues(deps.policy, 'variableValues', args.variableValues) ??
    checkVariableValues(deps.policy, 'assistantOverrides.variableValues', args.assistantOverrides?.variableValues as Record<string, unknown> | undefined);
  if (refusal) throw new ToolError({ code: refusal.code, reason: refusal.reason, suggestion: refusal.suggestion, retryable: false });
}

function parseScheduledAt(value: string): string {
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new ToolError({
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
async function placeCall(deps: ToolDeps, body: CreateCallBody, e164: string, reservation: CallReservation, signal: AbortSignal): Promise<Call> {
  let call: Call;
  try {
    call = await deps.rest.createCall(body, { signal });
  } catch (err) {
    if (err instanceof VapiError && !err.mayHaveSucceeded) reservation.release();
    else reservation.untracked();
    if (err instanceof VapiError && err.kind === 'invalid-response') throw placedButUnreadable(e164, 'its answer could not be read');
    if (err instanceof VapiError) {
      throw new ToolError(
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

function placedButUnreadable(e164: string, what: string): ToolError {
  return new ToolError({
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
async function checkLimits(deps: ToolDeps, signal: AbortSignal): Promise<void> {
  const verdict = await withFreshLiveCalls(deps, signal, () => deps.limits.check());
  if (!verdict.ok) throw limitError(verdict);
}

/** Takes a slot atomically, right before the request leaves; refused like checkLimits when none is free. */
async function reserveSlot(deps: ToolDeps, signal: AbortSignal): Promise<CallReservation> {
  const verdict = await withFreshLiveCalls(deps, signal, () => deps.limits.reserve());
  if (!verdict.ok) throw limitError(verdict);
  return verdict.reservation;
}

async function withFreshLiveCalls<V extends { ok: boolean; code?: string }>(deps: ToolDeps, signal: AbortSignal, attempt: () => V): Promise<V> {
  const first = attempt();
  if (first.ok || first.code !== 'concurrency') return first;
  await Promise.all(
    deps.limits.liveCallIds().map(async (id) => {
      const call = await deps.rest.getCall(id, { signal }).catch(() => undefined);
      if (call?.status === 'ended') deps.limits.recordEnded(id);
    }),
  );
  return attempt();
}

function limitError(verdict: Exclude<LimitVerdict, { ok: true }>): ToolError {
  return new ToolError({
    code: verdict.code,
    reason: verdict.reason,
    suggestion: verdict.suggestion,
    retryable: verdict.retryable,
    ...(verdict.retryAfterSeconds !== undefined ? { retryAfterSeconds: verdict.retryAfterSeconds } : {}),
  });
}
