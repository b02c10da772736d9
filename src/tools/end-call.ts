import { controlOutput } from './control-output.js';
import { confirmWithHuman } from './confirm.js';
import { defineTool } from './define.js';
import { callIdField, requireCallId } from './fields.js';
import { sendControl } from './vapi-calls.js';

const DESCRIPTION = `Hang up a live call now, for everyone on it.
- The assistant stops mid-sentence; for a polite goodbye first, use inject_say with endCallAfterSpoken: true instead.
- Listening stops by itself and the files are finalised; get_call then gives the outcome, transcript and cost.
- Fails with a clear message if the call has already ended.`;

export const endCallTool = defineTool({
  name: 'end_call',
  title: 'Hang up a call',
  description: DESCRIPTION,
  input: { callId: callIdField },
  output: controlOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  changesCalls: true,
  async run(deps, args, context) {
    const callId = requireCallId(args.callId);
    await confirmWithHuman(deps, context, `Hang up call ${callId}?`);
    await sendControl(deps, callId, 'Ending the call', { type: 'end-call' }, context.signal);
    return { callId, accepted: true, action: 'end-call', note: 'The call is ending; get_call shows the outcome.' };
  },
});
