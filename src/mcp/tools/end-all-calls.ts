import { z } from 'zod';
import { defineTool } from './define.js';

const DESCRIPTION = `Kill switch: hang up every live call this server placed or is listening to, all at once.
- Use it when the user says stop, or something is going wrong on several calls; for one call use end_call.
- Returns one outcome per call: ended, already-over, or failed with the reason.
- reason is written into each call's event log (JSONL).`;

export const endAllCallsTool = defineTool({
  name: 'end_all_calls',
  title: 'Hang up every live call',
  description: DESCRIPTION,
  input: { reason: z.string().max(500).optional().describe('Why the calls are being ended; recorded in each call\'s event log') },
  output: {
    calls: z.array(
      z.object({
        callId: z.string(),
        outcome: z.enum(['ended', 'already-over', 'failed']),
        code: z.string().optional(),
        reason: z.string().optional(),
      }),
    ),
    ended: z.number(),
    alreadyOver: z.number(),
    failed: z.number(),
    note: z.string(),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  scope: 'calls:steer',
  run: (core, args, context) => core.endAllCalls(args, context),
});
