/**
 * getCall: one call in full, always fresh from Vapi. One character budget (maxChars) is shared by summary,
 * transcript and messages; every other text field is cut at ROW_FIELD_MAX_CHARS.
 */
import { CALL_CONTENT_NOTICE, inertLines } from '../call-text.js';
import { cutText } from '../../live/transcript.js';
import { requireCallId } from '../call-id.js';
import { transcriptUri, type CoreParts, type OperationContext } from '../parts.js';
import {
  callRecordings,
  callTranscript,
  compactMessages,
  keepTail,
  monitorAvailability,
  ROW_FIELD_MAX_CHARS,
  summarizeCall,
  type CallSummary,
  type CompactMessage,
  type MonitorAvailability,
} from '../views/call.js';
import { listeningView, type ListeningView } from '../views/listening.js';
import { fetchCall } from './vapi-calls.js';

export const DEFAULT_GET_CALL_MAX_CHARS = 8000;

export interface GetCallRequest {
  /** Cap on summary, transcript and messages together; the newest part is kept. Default 8000. */
  maxChars?: number;
}

export interface CallDetail extends CallSummary {
  callId: string;
  assistantId?: string;
  phoneNumberId?: string;
  customer?: { number?: string; name?: string; extension?: string };
  costBreakdown?: Record<string, unknown>;
  summary?: string;
  /** Vapi's transcript: third-party call content. */
  transcript?: string;
  callContentNotice: string;
  messages: CompactMessage[];
  /** maxChars cut the transcript or messages. */
  truncated: boolean;
  recordingUrls: { mono?: string; stereo?: string };
  monitor: MonitorAvailability;
  transcriptUri: string;
  /** This server's listener for the call, if any. */
  listening?: ListeningView;
}

export async function getCall(parts: CoreParts, rawCallId: string, request: GetCallRequest, context: OperationContext): Promise<CallDetail> {
  const callId = requireCallId(rawCallId);
  const maxChars = request.maxChars ?? DEFAULT_GET_CALL_MAX_CHARS;
  const call = await fetchCall(parts, callId, context.signal);

  // One budget for the long fields: the summary gets up to a quarter, the transcript half of the rest, the
  // messages what remains (newest first); a message bigger than what is left is cut, never returned whole.
  const rawSummary = call.analysis?.summary ?? call.summary;
  const summary = rawSummary === undefined ? undefined : cutText(rawSummary, Math.floor(maxChars / 4));
  let budget = maxChars - (summary?.length ?? 0);
  const transcript = keepTail(callTranscript(call) ?? '', Math.floor(budget / 2));
  budget -= transcript.text.length;
  const messages = compactMessages(call);
  const keptMessages = [];
  let messagesCut = false;
  for (let i = messages.length - 1; i >= 0 && budget > 0; i--) {
    const message = { ...messages[i], role: cutText(messages[i].role, SHORT_FIELD_CHARS) };
    if (message.text.length > budget) {
      message.text = cutText(message.text, budget);
      messagesCut = true;
    }
    budget -= message.text.length;
    keptMessages.unshift(message);
  }
  const listener = parts.listeners.get(callId);
  const customer = call.customer
    ? Object.fromEntries(Object.entries({ number: call.customer.number, name: call.customer.name, extension: call.customer.extension }).filter(([, v]) => v !== undefined))
    : undefined;

  const costBreakdown = call.costBreakdown && JSON.stringify(call.costBreakdown).length <= MAX_COST_BREAKDOWN_CHARS ? call.costBreakdown : undefined;
  return capShortFields({
    ...summarizeCall(call),
    callId,
    ...(call.assistantId ? { assistantId: call.assistantId } : {}),
    ...(call.phoneNumberId ? { phoneNumberId: call.phoneNumberId } : {}),
    ...(customer ? { customer } : {}),
    ...(costBreakdown ? { costBreakdown } : {}),
    ...(summary ? { summary: inertLines(summary) } : {}),
    ...(transcript.text ? { transcript: transcript.text } : {}),
    messages: keptMessages,
    callContentNotice: CALL_CONTENT_NOTICE,
    truncated:
      transcript.truncated || messagesCut || keptMessages.length < messages.length || summary !== rawSummary || costBreakdown !== call.costBreakdown,
    recordingUrls: callRecordings(call),
    monitor: monitorAvailability(call),
    transcriptUri: transcriptUri(callId),
    ...(listener ? { listening: listeningView(listener.state()) } : {}),
  });
}

/** Ids, status, names, endedReason, URLs: cut at this many characters (a real one is far shorter). */
const SHORT_FIELD_CHARS = ROW_FIELD_MAX_CHARS;
/** A costBreakdown bigger than this as JSON is left out (truncated: true). */
const MAX_COST_BREAKDOWN_CHARS = 4000;
const LONG_FIELDS: ReadonlySet<string> = new Set(['summary', 'transcript', 'messages', 'costBreakdown', 'listening']);

/** Cuts every string of the result outside the budgeted long fields to SHORT_FIELD_CHARS. */
function capShortFields<T extends Record<string, unknown>>(result: T): T {
  const cap = (value: unknown): unknown => {
    if (typeof value === 'string') return cutText(value, SHORT_FIELD_CHARS);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cap(v)]));
    }
    return value;
  };
  return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, LONG_FIELDS.has(k) ? v : cap(v)])) as T;
}
