import { z } from 'zod';
import { defineTool } from './define.js';
import { callIdField } from './fields.js';
import { listeningShape } from './shapes.js';

const DESCRIPTION = `Start listening to a live call (idempotent: one listener per call however often it is asked). The call's audio is saved as a WAV (customer left, assistant right) and every event as JSONL in the recordings directory, and a rolling transcript is kept.
- Use it for calls placed elsewhere (inbound calls, calls from list_calls) or placed with listen: false; create_call already listens by default.
- Then read the conversation with read_transcript (callId, sinceSeq, waitSeconds), or the resource vapi://calls/{callId}/transcript.
- Listening stops by itself when the call ends; stop_listening stops it earlier. On a live call whose listening stopped (stop_listening, or Vapi refused the connection: listenState unavailable) it listens again, the audio going to the next <id>-N.wav.
- Listening never changes the call: the people on it cannot tell.`;

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
  scope: 'calls:read',
  run: (core, { callId, ...request }, context) => core.listen(callId, request, context),
});
