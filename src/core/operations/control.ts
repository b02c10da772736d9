/**
 * Live control of a call through its control URL: say, add a message, mute, transfer, end. Each resolves once
 * Vapi accepted the message; its effect shows in the transcript. Transfer destinations pass the dial policy.
 */
import { checkDialUri, isDialUri, type DialPolicy } from '../../guard/index.js';
import type { TransferDestination, TransferMode } from '../../vapi/schemas.js';
import { requireCallId } from '../call-id.js';
import { CallError, refusalError } from '../errors.js';
import type { Party } from '../mute-ledger.js';
import type { CoreParts, OperationContext } from '../parts.js';
import { confirmWithHuman } from './confirm.js';
import { sendControl } from './vapi-calls.js';

export interface ControlResult {
  callId: string;
  /** Vapi accepted the control message. */
  accepted: boolean;
  /** The control message sent. */
  action: string;
  note?: string;
}

export interface SayRequest {
  content: string;
  endCallAfterSpoken?: boolean;
  interruptAssistant?: boolean;
}

export async function say(parts: CoreParts, rawCallId: string, request: SayRequest, context: OperationContext): Promise<ControlResult> {
  const callId = requireCallId(rawCallId);
  const message = {
    content: request.content,
    ...(request.endCallAfterSpoken !== undefined ? { endCallAfterSpoken: request.endCallAfterSpoken } : {}),
    ...(request.interruptAssistant !== undefined ? { interruptAssistantEnabled: request.interruptAssistant } : {}),
  };
  await sendControl(parts, callId, 'Saying text', (url) => parts.control.say(url, message, { signal: context.signal }), context.signal);
  return {
    callId,
    accepted: true,
    action: 'say',
    ...(request.endCallAfterSpoken ? { note: 'The call will end after the text is spoken.' } : {}),
  };
}

export interface AddMessageRequest {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Have the assistant respond now (default true) or just remember it. */
  triggerResponse?: boolean;
}

export async function addMessage(parts: CoreParts, rawCallId: string, request: AddMessageRequest, context: OperationContext): Promise<ControlResult> {
  const callId = requireCallId(rawCallId);
  const message = { role: request.role, content: request.content };
  await sendControl(
    parts,
    callId,
    'Adding a message',
    (url) => parts.control.addMessage(url, message, request.triggerResponse ?? true, { signal: context.signal }),
    context.signal,
  );
  return { callId, accepted: true, action: 'add-message' };
}

export interface SetMuteRequest {
  party: Party;
  muted: boolean;
}

export async function setMute(parts: CoreParts, rawCallId: string, request: SetMuteRequest, context: OperationContext): Promise<ControlResult> {
  const callId = requireCallId(rawCallId);
  const action = `${request.muted ? 'mute' : 'unmute'}-${request.party}` as const;
  const what = `${request.muted ? 'Muting' : 'Unmuting'} the ${request.party}`;
  await sendControl(parts, callId, what, (url) => parts.control.control(url, action, { signal: context.signal }), context.signal);
  parts.mutes.record(callId, request.party, request.muted);
  return { callId, accepted: true, action };
}

export interface TransferRequest {
  /** E.164 number; give exactly one of number and sipUri. */
  number?: string;
  sipUri?: string;
  /** Said to the customer before transferring. */
  content?: string;
  mode?: TransferMode;
}

export async function transfer(parts: CoreParts, rawCallId: string, request: TransferRequest, context: OperationContext): Promise<ControlResult> {
  const callId = requireCallId(rawCallId);
  const destination = transferDestination(parts.policy, request);
  await sendControl(
    parts,
    callId,
    'Transferring the call',
    (url) => parts.control.transfer(url, destination, request.content, { signal: context.signal }),
    context.signal,
  );
  return { callId, accepted: true, action: 'transfer', note: 'The transfer is under way; the call ends for the assistant once it completes.' };
}

export async function endCall(parts: CoreParts, rawCallId: string, context: OperationContext): Promise<ControlResult> {
  const callId = requireCallId(rawCallId);
  await confirmWithHuman(parts, context, `Hang up call ${callId}?`);
  await sendControl(parts, callId, 'Ending the call', (url) => parts.control.endCall(url, { signal: context.signal }), context.signal);
  return { callId, accepted: true, action: 'end-call', note: 'The call is ending; get_call shows the outcome.' };
}

function transferDestination(policy: DialPolicy, request: TransferRequest): TransferDestination {
  const plan = request.mode ? { transferPlan: { mode: request.mode } } : {};
  if ((request.number === undefined) === (request.sipUri === undefined)) {
    throw new CallError({
      code: 'invalid-destination',
      reason: 'Give exactly one destination: number or sipUri.',
      suggestion: 'Pass number (E.164, e.g. +14155552671) or sipUri (sip:user@host), not both and not neither.',
      retryable: false,
    });
  }
  const target = (request.sipUri ?? request.number)!;
  if (request.sipUri !== undefined || isDialUri(target)) {
    const verdict = checkDialUri(policy, target);
    if (!verdict.ok) throw refusalError(verdict);
    if (/^tel:/i.test(verdict.uri)) return { type: 'number', number: verdict.e164!, ...plan };
    return { type: 'sip', sipUri: verdict.uri, ...plan };
  }
  const verdict = policy.check(target);
  if (!verdict.ok) throw refusalError(verdict);
  return { type: 'number', number: verdict.e164, ...plan };
}
