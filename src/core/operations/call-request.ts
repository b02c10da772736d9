/**
 * What a create_call request becomes before anything is placed: the checks on everything it may dial (inline
 * destinations, quiet hours), the Vapi request body with the call-length cap, and the preview a human confirms.
 */
import { checkInlineConfig, checkVariableValues } from '../../guard/index.js';
import { phoneLib } from '../../guard/phone-lib.js';
import type { CreateCallBody } from '../../vapi/schemas.js';
import { CallError, refusalError } from '../errors.js';
import type { CoreParts } from '../parts.js';
import type { PlaceCallRequest, PlaceCallResult } from './place-call.js';

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

export type PlaceCallArgs = PlaceCallRequest & { listen: boolean; monitor: boolean; dryRun: boolean };

/** Numbers and SIP addresses inside inline configuration are dialled later in the call: check them now. */
export function checkInlineDestinations(parts: CoreParts, args: PlaceCallArgs): void {
  const refusal =
    checkInlineConfig(parts.policy, 'assistant', args.assistant) ??
    checkInlineConfig(parts.policy, 'assistantOverrides', args.assistantOverrides) ??
    checkVariableValues(parts.policy, 'variableValues', args.variableValues) ??
    checkVariableValues(parts.policy, 'assistantOverrides.variableValues', args.assistantOverrides?.variableValues as Record<string, unknown> | undefined);
  if (refusal) throw refusalError(refusal);
}

/** Quiet hours in the callee's local time, judged at the scheduled time for a scheduled call. */
export async function checkQuietHours(parts: CoreParts, e164: string, scheduledAt: string | undefined): Promise<void> {
  if (!parts.quietHours) return;
  const verdict = await parts.quietHours.check(e164, scheduledAt === undefined ? undefined : parseScheduledAt(scheduledAt));
  if (!verdict.ok) throw refusalError(verdict);
}

/** The POST /call body: defaults filled in, steering folded into assistantOverrides, the call length capped. */
export function buildRequestBody(parts: CoreParts, args: PlaceCallArgs, e164: string): { body: CreateCallBody; capNote?: string } {
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

/** What the human confirms: the number as dialled and as read, who speaks, from which number, and the limits. */
export function previewCall(parts: CoreParts, body: CreateCallBody, destination: PlaceCallResult['destination']): CallPreview {
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
