/**
 * liveUpdate: what changed in a call since a view's cursor (new lines after `sinceSeq`; status, partials, who is
 * speaking, connection, mutes when they differ from `etag`), waiting up to `waitSeconds` and returning as soon as
 * anything changes. The live console and the terminal's watch ride it; every view of a call shares the call's
 * one listener, so a view costs one pending request, never a second socket.
 */
import { createHash } from 'node:crypto';
import type { AudioReading } from '../../live/audio-analysis.js';
import type { ListenerView } from '../../live/listener-view.js';
import type { PartialUtterance, SpeakerRole, TranscriptLine } from '../../live/transcript.js';
import { requireCallId } from '../call-id.js';
import type { MuteLedger, MuteState } from '../mute-ledger.js';
import type { CoreParts, OperationContext } from '../parts.js';
import { artifactLines, listenerFor } from './listen.js';
import { waitUntil } from './wait.js';

export const MAX_LIVE_UPDATE_WAIT_SECONDS = 20;
/** While audio levels are available, updates come at least this often so the meters move. */
const LEVELS_INTERVAL_MS = 200;

export interface LiveUpdateRequest {
  /** Lines with seq >= sinceSeq; pass the previous nextSeq. */
  sinceSeq?: number;
  /** The previous etag: return early only when the state differs from it. */
  etag?: string;
  /** Wait up to this many seconds (at most MAX_LIVE_UPDATE_WAIT_SECONDS) for news; 0 or absent answers at once. */
  waitSeconds?: number;
}

export interface PartyLevel {
  /** Loudness of the party's channel over the last moment, dBFS (0 = full scale). */
  rmsDbfs: number;
  speaking: boolean;
}
export type Levels = Record<SpeakerRole, PartyLevel>;

export interface LiveUpdate {
  callId: string;
  status: string;
  ended: boolean;
  endedReason?: string;
  lines: TranscriptLine[];
  partials: PartialUtterance[];
  /** Parties speaking now, from speech-update events and partial transcripts. */
  speaking: SpeakerRole[];
  /** Audio level per party, while the listener measures a stereo stream. */
  levels?: Levels;
  /** Mutes this process set. */
  muted: MuteState;
  connection: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  listenError?: string;
  /** HTTP status of a refused listen handshake. */
  listenHttpStatus?: number;
  /** Seconds of call audio heard so far. */
  durationSeconds: number;
  nextSeq: number;
  missedLines?: number;
  /** Pass back with the next request. */
  etag: string;
  source: 'live' | 'vapi';
}

export async function liveUpdate(parts: CoreParts, rawCallId: string, request: LiveUpdateRequest, context: OperationContext): Promise<LiveUpdate> {
  const callId = requireCallId(rawCallId);
  const target = await listenerFor(parts, callId, { saveAudio: true, signal: context.signal });
  if (target.kind === 'over') {
    const lines = artifactLines(target.call).filter((line) => line.seq >= (request.sinceSeq ?? 1));
    const snapshot = {
      callId,
      status: target.call.status ?? 'ended',
      ended: true,
      ...(target.call.endedReason ? { endedReason: target.call.endedReason } : {}),
      partials: [],
      speaking: [],
      muted: { customer: false, assistant: false },
      connection: 'closed' as const,
      durationSeconds: 0,
      source: 'vapi' as const,
    };
    return { ...snapshot, lines, nextSeq: (lines.at(-1)?.seq ?? (request.sinceSeq ?? 1) - 1) + 1, etag: etagOf(snapshot) };
  }

  const listener = target.listener;
  const read = (): LiveUpdate => snapshotOf(listener, parts.mutes, request.sinceSeq, target.status);
  const hasNews = (update: LiveUpdate) => update.lines.length > 0 || update.ended || update.etag !== request.etag;
  let update = read();
  const waitSeconds = Math.min(request.waitSeconds ?? 0, MAX_LIVE_UPDATE_WAIT_SECONDS);
  if (!hasNews(update) && waitSeconds > 0) {
    const waitMs = update.levels ? Math.min(LEVELS_INTERVAL_MS, waitSeconds * 1000) : waitSeconds * 1000;
    await waitUntil(
      () => hasNews(read()),
      [listener.onChange.bind(listener), (fn) => parts.mutes.onChange((id) => id === callId && fn())],
      waitMs,
      context.signal,
    );
    update = read();
  }
  return update;
}

/** `status`: Vapi's, when the listener stopped before the call ended and no longer hears it. */
function snapshotOf(listener: ListenerView, mutes: MuteLedger, sinceSeq: number | undefined, status: string | undefined): LiveUpdate {
  const state = listener.state();
  const partials = listener.transcript.partials();
  const speaking = new Set(listener.transcript.speakingRoles());
  for (const partial of partials) speaking.add(partial.role);
  const page = listener.transcript.linesSince(sinceSeq, 50_000);
  const levels = levelsOf(state.audio);
  const snapshot = {
    callId: state.callId,
    status: status ?? state.status,
    ended: state.ended,
    ...(state.endedReason ? { endedReason: state.endedReason } : {}),
    partials,
    speaking: (['customer', 'assistant'] as const).filter((role) => speaking.has(role)),
    muted: mutes.get(state.callId),
    connection: state.connected ? ('connected' as const) : !state.listening ? ('closed' as const) : state.reconnects > 0 ? ('reconnecting' as const) : ('connecting' as const),
    ...(state.listenError ? { listenError: state.listenError } : {}),
    ...(state.listenHttpStatus !== undefined ? { listenHttpStatus: state.listenHttpStatus } : {}),
    source: 'live' as const,
  };
  return {
    ...snapshot,
    lines: page.lines,
    ...(levels ? { levels } : {}),
    durationSeconds: state.durationSeconds,
    nextSeq: page.nextSeq,
    ...(page.missedLines ? { missedLines: page.missedLines } : {}),
    // Levels and the audio clock change all the time; they ride along but never count as news on their own.
    etag: etagOf(snapshot),
  };
}

/** The analyzer's per-party levels while it measures a stereo stream. */
function levelsOf(audio: AudioReading): Levels | undefined {
  if (audio.source === 'error') return undefined;
  const { levels, talking } = audio;
  if (!levels.customer || !levels.assistant) return undefined;
  return {
    customer: { rmsDbfs: levels.customer.rmsDbfs, speaking: talking.customer },
    assistant: { rmsDbfs: levels.assistant.rmsDbfs, speaking: talking.assistant },
  };
}

function etagOf(snapshot: object): string {
  return createHash('sha256').update(JSON.stringify(snapshot)).digest('base64url').slice(0, 16);
}
