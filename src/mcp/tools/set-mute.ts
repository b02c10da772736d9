import { z } from 'zod';
import { defineTool } from './define.js';
import { callIdField } from './fields.js';
import { controlOutput } from './shapes.js';

const DESCRIPTION = `Mute or unmute one side of a live call.
- party assistant, muted true: the assistant stops speaking into the call (e.g. while a human takes over elsewhere); false lets it speak again.
- party customer, muted true: the assistant stops hearing the customer; false restores it.
- Idempotent: repeating the same setting changes nothing.`;

export const setMuteTool = defineTool({
  name: 'set_mute',
  title: 'Mute or unmute a party',
  description: DESCRIPTION,
  input: {
    callId: callIdField,
    party: z.enum(['assistant', 'customer']).describe('Which side to mute or unmute'),
    muted: z.boolean().describe('true to mute, false to unmute'),
  },
  output: controlOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  scope: 'calls:steer',
  run: (core, { callId, ...request }, context) => core.setMute(callId, request, context),
});
