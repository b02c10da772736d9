/**
 * The transcript of a call as plain text (header, audio summary, Customer:/Assistant: lines, what is said now):
 * the running listener's, started on demand, or Vapi's record of a call that ended before anyone listened.
 */
import { CALL_CONTENT_NOTICE, inertLine } from '../call-text.js';
import { cutText } from '../../live/transcript.js';
import type { Call } from '../../vapi/schemas.js';
import { requireCallId } from '../call-id.js';
import type { CoreParts, OperationContext } from '../parts.js';
import { durationSeconds } from '../views/call.js';
import { artifactLines, listenerFor } from './listen.js';

/** The text is at most this many characters by default: the newest lines that fit. */
export const TRANSCRIPT_TEXT_MAX_CHARS = 100_000;

/** Starts with the call-content notice line; at most maxChars characters in all. */
export async function transcriptText(parts: CoreParts, rawCallId: string, context: OperationContext, maxChars = TRANSCRIPT_TEXT_MAX_CHARS): Promise<string> {
  const callId = requireCallId(rawCallId);
  const notice = `[${CALL_CONTENT_NOTICE}]\n`;
  const budget = maxChars - notice.length;
  const target = await listenerFor(parts, callId, { saveAudio: true, signal: context.signal });
  if (target.kind === 'live') {
    const state = target.listener.state();
    const summary = [target.listener.audioSummaryLine()];
    const failovers = parts.clusterCalls?.failovers(callId) ?? 0;
    if (failovers > 0) summary.push(`(Listening moved to another instance ${failovers === 1 ? 'once' : `${failovers} times`} after the one listening stopped; words said during a switch were not heard.)`);
    if (state.listenError) summary.unshift(`Listening ${state.listenState === 'unavailable' ? 'unavailable' : 'failing'}: ${inertLine(state.listenError)}`);
    const text = target.listener.transcript.render(
      { callId, status: target.status ?? state.status, durationSeconds: state.durationSeconds, transcriptPath: state.transcriptPath },
      budget - summary.join('\n').length - 1,
    );
    const [head, ...rest] = text.split('\n');
    return notice + [head, ...summary, ...rest].join('\n');
  }
  return notice + cutText(endedCallText(target.call), budget);
}

/** A call that ended before this server listened: Vapi's own record, in the same text form. */
function endedCallText(call: Call): string {
  const duration = durationSeconds(call);
  const header = `Call ${call.id} · ${inertLine(call.status ?? 'ended')}${call.endedReason ? ` (${inertLine(call.endedReason)})` : ''}${duration !== undefined ? ` · ${duration}s` : ''} · from Vapi's record`;
  const lines = artifactLines(call).map((l) => `${l.role === 'customer' ? 'Customer' : 'Assistant'}: ${l.text}`);
  return [header, '', ...(lines.length ? lines : ['(no transcript)'])].join('\n');
}
