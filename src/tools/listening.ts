/**
 * Starting a call's listener on demand (create_call, listen_call, read_transcript and the transcript resource
 * all go through here), and the transcript of a call that was never listened to, rebuilt from Vapi's artifact.
 */
import type { CallListener } from '../live/listener.js';
import { TERMINAL_STATUSES, type Call } from '../vapi/schemas.js';
import { compactMessages } from './call-view.js';
import type { ToolDeps } from './deps.js';
import { ToolError } from './result.js';
import { fetchCall } from './vapi-calls.js';

export type ListenTarget = { kind: 'live'; listener: CallListener } | { kind: 'over'; call: Call };

/**
 * The running (or finished) listener of a call, starting one if the call is still live; or the call itself
 * when it ended before this server listened to it.
 */
export async function listenerFor(
  deps: ToolDeps,
  callId: string,
  options: { saveAudio: boolean; signal: AbortSignal },
): Promise<ListenTarget> {
  const existing = deps.listeners.get(callId);
  if (existing) {
    const state = existing.state();
    if (state.listening || !state.listenError) {
      await existing.whenPrepared();
      return { kind: 'live', listener: existing };
    }
    // Listening failed (handshake refused, unreachable): once the call is over, Vapi's record beats an empty transcript.
    const call = await fetchCall(deps, callId, options.signal);
    return call.status && TERMINAL_STATUSES.has(call.status) ? { kind: 'over', call } : { kind: 'live', listener: existing };
  }

  let known = deps.directory.get(callId);
  let call: Call | undefined;
  if (!known?.listenUrl || !known.status || TERMINAL_STATUSES.has(known.status)) {
    call = await fetchCall(deps, callId, options.signal);
    known = deps.directory.remember(call);
  }
  if (known.status && TERMINAL_STATUSES.has(known.status)) {
    return { kind: 'over', call: call ?? (await fetchCall(deps, callId, options.signal)) };
  }
  if (!known.listenUrl) {
    throw new ToolError({
      code: 'listen-unavailable',
      reason: `Call ${callId} cannot be listened to: Vapi did not give it a listen URL (monitorPlan.listenEnabled is off for this call or its assistant).`,
      suggestion: 'Use get_call for the transcript once the call ends, or place calls with create_call, which enables listening by default.',
      retryable: false,
    });
  }
  const startedAt = known.startedAt ? Date.parse(known.startedAt) : undefined;
  const listener = deps.listeners.ensure(callId, known.listenUrl, {
    saveAudio: options.saveAudio,
    status: known.status,
    ...(startedAt !== undefined && !Number.isNaN(startedAt) ? { startedAt } : {}),
  });
  // The real audio path (<id>-2.wav after a restart) and any transcript restored from the event log are known then.
  await listener.whenPrepared();
  return { kind: 'live', listener };
}

export interface TranscriptLine {
  seq: number;
  role: 'customer' | 'assistant';
  text: string;
  secondsFromStart: number;
}

/** Final lines of an ended call from Vapi's own artifact, numbered like live lines. */
export function artifactLines(call: Call): TranscriptLine[] {
  return compactMessages(call)
    .filter((m): m is typeof m & { role: 'customer' | 'assistant' } => m.role === 'customer' || m.role === 'assistant')
    .map((m, index) => ({ seq: index + 1, role: m.role, text: m.text, secondsFromStart: m.secondsFromStart ?? 0 }));
}
