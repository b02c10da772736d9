/**
 * readTranscript: final lines since a cursor (no gaps, no repeats) plus what is being said now, waiting up to a
 * bound for news; Vapi's record for a call that ended before anyone listened.
 */
import { CALL_CONTENT_NOTICE, inertLine } from '../call-text.js';
import type { AudioReading } from '../../live/audio-analysis.js';
import type { ListenState } from '../../live/listener.js';
import type { ListenerView } from '../../live/listener-view.js';
import { cutText, fitLines, type PartialUtterance, type TranscriptLine } from '../../live/transcript.js';
import { requireCallId } from '../call-id.js';
import type { CoreParts, OperationContext } from '../parts.js';
import { artifactLines, listenerFor } from './listen.js';
import { waitUntil } from './wait.js';

export const DEFAULT_READ_MAX_CHARS = 20_000;
/** The longest bounded wait a read may ask for. */
export const MAX_READ_WAIT_SECONDS = 50;

export interface ReadTranscriptRequest {
  /** Lines with seq >= sinceSeq; 0 or absent reads from the start. */
  sinceSeq?: number;
  /** Wait up to this many seconds (at most MAX_READ_WAIT_SECONDS) for a new line or a status change. */
  waitSeconds?: number;
  /** Cap, in characters, on the text returned (lines and partials). Default 20 000. */
  maxChars?: number;
}

export interface TranscriptRead {
  callId: string;
  status: string;
  lines: TranscriptLine[];
  partials: PartialUtterance[];
  nextSeq: number;
  ended: boolean;
  endedReason?: string;
  truncated?: boolean;
  missedLines?: number;
  transcriptPath?: string;
  /** Live calls: how listening is going; unavailable means no lines will come from listening (listenError says why). */
  listenState?: ListenState;
  listenError?: string;
  listenHttpStatus?: number;
  audio?: AudioReading;
  callContentNotice: string;
  /** Cluster mode: times listening moved to another instance after the one listening died; words said meanwhile were not heard. */
  failovers?: number;
  /** live: heard by this server; vapi: Vapi's record of a call that ended before listening. */
  source: 'live' | 'vapi';
}

export async function readTranscript(parts: CoreParts, rawCallId: string, request: ReadTranscriptRequest, context: OperationContext): Promise<TranscriptRead> {
  const callId = requireCallId(rawCallId);
  const maxChars = request.maxChars ?? DEFAULT_READ_MAX_CHARS;
  const sinceSeq = request.sinceSeq === 0 ? undefined : request.sinceSeq; // 0 is where most cursors start: the beginning
  const target = await listenerFor(parts, callId, { saveAudio: true, signal: context.signal });

  if (target.kind === 'over') {
    const from = sinceSeq ?? 1;
    const { lines, truncated } = fitLines(artifactLines(target.call).filter((l) => l.seq >= from), 0, maxChars);
    const nextSeq = lines.length > 0 ? lines[lines.length - 1].seq + 1 : from;
    return {
      callId,
      status: target.call.status ?? 'ended',
      lines,
      partials: [],
      nextSeq,
      ended: true,
      ...(target.call.endedReason ? { endedReason: inertLine(target.call.endedReason) } : {}),
      ...(truncated ? { truncated } : {}),
      callContentNotice: CALL_CONTENT_NOTICE,
      source: 'vapi' as const,
    };
  }

  const listener = target.listener;
  if (request.waitSeconds) {
    const mark = readMark(listener, sinceSeq);
    await waitUntil(() => hasNews(mark), [(fn) => listener.onChange(fn)], Math.min(request.waitSeconds, MAX_READ_WAIT_SECONDS) * 1000, context.signal);
  }
  const state = listener.state();
  // Partials take at most a quarter of the budget each; the lines get the rest.
  const partials = listener.transcript.partials().map((p) => ({ ...p, text: cutText(p.text, Math.floor(maxChars / 4)) }));
  const partialChars = partials.reduce((n, p) => n + p.text.length, 0);
  const read = listener.transcript.linesSince(sinceSeq, maxChars - partialChars);
  const failovers = parts.clusterCalls?.failovers(callId) ?? 0;
  return {
    callId,
    status: target.status ?? state.status,
    lines: read.lines,
    partials,
    nextSeq: read.nextSeq,
    ended: state.ended,
    ...(state.endedReason ? { endedReason: inertLine(state.endedReason) } : {}),
    ...(read.truncated ? { truncated: true } : {}),
    ...(read.missedLines ? { missedLines: read.missedLines } : {}),
    ...(state.transcriptPath ? { transcriptPath: state.transcriptPath } : {}),
    listenState: state.listenState,
    ...(state.listenError ? { listenError: state.listenError } : {}),
    ...(state.listenHttpStatus !== undefined ? { listenHttpStatus: state.listenHttpStatus } : {}),
    audio: state.audio,
    ...(failovers > 0 ? { failovers } : {}),
    callContentNotice: CALL_CONTENT_NOTICE,
    source: 'live' as const,
  };

}

/** What a reader has seen of a live call, to tell news from it. */
export interface ReadMark {
  listener: ListenerView;
  sinceSeq: number | undefined;
  status: string;
  listenState: ListenState;
}

export function readMark(listener: ListenerView, sinceSeq: number | undefined): ReadMark {
  const state = listener.state();
  return { listener, sinceSeq, status: state.status, listenState: state.listenState };
}

/** News: the call ended, changed status or listen state, or has a line at or after the cursor. */
export function hasNews(mark: ReadMark): boolean {
  const state = mark.listener.state();
  return (
    state.ended ||
    state.status !== mark.status ||
    state.listenState !== mark.listenState ||
    mark.listener.transcript.linesSince(mark.sinceSeq, 1).lines.length > 0
  );
}
