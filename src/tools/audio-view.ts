/** The `audio` block of listening results: levels now, who is talking and the voice-quality metrics so far. */
import { z } from 'zod';
import type { AudioMetrics } from '../live/audio-analysis.js';

const level = z.object({
  rmsDbfs: z.number().describe('RMS of the last 100 ms, dBFS (-96 = digital silence)'),
  peakDbfs: z.number().describe('Peak of the last 100 ms, dBFS'),
  clippedSamples: z.number().describe('Samples at full scale so far'),
});

export const audioShape = {
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

export function audioView(metrics: AudioMetrics): z.infer<z.ZodObject<typeof audioShape>> {
  return metrics;
}
