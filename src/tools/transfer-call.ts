import { z } from 'zod';
import { checkDialUri, isDialUri, type DialPolicy, type NumberRefusal } from '../guard/index.js';
import { TRANSFER_MODES, type TransferDestination } from '../vapi/schemas.js';
import { controlOutput } from './control-output.js';
import { defineTool } from './define.js';
import { callIdField, requireCallId } from './fields.js';
import { ToolError } from './result.js';
import { sendControl } from './vapi-calls.js';

const DESCRIPTION = `Transfer a live call to another phone number or SIP address; the assistant leaves the call when the transfer completes.
- Give exactly one of number (E.164) or sipUri (sip:user@host). Both are checked like create_call: emergency, short-code and premium numbers are refused, also as the user part of a sip:/tel: URI, and the operator's allow-lists apply.
- content is said to the customer before transferring ("Connecting you to a specialist now").
- mode is Vapi's transferPlan mode: blind-transfer (default) or a warm-transfer variant that briefs the receiving party first.
- The call's status goes to forwarding, then ended with endedReason assistant-forwarded-call.`;

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
  },
  output: controlOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  changesCalls: true,
  async run(deps, args, context) {
    const callId = requireCallId(args.callId);
    const destination = transferDestination(deps.policy, args);
    await sendControl(
      deps,
      callId,
      'Transferring the call',
      { type: 'transfer', destination, ...(args.content !== undefined ? { content: args.content } : {}) },
      context.signal,
    );
    return { callId, accepted: true, action: 'transfer', note: 'The transfer is under way; the call ends for the assistant once it completes.' };
  },
});

function transferDestination(policy: DialPolicy, args: { number?: string; sipUri?: string; mode?: (typeof TRANSFER_MODES)[number] }): TransferDestination {
  const plan = args.mode ? { transferPlan: { mode: args.mode } } : {};
  if ((args.number === undefined) === (args.sipUri === undefined)) {
    throw new ToolError({
      code: 'invalid-destination',
      reason: 'Give exactly one destination: number or sipUri.',
      suggestion: 'Pass number (E.164, e.g. +14155552671) or sipUri (sip:user@host), not both and not neither.',
      retryable: false,
    });
  }
  const target = (args.sipUri ?? args.number)!;
  if (args.sipUri !== undefined || isDialUri(target)) {
    const verdict = checkDialUri(policy, target);
    if (!verdict.ok) throw refusal(verdict);
    if (/^tel:/i.test(verdict.uri)) return { type: 'number', number: verdict.e164!, ...plan };
    return { type: 'sip', sipUri: verdict.uri, ...plan };
  }
  const verdict = policy.check(target);
  if (!verdict.ok) throw refusal(verdict);
  return { type: 'number', number: verdict.e164, ...plan };
}

function refusal(verdict: NumberRefusal): ToolError {
  return new ToolError({ code: verdict.code, reason: verdict.reason, suggestion: verdict.suggestion, retryable: false });
}
