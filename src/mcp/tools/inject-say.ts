import { z } from 'zod';
import { defineTool } from './define.js';
import { callIdField } from './fields.js';
import { controlOutput } from './shapes.js';

const DESCRIPTION = `Make the assistant say exact words in a live call, now. The person on the phone hears them in the assistant's voice.
- For steering what the assistant does next without scripting its words, use add_message instead.
- interruptAssistant: true cuts off whatever the assistant is saying; otherwise the text is spoken when it finishes.
- endCallAfterSpoken: true hangs up once the text has been spoken (a polite goodbye then hang-up).
- Only works while the call is in progress; follow the effect with read_transcript.`;

export const injectSayTool = defineTool({
  name: 'inject_say',
  title: 'Say in a live call',
  description: DESCRIPTION,
  input: {
    callId: callIdField,
    content: z.string().min(1).max(2000).describe('The words the assistant speaks, verbatim'),
    endCallAfterSpoken: z.boolean().optional().describe('Hang up after the words have been spoken'),
    interruptAssistant: z.boolean().optional().describe('Cut off the assistant\'s current speech to say this now'),
  },
  output: controlOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  scope: 'calls:steer',
  run: (core, { callId, ...request }, context) => core.say(callId, request, context),
});
