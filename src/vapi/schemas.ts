/**
 * The parts of Vapi's wire objects this server reads. Every object schema is loose: Vapi adds fields
 * constantly, and unknown fields must pass through untouched.
 */
import { z } from 'zod';

export const CALL_STATUSES = [
  'scheduled',
  'queued',
  'ringing',
  'in-progress',
  'forwarding',
  'ended',
  'not-found',
  'deletion-failed',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Statuses of a call that has not been answered yet. */
export const PRE_ANSWER_STATUSES: ReadonlySet<string> = new Set(['scheduled', 'queued', 'ringing']);

/** Statuses after which a call can no longer be listened to or steered. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['ended', 'not-found', 'deletion-failed']);

export const MessageSchema = z.looseObject({
  role: z.string(),
  message: z.string().optional(),
  time: z.number().optional(),
  endTime: z.number().optional(),
  secondsFromStart: z.number().optional(),
});
export type VapiMessage = z.infer<typeof MessageSchema>;

export const CustomerSchema = z.looseObject({
  number: z.string().optional(),
  name: z.string().optional(),
  extension: z.string().optional(),
  sipUri: z.string().optional(),
});

/**
 * A monitor URL is used only when it is ws(s) or http(s): anything else (file:, javascript:, garbage) is dropped
 * here, so the call reads as having no listen or control URL instead of failing deep inside a socket library.
 */
const MONITOR_PROTOCOLS = new Set(['ws:', 'wss:', 'http:', 'https:']);
const monitorUrl = z
  .unknown()
  .transform((value) => (typeof value === 'string' && URL.canParse(value) && MONITOR_PROTOCOLS.has(new URL(value).protocol) ? value : undefined))
  .optional();

export const MonitorSchema = z.looseObject({
  listenUrl: monitorUrl,
  controlUrl: monitorUrl,
});

export const ArtifactSchema = z.looseObject({
  transcript: z.string().optional(),
  messages: z.array(MessageSchema).optional(),
  recordingUrl: z.string().optional(),
  stereoRecordingUrl: z.string().optional(),
  recording: z
    .looseObject({
      stereoUrl: z.string().optional(),
      mono: z
        .looseObject({
          combinedUrl: z.string().optional(),
          assistantUrl: z.string().optional(),
          customerUrl: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
});

export const CallSchema = z.looseObject({
  id: z.string(),
  orgId: z.string().optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  type: z.string().optional(),
  status: z.string().optional(),
  endedReason: z.string().optional(),
  endedMessage: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  cost: z.number().optional(),
  costBreakdown: z.record(z.string(), z.unknown()).optional(),
  customer: CustomerSchema.optional(),
  phoneNumberId: z.string().optional(),
  assistantId: z.string().optional(),
  name: z.string().optional(),
  monitor: MonitorSchema.optional(),
  artifact: ArtifactSchema.optional(),
  analysis: z.looseObject({ summary: z.string().optional() }).optional(),
  messages: z.array(MessageSchema).optional(),
  // Legacy top-level fields that older payloads still carry.
  transcript: z.string().optional(),
  summary: z.string().optional(),
  recordingUrl: z.string().optional(),
  stereoRecordingUrl: z.string().optional(),
});
export type Call = z.infer<typeof CallSchema>;

/** Query parameters Vapi's GET /call accepts, passed through unchanged. */
export const LIST_CALL_FILTER_KEYS = [
  'id',
  'assistantId',
  'phoneNumberId',
  'limit',
  'createdAtGt',
  'createdAtLt',
  'createdAtGe',
  'createdAtLe',
  'updatedAtGt',
  'updatedAtLt',
  'updatedAtGe',
  'updatedAtLe',
] as const;
export type ListCallFilterKey = (typeof LIST_CALL_FILTER_KEYS)[number];
export type ListCallsFilters = Partial<Record<Exclude<ListCallFilterKey, 'limit'>, string>> & { limit?: number };

/** Body of POST /call (CreateCallDTO): only the fields this server sets; the rest pass through. */
export interface CreateCallBody {
  assistantId?: string;
  assistant?: Record<string, unknown>;
  assistantOverrides?: Record<string, unknown>;
  phoneNumberId?: string;
  customer?: { number?: string; name?: string; extension?: string; [k: string]: unknown };
  name?: string;
  schedulePlan?: { earliestAt: string; latestAt?: string };
  [k: string]: unknown;
}

/** Vapi's live-control message bodies, POSTed bare to `call.monitor.controlUrl`. */
export type ControlAction = 'mute-assistant' | 'unmute-assistant' | 'mute-customer' | 'unmute-customer' | 'say-first-message';
export const TRANSFER_MODES = [
  'blind-transfer',
  'blind-transfer-add-summary-to-sip-header',
  'warm-transfer-say-message',
  'warm-transfer-say-summary',
  'warm-transfer-wait-for-operator-to-speak-first-and-then-say-message',
  'warm-transfer-wait-for-operator-to-speak-first-and-then-say-summary',
  'warm-transfer-twiml',
  'warm-transfer-experimental',
] as const;
export type TransferMode = (typeof TRANSFER_MODES)[number];

export type TransferDestination =
  | { type: 'number'; number: string; extension?: string; transferPlan?: { mode: TransferMode } }
  | { type: 'sip'; sipUri: string; transferPlan?: { mode: TransferMode } };

export type ControlMessage =
  | { type: 'say'; content: string; endCallAfterSpoken?: boolean; interruptAssistantEnabled?: boolean }
  | { type: 'add-message'; message: { role: string; content: string }; triggerResponseEnabled: boolean }
  | { type: 'control'; control: ControlAction }
  | { type: 'end-call' }
  | { type: 'transfer'; destination: TransferDestination; content?: string };

/** A JSON event from the listen socket, unwrapped from `{message: …}` when it arrived wrapped. */
export interface ListenEvent {
  type: string;
  [k: string]: unknown;
}

/** The audio format of a listen stream: always linear16 little-endian PCM. */
export interface AudioFormat {
  sampleRate: number;
  channels: number;
}
export const DEFAULT_AUDIO_FORMAT: AudioFormat = { sampleRate: 16000, channels: 2 };

/** Vapi call ids are UUIDs; anything else is refused before it reaches a URL or a file name. */
export const CALL_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isCallId(value: string): boolean {
  return CALL_ID_PATTERN.test(value);
}
