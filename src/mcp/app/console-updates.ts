/**
 * `console_updates`: the live console view's data path, hidden from the model (`_meta.ui.visibility: ["app"]`).
 * A thin adapter onto the core's liveUpdate: what changed since the view's cursor, waiting up to `waitSeconds`.
 */
import { z } from 'zod';
import { MAX_LIVE_UPDATE_WAIT_SECONDS } from '../../core/operations/live-update.js';
import { defineTool, type ToolDefinition } from '../tools/define.js';
import { callIdField } from '../tools/fields.js';

export const CONSOLE_UPDATES_TOOL = 'console_updates';
export const MAX_WAIT_SECONDS = MAX_LIVE_UPDATE_WAIT_SECONDS;

const roleSchema = z.enum(['customer', 'assistant']);
const partyLevelSchema = z.object({
  rmsDbfs: z.number().describe('Loudness of the party\'s channel over the last moment, dBFS (0 = full scale)'),
  speaking: z.boolean(),
});
export const levelsSchema = z.object({ customer: partyLevelSchema, assistant: partyLevelSchema });

const input = {
  callId: callIdField,
  sinceSeq: z.number().int().min(1).optional().describe('Return lines with seq >= sinceSeq; pass the previous nextSeq'),
  etag: z.string().max(100).optional().describe('The previous etag: return early only when the state differs from it'),
  waitSeconds: z.number().min(0).max(MAX_WAIT_SECONDS).default(0).describe('Wait up to this many seconds for news; 0 answers at once'),
};

const output = {
  callId: z.string(),
  status: z.string(),
  ended: z.boolean(),
  endedReason: z.string().optional(),
  lines: z.array(z.object({ seq: z.number(), role: roleSchema, text: z.string(), secondsFromStart: z.number() })),
  partials: z.array(z.object({ role: roleSchema, text: z.string() })),
  speaking: z.array(roleSchema).describe('Parties speaking now, from speech-update events and partial transcripts'),
  levels: levelsSchema.optional().describe('Audio level per party, when this server measures them'),
  muted: z.object({ customer: z.boolean(), assistant: z.boolean() }).describe('Mutes this server set'),
  connection: z.enum(['connecting', 'connected', 'reconnecting', 'closed']),
  listenError: z.string().optional().describe('Why listening is failing or stopped before the call ended'),
  listenHttpStatus: z.number().optional().describe('HTTP status of a refused listen connection'),
  durationSeconds: z.number().describe('Seconds of call audio heard so far'),
  nextSeq: z.number(),
  missedLines: z.number().optional(),
  etag: z.string().describe('Pass back with the next request'),
  source: z.enum(['live', 'vapi']),
  controls: z
    .object({ steer: z.boolean(), transfer: z.boolean() })
    .describe("Which of the console's controls this connection may use (read-only mode, its OAuth scopes)"),
};

/** May this connection call the tool behind a control. */
export type ToolAllowed = (toolName: string) => boolean;

export const consoleUpdatesTool = (allowed: ToolAllowed) => defineTool({
  name: CONSOLE_UPDATES_TOOL,
  title: 'Live call console updates',
  description: 'For the live call console view only: what changed in a call since the cursor, waiting briefly for news.',
  input,
  output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  scope: 'calls:read',
  run: async (core, { callId, ...request }, context) => ({
    ...(await core.liveUpdate(callId, request, context)),
    controls: { steer: allowed('inject_say'), transfer: allowed('transfer_call') },
  }),
}) as unknown as ToolDefinition;
