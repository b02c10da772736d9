import { z } from 'zod';
import { assistantOverridesSchema, inlineAssistantSchema, variableMap, variableValuesSchema } from './assistant-config.js';
import { defineTool } from './define.js';
import { callSummarySchema, listeningShape, monitorAvailabilitySchema } from './shapes.js';

const DESCRIPTION = `Place an outbound phone call through Vapi: a real phone rings and a Vapi AI assistant talks to the person who answers. It costs money and reaches a real human.
- If the user has not clearly asked for this exact call, first call with dryRun: true, show the user the number and assistant, and place the call only after they approve.
- Returns at once with callId (status queued); the call then rings and is answered. Live listening starts immediately (listen: true), so follow the conversation with read_transcript (pass nextSeq back as sinceSeq, waitSeconds to wait for news) or the resource vapi://calls/{callId}/transcript. Audio and events are saved to disk.
- Steer it with inject_say (assistant says your words now) or add_message; hang up with end_call.
- customer.number must be E.164 (+ and country code, e.g. +14155552671). Emergency, short-code and premium-rate numbers are always refused; the operator may restrict numbers, countries and how many calls run at once or per hour.
- assistantId and phoneNumberId default to the server's configured ones.
- If the result has status "confirmation-required", no call was placed: show the user its preview (number, country, assistant, caller id, limits) and, only if they agree, call create_call again with exactly the same arguments plus confirmationToken and idempotencyKey. Never pass a token the user has not approved.
- idempotencyKey (generated when absent, always returned) makes a retry safe: the same key never places a second call. After a timeout or lost connection, retry with the same key; the server checks with Vapi whether the call was placed.
- A number called moments ago or still on a live call is refused (duplicate-suspected); allowRepeat: true only if the user wants a second call.
- Calls end after at most the operator's maximum call length (maxDurationSeconds is lowered to it), and the operator may set quiet hours in the callee's local time.
- Every refusal says whether retrying can help; never retry a refused number with small edits.`;

const customerSchema = z.strictObject({
  number: z.string().max(64).describe('Number to call in E.164 form: + then country code and number, e.g. +14155552671'),
  name: z.string().max(40).optional().describe('Name of the person, available to the assistant'),
  extension: z.string().max(10).optional().describe('Extension to dial after connecting'),
});

const input = {
  customer: customerSchema.describe('Who to call'),
  assistantId: z.string().max(100).optional().describe('Vapi assistant to run the call; defaults to VAPI_ASSISTANT_ID'),
  assistant: inlineAssistantSchema.optional(),
  assistantOverrides: assistantOverridesSchema.optional(),
  phoneNumberId: z.string().max(100).optional().describe('Vapi phone number to call from; defaults to VAPI_PHONE_NUMBER_ID'),
  firstMessage: z.string().max(1000).optional().describe('What the assistant says first when the call is answered'),
  variableValues: variableValuesSchema.optional(),
  name: z.string().max(40).optional().describe('A label for the call, shown in list_calls'),
  scheduledAt: z.string().max(40).optional().describe('ISO 8601 time to place the call later instead of now'),
  listen: z.boolean().default(true).describe('Start live listening at once (transcript and audio saved); false places the call without listening'),
  monitor: z
    .boolean()
    .default(true)
    .describe('Ask Vapi to enable live listen and control for this call; false leaves the assistant\'s own monitorPlan in charge'),
  dryRun: z
    .boolean()
    .default(false)
    .describe('Run every check and return the exact request, and a confirmationToken for it, without placing the call'),
  confirmationToken: z
    .string()
    .max(200)
    .optional()
    .describe('From a dry run or confirmation-required result for exactly this request: places it once, as confirmed by the user who saw the preview (valid 5 minutes)'),
  idempotencyKey: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Names this attempt; the same key again returns the call it placed and places nothing. Generated when absent; reuse the returned one to retry safely'),
  allowRepeat: z
    .boolean()
    .default(false)
    .describe('Place the call even though this server called the same number in the last few minutes or has a live call to it (refused as duplicate-suspected otherwise). Only when the user wants a second call'),
};

const previewSchema = z
  .object({
    summary: z.string().describe('One sentence to show the user'),
    number: z.object({
      e164: z.string(),
      international: z.string().describe('As the user would read it, e.g. +1 415 555 2671'),
      national: z.string().optional(),
      country: z.string().optional(),
    }),
    customerName: z.string().optional(),
    assistant: z.string(),
    phoneNumberId: z.string(),
    scheduledAt: z.string().optional(),
    caps: z.object({
      maxDurationSeconds: z.number().optional().describe('The call is ended after this long'),
      maxConcurrentCalls: z.number(),
      maxCallsPerHour: z.number(),
      quietHours: z.string().optional().describe("No calls in this window of the callee's local time"),
    }),
  })
  .describe('Exactly what will be placed: show it to the user before passing a confirmationToken');

const output = {
  callId: z.string().optional().describe('Id of the placed call; absent on a dry run'),
  status: z.string().describe('Vapi call status, "dry-run", or "confirmation-required" (nothing placed: show preview, pass the token back only if the user agrees)'),
  dryRun: z.boolean(),
  idempotencyKey: z.string().describe('The key of this attempt: pass it again to retry without risking a second call'),
  alreadyPlaced: z.boolean().optional().describe('True when this key had already placed the call: nothing new was placed'),
  preview: previewSchema.optional(),
  destination: z.object({ e164: z.string(), country: z.string().optional() }),
  call: callSummarySchema.optional(),
  monitor: monitorAvailabilitySchema.optional(),
  transcriptUri: z.string().optional(),
  listening: z.object(listeningShape).optional(),
  request: z
    .object({
      method: z.literal('POST'),
      url: z.string(),
      body: z
        .record(z.string(), z.unknown())
        .describe('The exact JSON body of POST /call (Vapi CreateCallDTO): customer, phoneNumberId, assistantId or assistant, assistantOverrides, name, schedulePlan'),
    })
    .optional()
    .describe('Dry run only: the request that would be sent'),
  confirmationToken: z.string().optional().describe('Dry run or confirmation-required: pass back with the same request to place it once, only after the user agreed'),
  confirmationExpiresAt: z.string().optional(),
  note: z.string().optional(),
};

export const createCallTool = defineTool({
  name: 'create_call',
  title: 'Place a phone call',
  description: DESCRIPTION,
  input,
  output,
  // Not destructive (it changes nothing that exists) but not idempotent: every call places another call.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  scope: 'calls:dial',
  run: (core, { variableValues, ...args }, context) => core.placeCall({ ...args, variableValues: variableMap(variableValues) }, context),
});
