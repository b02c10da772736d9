import { z } from 'zod';
import { defineTool } from './define.js';
import { callIdField } from './fields.js';
import { controlOutput } from './shapes.js';

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
  scope: 'calls:steer',
  run: (core, { callId, ...request }, context) => core.addMessage(callId, request, context),
});
