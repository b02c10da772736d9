/**
 * readTranscripts: follow several calls at once. Waits (bounded) until any of them has a new line, changes status
 * or ends, then returns every call's lines since its own cursor.
 */
import { requireCallId } from '../call-id.js';
import { CallError } from '../errors.js';
import type { CoreParts, OperationContext } from '../parts.js';
import { listenerFor } from './listen.js';
import { DEFAULT_READ_MAX_CHARS, hasNews, MAX_READ_WAIT_SECONDS, readMark, readTranscript, type TranscriptRead } from './read-transcript.js';
import { waitUntil } from './wait.js';

export const MAX_CALLS_PER_READ = 10;

export interface ReadTranscriptsRequest {
  /** Each call with its own cursor (the nextSeq it was last given). */
  calls: { callId: string; sinceSeq?: number }[];
  /** Wait up to this many seconds for news on any of the calls. */
  waitSeconds?: number;
  /** Characters of text returned in all, shared equally between the calls. */
  maxChars?: number;
}

export interface TranscriptReads {
  calls: TranscriptRead[];
}

export async function readTranscripts(parts: CoreParts, request: ReadTranscriptsRequest, context: OperationContext): Promise<TranscriptReads> {
  const cursors = request.calls.map((c) => ({ callId: requireCallId(c.callId), sinceSeq: c.sinceSeq === 0 ? undefined : c.sinceSeq }));
  if (cursors.length === 0 || cursors.length > MAX_CALLS_PER_READ || new Set(cursors.map((c) => c.callId)).size !== cursors.length) {
    throw new CallError({
      code: 'invalid-calls',
      reason: `Give from 1 to ${MAX_CALLS_PER_READ} different calls (got ${cursors.length}${cursors.length > 0 ? ', some repeated' : ''}).`,
      suggestion: 'List each callId once with its own sinceSeq; follow more calls with several requests.',
      retryable: false,
    });
  }
  if (request.waitSeconds) {
    const targets = await Promise.all(cursors.map((c) => listenerFor(parts, c.callId, { saveAudio: true, signal: context.signal })));
    const marks = targets.flatMap((target, i) => (target.kind === 'live' ? [readMark(target.listener, cursors[i].sinceSeq)] : []));
    // A call already over (Vapi's record) is news in itself.
    if (marks.length === targets.length) {
      const changes = marks.map((mark) => (fn: () => void) => mark.listener.onChange(fn));
      await waitUntil(() => marks.some(hasNews), changes, Math.min(request.waitSeconds, MAX_READ_WAIT_SECONDS) * 1000, context.signal);
    }
  }
  const maxChars = Math.max(200, Math.floor((request.maxChars ?? DEFAULT_READ_MAX_CHARS) / cursors.length));
  const calls = await Promise.all(cursors.map((c) => readTranscript(parts, c.callId, { ...(c.sinceSeq ? { sinceSeq: c.sinceSeq } : {}), maxChars }, context)));
  return { calls };
}
