/**
 * The output schemas the tools share: the contract (field names and descriptions the model reads) for the
 * views the call core returns (src/core/views). The core's types and these schemas are checked against each
 * other where each tool returns the core's result.
 */
import { z } from 'zod';

export const callSummaryShape = {
  id: z.string(),
  status: z.string().optional(),
  type: z.string().optional(),
  customerNumber: z.string().optional(),
  customerName: z.string().optional(),
  name: z.string().optional(),
  createdAt: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  durationSeconds: z.number().optional(),
  endedReason: z.string().optional(),
  cost: z.number().optional(),
};
export const callSummarySchema = z.object(callSummaryShape);

export const monitorAvailabilitySchema = z.object({
  listen: z.boolean().describe('Live listening is possible (the call has a listen URL)'),
  control: z.boolean().describe('Live control is possible (the call has a control URL)'),
});

export const compactMessageSchema = z.object({
  role: z.string().describe('customer, assistant, system, tool_calls or tool_call_result'),
  text: z.string(),
  secondsFromStart: z.number().optional(),
});

const level = z.object({
  rmsDbfs: z.number().describe('RMS of the last 100 ms, dBFS (-96 = digital silence)'),
  peakDbfs: z.number().describe('Peak of the last 100 ms, dBFS'),
  clippedSamples: z.number().describe('Samples at full scale so far'),
});

/** The voice-quality metrics: levels now, who is talking and the turn metrics so far. */
const audioMetricsShape = {
  source: z
    .enum(['audio', 'events', 'none', 'off'])
    .describe('audio: measured from the stereo audio; events: from speech-update timings (mono stream); none: nothing yet; off: analysis disabled'),
  analyzedSeconds: z.number().describe('Seconds of audio analysed'),
  levels: z.object({ customer: level.optional(), assistant: level.optional(), mixed: level.optional() }).describe('mixed for mono streams'),
  talking: z.object({ customer: z.boolean(), assistant: z.boolean() }).describe('Who is speaking now'),
  responseLatency: z
    .object({
      count: z.number(),
      p50Ms: z.number().optional(),
      p90Ms: z.number().optional(),
      maxMs: z.number().optional(),
      recent: z.array(z.object({ atSeconds: z.number(), ms: z.number() })).describe('The last few answers'),
    })
    .describe("End of the customer's speech to the start of the assistant's answer"),
  interruptions: z
    .object({
      count: z.number(),
      byCustomer: z.number(),
      byAssistant: z.number(),
      recent: z.array(
        z.object({
          atSeconds: z.number(),
          by: z.enum(['customer', 'assistant']).describe('Who started talking over the other'),
          overlapMs: z.number().optional().describe('How long both spoke; absent while still overlapping'),
        }),
      ),
    })
    .describe('A party starting to speak while the other is speaking'),
  talkSeconds: z.object({ customer: z.number(), assistant: z.number() }),
  assistantTalkShare: z.number().optional().describe("Assistant's share of all talk time, 0..1"),
  longestSilenceMs: z.number().describe('Longest stretch with neither party speaking, after the answer'),
  deadAirMs: z.number().describe('Total time with neither party speaking, after the answer'),
};

/** The `audio` block of listening results: the metrics, or why they could not be computed (the rest of the result stands). */
export const audioSchema = z
  .union([
    z.object(audioMetricsShape),
    z.object({
      source: z.literal('error').describe('The metrics could not be computed; the transcript and files are unaffected'),
      reason: z.string(),
    }),
  ])
  .describe('Levels now, who is talking and the voice-quality metrics so far; source "error" with a reason when they could not be computed');

/** How listening to a call is going, and why it is not working when it is not. */
export const listenStateShape = {
  listenState: z
    .enum(['connecting', 'connected', 'reconnecting', 'unavailable', 'stopped'])
    .describe('unavailable: listening stopped before the call ended (listenError says why; listen_call tries again); stopped: the call ended or listening was stopped'),
  listenError: z.string().optional().describe('Why listening is failing right now (while retrying) or stopped before the call ended'),
  listenHttpStatus: z.number().optional().describe('HTTP status Vapi answered the refused listen connection with'),
};

export const listeningShape = {
  active: z.boolean().describe('The listener is connected, reconnecting or still finalising its files'),
  ended: z.boolean().describe('The call has ended and the files are final'),
  filesFinal: z.boolean().describe('The WAV header and the JSONL are complete and closed (after the end or stop_listening)'),
  audioPath: z.string().optional().describe('Absolute path of the WAV file'),
  transcriptPath: z.string().optional().describe('Absolute path of the JSONL event log'),
  audioBytes: z.number().describe('PCM bytes received and written so far'),
  durationSeconds: z.number().describe('Seconds of audio received'),
  reconnects: z.number().optional().describe('Times the listen socket dropped and was reconnected'),
  malformedFrames: z.number().optional().describe('Frames that could not be read (counted, logged, skipped)'),
  diskError: z.string().optional().describe('Why files could not be written; the live transcript still works'),
  audioStoppedReason: z.string().optional().describe('Why audio stopped being saved while listening went on'),
  ...listenStateShape,
  audio: audioSchema.optional(),
};

/** What every live-control tool returns: Vapi accepted the message; its effect shows in the transcript. */
export const controlOutput = {
  callId: z.string(),
  accepted: z.boolean().describe('Vapi accepted the control message (false when confirmation is required)'),
  action: z.string().describe('The control message sent, or that would be sent'),
  note: z.string().optional(),
};

/** The extra fields of a change that needs the user's yes where the client cannot ask (VAPI_CONFIRM_CALLS). */
export const confirmationOutput = {
  status: z
    .literal('confirmation-required')
    .optional()
    .describe('Nothing was done: show preview to the user and, only if they agree, call again with the same arguments plus confirmationToken'),
  preview: z.object({ summary: z.string(), destination: z.string().optional() }).optional().describe('What the user is asked to agree to'),
  confirmationToken: z.string().optional().describe('Pass back with exactly the same arguments once the user agreed (single use, 5 minutes)'),
  confirmationExpiresAt: z.string().optional(),
};

export const confirmationTokenInput = z
  .string()
  .max(200)
  .optional()
  .describe('From a confirmation-required result for exactly these arguments: pass it only after the user saw the preview and agreed');
