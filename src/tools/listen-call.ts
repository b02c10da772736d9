import { z } from 'zod';
import type { ListenerState } from '../live/listener.js';
import { audioShape, audioView } from './audio-view.js';
import { defineTool } from './define.js';
import { transcriptUri } from './deps.js';
import { callIdField, requireCallId } from './fields.js';
import { listenerFor } from './listening.js';

const DESCRIPTION = `Start listening to a live call (idempotent: one listener per call however often it is asked). The call's audio is saved as a WAV (customer left, assistant right) and every event as JSONL in the recordings directory, and a rolling transcript is kept.
- Use it for calls placed elsewhere (inbound calls, calls from list_calls) or placed with listen: false; create_call already listens by default.
- Then read the conversation with read_transcript (callId, sinceSeq, waitSeconds), or the resource vapi://calls/{callId}/transcript.
- Listening stops by itself when the call ends; stop_listening stops it earlier.
- Listening never changes the call: the people on it cannot tell.`;

export const listeningShape = {
  active: z.boolean().describe('The listener is connected, reconnecting or still finalising its files'),
  ended: z.boolean().describe('The call has ended and the files are final'),
  filesFinal: z.boolean().describe('The WAV header and the JSONL are complete and closed (after the end or stop_listening)'),
  audioPath: z.string().optional().describe('Absolute path of the WAV file'),
  transcriptPath: z.string().optional().describe('Absolute path of the JSONL event log'),
  audioBytes: z.number().describe('PCM bytes received and written so far'),
  durationSeconds: z.number().describe('Seconds of audio received'),
  reconnects: z.number().optional().describe('Times the listen socket dropped and was reconnected'),
  malformedFrames: z.number().optional().describe('Frames that could not be read (counted, logged, skipped)'),
  diskError: z.string().optional().describe('Why files could not be written; the live transcript still works'),
  audioStoppedReason: z.string().optional().describe('Why audio stopped being saved while listening went on'),
  listenError: z.string().optional().describe('Why listening stopped before the call ended'),
  audio: z.object(audioShape).optional().describe('Levels, who is talking and voice-quality metrics (final once ended)'),
};

export function listeningView(state: ListenerState): z.infer<z.ZodObject<typeof listeningShape>> {
  return {
    active: !state.filesFinal,
    ended: state.ended && state.filesFinal,
    filesFinal: state.filesFinal,
    ...(state.audioPath ? { audioPath: state.audioPath } : {}),
    ...(state.transcriptPath ? { transcriptPath: state.transcriptPath } : {}),
    audioBytes: state.audioBytes,
    durationSeconds: state.durationSeconds,
    ...(state.reconnects ? { reconnects: state.reconnects } : {}),
    ...(state.malformedFrames ? { malformedFrames: state.malformedFrames } : {}),
    ...(state.diskError ? { diskError: state.diskError } : {}),
    ...(state.audioStoppedReason ? { audioStoppedReason: state.audioStoppedReason } : {}),
    ...(state.listenError ? { listenError: state.listenError } : {}),
    audio: audioView(state.audio),
  };
}

const input = {
  callId: callIdField,
  saveAudio: z.boolean().default(true).describe('Save the call audio as a WAV file; false keeps only the transcript and events'),
};

const output = {
  callId: z.string(),
  status: z.string().describe('Vapi call status'),
  transcriptUri: z.string(),
  listening: z.object(listeningShape).optional(),
  note: z.string().optional(),
};

export const listenCallTool = defineTool({
  name: 'listen_call',
  title: 'Listen to a live call',
  description: DESCRIPTION,
  input,
  output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  changesCalls: false,
  async run(deps, args, context) {
    const callId = requireCallId(args.callId);
    const target = await listenerFor(deps, callId, { saveAudio: args.saveAudio, signal: context.signal });
    if (target.kind === 'over') {
      return {
        callId,
        status: target.call.status ?? 'ended',
        transcriptUri: transcriptUri(callId),
        note: 'The call is over, so there is nothing to listen to; read_transcript and get_call give its transcript.',
      };
    }
    const state = target.listener.state();
    return { callId, status: state.status, transcriptUri: transcriptUri(callId), listening: listeningView(state) };
  },
});
