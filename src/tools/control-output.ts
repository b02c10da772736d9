import { z } from 'zod';

/** What every live-control tool returns: Vapi accepted the message; its effect shows in the transcript. */
export const controlOutput = {
  callId: z.string(),
  accepted: z.boolean().describe('Vapi accepted the control message'),
  action: z.string().describe('The control message sent'),
  note: z.string().optional(),
};
