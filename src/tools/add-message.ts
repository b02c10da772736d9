import { z } from 'zod';
import { controlOutput } from './control-output.js';
import { defineTool } from './define.js';
import { callIdField, requireCallId } from './fields.js';
import { sendControl } from './vapi-calls.js';

const DESCRIPTION = `Add a message to the assistant's conversation in a live call, to steer it: new facts, an instruction, a correction.
- role system: an instruction or fact for the assistant ("The customer is a VIP; offer the 3pm slot"). role user: as if the customer said it. role assistant: as if the assistant had said it.
- triggerResponse (default true) makes the assistant respond now; false adds the message silently and it shapes the next reply.
- The customer does not hear the message itself, only the assistant's response. To put exact words in the assistant's mouth, use inject_say.`;

export const addMessageTool = defineTool({
  name: 'add_message',
  title: 'Steer a live call',
  description: DESCRIPTION,
  input: {
    callId: callIdField,
    role: z.enum(['system', 'user', 'assistant']).describe('Who the message is from, as the assistant will see it'),
    content: z.string().min(1).max(8000).describe('The message text'),
    triggerResponse: z.boolean().default(true).describe('Have the assistant respond now (true) or just remember it (false)'),
  },
  output: controlOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  changesCalls: true,
  async run(deps, args, context) {
    const callId = requireCallId(args.callId);
    await sendControl(
      deps,
      callId,
      'Adding a message',
      { type: 'add-message', message: { role: args.role, content: args.content }, triggerResponseEnabled: args.triggerResponse },
      context.signal,
    );
    return { callId, accepted: true, action: 'add-message' };
  },
});
