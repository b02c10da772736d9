import { defineTool } from './define.js';
import { callIdField } from './fields.js';
import { confirmationOutput, confirmationTokenInput, controlOutput } from './shapes.js';

const DESCRIPTION = `Hang up a live call now, for everyone on it.
- The assistant stops mid-sentence; for a polite goodbye first, use inject_say with endCallAfterSpoken: true instead.
- Listening stops by itself and the files are finalised; get_call then gives the outcome, transcript and cost.
- Fails with a clear message if the call has already ended.
- If the result has status "confirmation-required", nothing happened yet: show its preview to the user and call end_call again with confirmationToken only if they agree.`;

export const endCallTool = defineTool({
  name: 'end_call',
  title: 'Hang up a call',
  description: DESCRIPTION,
  input: { callId: callIdField, confirmationToken: confirmationTokenInput },
  output: { ...controlOutput, ...confirmationOutput },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  scope: 'calls:steer',
  run: (core, { callId, ...request }, context) => core.endCall(callId, request, context),
});
