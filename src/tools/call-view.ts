/**
 * What the model sees of a Vapi Call: compact rows for lists, a fuller view for get_call. Monitor URLs are
 * reduced to booleans here, the one place calls are shaped for output.
 */
import { inertLine, inertLines } from '../call-text.js';
import { z } from 'zod';
import { cutText } from '../live/transcript.js';
import type { Call, VapiMessage } from '../vapi/schemas.js';

export const callSummaryShape = {
  id: z.string(),
  status: z.string().optional(),
  type: z.string().optional(),
  customerNumber: z.string().optional(),
  customerName: z.string().optional(),
  name: z.string().optional(),
  createdAt: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  durationSeconds: z.number().optional(),
  endedReason: z.string().optional(),
  cost: z.number().optional(),
};
export const callSummarySchema = z.object(callSummaryShape);
export type CallSummary = z.infer<typeof callSummarySchema>;

export const monitorAvailabilitySchema = z.object({
  listen: z.boolean().describe('Live listening is possible (the call has a listen URL)'),
  control: z.boolean().describe('Live control is possible (the call has a control URL)'),
});

export function durationSeconds(call: Call, now = Date.now()): number | undefined {
  if (!call.startedAt) return undefined;
  const start = Date.parse(call.startedAt);
  const end = call.endedAt ? Date.parse(call.endedAt) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return Math.max(0, Math.round((end - start) / 100) / 10);
}

function definedOnly<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A row's text fields (names, endedReason …) are cut at this many characters: a real one is far shorter. */
export const ROW_FIELD_MAX_CHARS = 2048;

export function summarizeCall(call: Call): CallSummary {
  const text = (value: string | undefined) => (value === undefined ? undefined : cutText(value, ROW_FIELD_MAX_CHARS));
  return definedOnly({
    id: cutText(call.id, ROW_FIELD_MAX_CHARS),
    status: text(call.status),
    type: text(call.type),
    customerNumber: text(call.customer?.number),
    customerName: text(call.customer?.name),
    name: text(call.name),
    createdAt: text(call.createdAt),
    startedAt: text(call.startedAt),
    endedAt: text(call.endedAt),
    durationSeconds: durationSeconds(call),
    endedReason: text(call.endedReason),
    cost: call.cost,
  });
}

export function monitorAvailability(call: Call): z.infer<typeof monitorAvailabilitySchema> {
  return { listen: Boolean(call.monitor?.listenUrl), control: Boolean(call.monitor?.controlUrl) };
}

export const compactMessageSchema = z.object({
  role: z.string().describe('customer, assistant, system, tool_calls or tool_call_result'),
  text: z.string(),
  secondsFromStart: z.number().optional(),
});
export type CompactMessage = z.infer<typeof compactMessageSchema>;

const ROLE_NAMES: Record<string, string> = { bot: 'assistant', assistant: 'assistant', user: 'customer' };

export function compactMessages(call: Call): CompactMessage[] {
  const messages: VapiMessage[] = call.artifact?.messages ?? call.messages ?? [];
  return messages.map((m) =>
    definedOnly({
      role: ROLE_NAMES[m.role] ?? m.role,
      text: inertLine(messageText(m)),
      secondsFromStart: typeof m.secondsFromStart === 'number' ? Math.round(m.secondsFromStart * 10) / 10 : undefined,
    }),
  );
}

function messageText(m: VapiMessage): string {
  if (typeof m.message === 'string') return m.message;
  const record = m as Record<string, unknown>;
  if (typeof record.result === 'string') return record.result;
  if (Array.isArray(record.toolCalls)) return `[${record.toolCalls.length} tool call(s)]`;
  return '';
}

/** Current location first, legacy top-level fields as fallback (API.md §2). */
export function callTranscript(call: Call): string | undefined {
  const text = call.artifact?.transcript ?? call.transcript;
  return text === undefined ? undefined : inertLines(text);
}

export function callRecordings(call: Call): { mono?: string; stereo?: string } {
  return definedOnly({
    mono: call.artifact?.recordingUrl ?? call.artifact?.recording?.mono?.combinedUrl ?? call.recordingUrl,
    stereo: call.artifact?.stereoRecordingUrl ?? call.artifact?.recording?.stereoUrl ?? call.stereoRecordingUrl,
  });
}

/** Cuts text to maxChars, keeping the end (the newest part of a transcript). */
export function keepTail(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  return { text: `…${text.slice(text.length - maxChars + 1)}`, truncated: true };
}
