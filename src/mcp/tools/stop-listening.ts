import { z } from 'zod';
import { defineTool } from './define.js';
import { callIdField } from './fields.js';
import { listeningShape } from './shapes.js';

const DESCRIPTION = `Stop listening to a call before it ends and finalise its files. Returns the WAV and JSONL paths, the audio byte count and duration, and the call's voice-quality metrics (listening.audio); the WAV header is final when this returns.
- Only stops this server's listener: the call itself goes on (use end_call to hang up).
- Listeners stop by themselves when a call ends, so this is rarely needed. The transcript stays readable afterwards.`;

export const stopListeningTool = defineTool({
  name: 'stop_listening',
  title: 'Stop listening to a call',
  description: DESCRIPTION,
  input: { callId: callIdField },
  output: {
    callId: z.string(),
    status: z.string(),
    listening: z.object(listeningShape),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  scope: 'calls:read',
  run: (core, args) => core.stopListening(args.callId),
});
