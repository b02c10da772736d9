/** stopListening: stop this process's listener for a call early; its files are final when this resolves. */
import { requireCallId } from '../call-id.js';
import { CallError } from '../errors.js';
import type { CoreParts } from '../parts.js';
import { listeningView, type ListeningView } from '../views/listening.js';

export interface StopListeningResult {
  callId: string;
  status: string;
  listening: ListeningView;
}

export async function stopListening(parts: CoreParts, rawCallId: string): Promise<StopListeningResult> {
  const callId = requireCallId(rawCallId);
  const listener = parts.listeners.get(callId);
  if (!listener) {
    throw new CallError({
      code: 'not-listening',
      reason: `This server is not listening to call ${callId}.`,
      suggestion: 'Nothing to stop. listen_call starts listening; get_call shows the call.',
      retryable: false,
    });
  }
  const state = await listener.stop();
  return { callId, status: state.status, listening: listeningView(state) };
}
