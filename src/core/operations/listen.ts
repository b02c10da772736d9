/**
 * listen: start listening to a live call. Every operation that needs a call's listener (placeCall, listen,
 * readTranscript, the live update and the transcript text) starts it on demand through listenerFor; the
 * transcript of a call that was never listened to is rebuilt from Vapi's artifact.
 */
import type { ListenerView } from '../../live/listener-view.js';
import type { TranscriptLine } from '../../live/transcript.js';
import { TERMINAL_STATUSES, type Call } from '../../vapi/schemas.js';
import { requireCallId } from '../call-id.js';
import { CallError } from '../errors.js';
import { transcriptUri, type CoreParts, type OperationContext } from '../parts.js';
import { compactMessages } from '../views/call.js';
import { listeningView, type ListeningView } from '../views/listening.js';
import { fetchCall, knownCall } from './vapi-calls.js';

/**
 * live: the call's listener (running, or stopped before the call ended; then `status` is Vapi's, fresh, since the
 * listener no longer hears it); over: the call ended before this server heard all of it: Vapi's record.
 */
export type ListenTarget = { kind: 'live'; listener: ListenerView; status?: string } | { kind: 'over'; call: Call };

/**
 * The running (or finished) listener of a call, starting one if the call is still live; or the call itself
 * when it ended before this server listened to it.
 */
export async function listenerFor(
  parts: CoreParts,
  callId: string,
  options: { saveAudio: boolean; signal: AbortSignal; restartStopped?: boolean },
): Promise<ListenTarget> {
  // Cluster mode: a call some instance already follows is served as the cluster has it (own listener or mirror).
  const shared = await parts.clusterCalls?.existing(callId, options.saveAudio);
  if (shared) {
    await shared.whenPrepared();
    return { kind: 'live', listener: shared };
  }
  const existing = parts.listeners.get(callId);
  if (existing) {
    const state = existing.state();
    if (state.listening || state.ended) {
      await existing.whenPrepared();
      return { kind: 'live', listener: existing };
    }
    // Listening stopped before the call ended (stop_listening, or Vapi refused the connection), so the listener no
    // longer hears how the call goes: ask Vapi. Once the call is over, Vapi's record is the whole transcript;
    // while it is live, listen_call listens again and the read paths give Vapi's status.
    const call = await fetchCall(parts, callId, options.signal);
    if (call.status && TERMINAL_STATUSES.has(call.status)) return { kind: 'over', call };
    const listenUrl = call.monitor?.listenUrl;
    if (!options.restartStopped || !listenUrl) return { kind: 'live', listener: existing, ...(call.status ? { status: call.status } : {}) };
    const listener = parts.listeners.restart(callId, listenUrl, { saveAudio: options.saveAudio, status: call.status, ...startedAtOf(call.startedAt) });
    await listener.whenPrepared();
    return { kind: 'live', listener };
  }

  const { known, fetched: call } = await knownCall(parts, callId, options.signal, (k) =>
    Boolean(k.listenUrl && k.status && !TERMINAL_STATUSES.has(k.status)),
  );
  if (known.status && TERMINAL_STATUSES.has(known.status)) {
    return { kind: 'over', call: call ?? (await fetchCall(parts, callId, options.signal)) };
  }
  if (!known.listenUrl) {
    throw new CallError({
      code: 'listen-unavailable',
      reason: `Call ${callId} cannot be listened to: Vapi did not give it a listen URL (monitorPlan.listenEnabled is off for this call or its assistant).`,
      suggestion: 'Use get_call for the transcript once the call ends, or place calls with create_call, which enables listening by default.',
      retryable: false,
    });
  }
  const listener = parts.clusterCalls
    ? await parts.clusterCalls.claim(callId, known, options.saveAudio)
    : parts.listeners.ensure(callId, known.listenUrl, { saveAudio: options.saveAudio, status: known.status, ...startedAtOf(known.startedAt) });
  // The real audio path (<id>-2.wav after a restart) and any transcript restored from the event log are known then.
  await listener.whenPrepared();
  return { kind: 'live', listener };
}

function startedAtOf(iso: string | undefined): { startedAt?: number } {
  const startedAt = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(startedAt) ? {} : { startedAt };
}

/** Final lines of an ended call from Vapi's own artifact, numbered like live lines. */
export function artifactLines(call: Call): TranscriptLine[] {
  return compactMessages(call)
    .filter((m): m is typeof m & { role: 'customer' | 'assistant' } => m.role === 'customer' || m.role === 'assistant')
    .map((m, index) => ({ seq: index + 1, role: m.role, text: m.text, secondsFromStart: m.secondsFromStart ?? 0 }));
}

export interface ListenRequest {
  /** Save the call audio as a WAV file (default true); false keeps only the transcript and events. */
  saveAudio?: boolean;
}

export interface ListenResult {
  callId: string;
  status: string;
  transcriptUri: string;
  listening?: ListeningView;
  note?: string;
}

export async function listen(parts: CoreParts, rawCallId: string, request: ListenRequest, context: OperationContext): Promise<ListenResult> {
  const callId = requireCallId(rawCallId);
  const target = await listenerFor(parts, callId, { saveAudio: request.saveAudio ?? true, signal: context.signal, restartStopped: true });
  if (target.kind === 'over') {
    return {
      callId,
      status: target.call.status ?? 'ended',
      transcriptUri: transcriptUri(callId),
      note: 'The call is over, so there is nothing to listen to; read_transcript and get_call give its transcript.',
    };
  }
  const state = target.listener.state();
  return { callId, status: target.status ?? state.status, transcriptUri: transcriptUri(callId), listening: listeningView(state) };
}
