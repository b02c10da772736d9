/**
 * What faces show of a Vapi Call: compact rows for lists, the pieces of the full view. Monitor URLs are
 * reduced to booleans here, the one place calls are shaped for output.
 */
import { inertLine, inertLines } from '../call-text.js';
import { cutText } from '../../live/transcript.js';
import type { Call, VapiMessage } from '../../vapi/schemas.js';

export interface CallSummary {
  id: string;
  status?: string;
  type?: string;
  customerNumber?: string;
  customerName?: string;
  name?: string;
  createdAt?: string;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  endedReason?: string;
  cost?: number;
}

export interface MonitorAvailability {
  /** Live listening is possible (the call has a listen URL). */
  listen: boolean;
  /** Live control is possible (the call has a control URL). */
  control: boolean;
}

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

export function monitorAvailability(call: Call): MonitorAvailability {
  return { listen: Boolean(call.monitor?.listenUrl), control: Boolean(call.monitor?.controlUrl) };
}

export interface CompactMessage {
  /** customer, assistant, system, tool_calls or tool_call_result */
  role: string;
  text: string;
  secondsFromStart?: number;
}

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
