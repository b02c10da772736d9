import { z } from 'zod';
import { TRANSFER_MODES } from '../../vapi/schemas.js';
import { defineTool } from './define.js';
import { callIdField } from './fields.js';
import { confirmationOutput, confirmationTokenInput, controlOutput } from './shapes.js';

const DESCRIPTION = `Transfer a live call to another phone number or SIP address; the assistant leaves the call when the transfer completes.
- Give exactly one of number (E.164) or sipUri (sip:user@host). Both are checked like create_call: emergency, short-code and premium numbers are refused, also as the user part of a sip:/tel: URI, and the operator's allow-lists apply.
- content is said to the customer before transferring ("Connecting you to a specialist now").
- mode is Vapi's transferPlan mode: blind-transfer (default) or a warm-transfer variant that briefs the receiving party first.
- The call's status goes to forwarding, then ended with endedReason assistant-forwarded-call.
- If the result has status "confirmation-required", nothing happened yet: show its preview to the user and call transfer_call again with the same arguments plus confirmationToken only if they agree.`;

export const transferCallTool = defineTool({
  name: 'transfer_call',
  title: 'Transfer a live call',
  description: DESCRIPTION,
  input: {
    callId: callIdField,
    number: z.string().max(64).optional().describe('Destination phone number in E.164 form, e.g. +14155552671'),
    sipUri: z.string().max(256).optional().describe('Destination SIP URI, e.g. sip:support@example.com'),
    content: z.string().max(2000).optional().describe('What the assistant says before transferring'),
    mode: z.enum(TRANSFER_MODES).optional().describe('Vapi transferPlan mode'),
    confirmationToken: confirmationTokenInput,
  },
  output: { ...controlOutput, ...confirmationOutput },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  scope: 'calls:dial',
  run: (core, { callId, ...request }, context) => core.transfer(callId, request, context),
});
