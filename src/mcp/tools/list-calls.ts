import { z } from 'zod';
import { DEFAULT_LIST_LIMIT } from '../../core/operations/list-calls.js';
import { CALL_STATUSES } from '../../vapi/schemas.js';
import { defineTool } from './define.js';
import { callSummarySchema } from './shapes.js';

const DESCRIPTION = `List recent Vapi calls, newest first, as compact rows (id, status, customer number, times, duration, endedReason, cost).
- Filters are Vapi's own and are passed through unchanged: id, assistantId, phoneNumberId, limit, and createdAt/updatedAt bounds (Gt, Lt, Ge, Le; ISO 8601 date-times).
- limit defaults to ${DEFAULT_LIST_LIMIT} (Vapi allows up to 1000). When a page is full, more may exist: pass next.createdAtLt back as createdAtLt to get the next, older page.
- status filters the returned page on this side (Vapi has no status filter), so a page may hold fewer rows than limit.
- Use get_call for one call in full (transcript, messages, cost breakdown, recordings).`;

const isoDate = (what: string) => z.string().max(40).optional().describe(`${what} (ISO 8601, e.g. 2026-11-21T09:00:00Z)`);

const input = {
  id: z.string().max(100).optional().describe('Only the call with this id'),
  assistantId: z.string().max(100).optional().describe('Only calls run by this assistant'),
  phoneNumberId: z.string().max(100).optional().describe('Only calls on this Vapi phone number'),
  limit: z.number().int().min(1).max(1000).optional().describe(`How many calls to return (default ${DEFAULT_LIST_LIMIT}, max 1000)`),
  createdAtGt: isoDate('Created after'),
  createdAtLt: isoDate('Created before'),
  createdAtGe: isoDate('Created at or after'),
  createdAtLe: isoDate('Created at or before'),
  updatedAtGt: isoDate('Updated after'),
  updatedAtLt: isoDate('Updated before'),
  updatedAtGe: isoDate('Updated at or after'),
  updatedAtLe: isoDate('Updated at or before'),
  status: z.enum(CALL_STATUSES).optional().describe('Keep only calls with this status (applied to the page Vapi returned)'),
};

const output = {
  calls: z.array(callSummarySchema),
  count: z.number(),
  limit: z.number().describe('The limit sent to Vapi'),
  mayHaveMore: z.boolean().describe('Vapi returned a full page: older calls may exist'),
  next: z.object({ createdAtLt: z.string() }).optional().describe('Pass as createdAtLt to get the next, older page'),
};

export const listCallsTool = defineTool({
  name: 'list_calls',
  title: 'List calls',
  description: DESCRIPTION,
  input,
  output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  scope: 'calls:read',
  run: (core, args, context) => core.listCalls(args, context),
});
