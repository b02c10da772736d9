/** What an ended call carries: cost, cost breakdown, artifact, analysis, and the legacy top-level copies. */
import type { OpenAiMessage, WireMessage } from './conversation.js';

export interface EndOfCallInput {
  messages: readonly WireMessage[];
  openAiMessages: readonly OpenAiMessage[];
  /** Answered duration; 0 when the call was never answered. */
  seconds: number;
  endedReason: string;
  /** Recording URLs are built under this (they look real but are not served). */
  recordingBase: string;
  transcriptNames: { assistant: string; user: string };
  /** A summary to use instead of the generic one. */
  summary?: string;
}

export function endOfCallFields(input: EndOfCallInput): Record<string, unknown> {
  const { messages, seconds, endedReason, recordingBase, transcriptNames } = input;
  const spoken = messages.filter((message) => message.role !== 'system');
  const transcript = spoken
    .map((message) => `${message.role === 'bot' ? transcriptNames.assistant : transcriptNames.user}: ${message.message}`)
    .join('\n');
  const linesOf = (role: WireMessage['role']) => spoken.filter((message) => message.role === role).map((m) => m.message);
  const costs = computeCosts(seconds, linesOf('bot'));
  const recordingUrl = `${recordingBase}/mono.wav`;
  const stereoRecordingUrl = `${recordingBase}/stereo.wav`;
  const summary = input.summary ?? genericSummary(seconds, linesOf('user'), endedReason);
  return {
    cost: costs.breakdown.total,
    costBreakdown: costs.breakdown,
    costs: costs.items,
    messages: structuredClone(messages),
    artifact: {
      messages: structuredClone(messages),
      messagesOpenAIFormatted: structuredClone(input.openAiMessages),
      transcript,
      recordingUrl,
      stereoRecordingUrl,
      recording: {
        stereoUrl: stereoRecordingUrl,
        mono: {
          combinedUrl: recordingUrl,
          assistantUrl: `${recordingBase}/assistant.wav`,
          customerUrl: `${recordingBase}/customer.wav`,
        },
      },
    },
    analysis: { summary, successEvaluation: String(endedReason !== 'exceeded-max-duration' && spoken.length > 0) },
    // Legacy top-level copies that older payloads carried.
    transcript,
    summary,
    recordingUrl,
    stereoRecordingUrl,
  };
}

function round(value: number, digits = 4): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Plausible per-component prices; zero for a call that was never answered. */
function computeCosts(seconds: number, assistantLines: string[]) {
  const minutes = seconds / 60;
  const characters = assistantLines.reduce((sum, line) => sum + line.length, 0);
  const promptTokens = seconds > 0 ? 350 * assistantLines.length + Math.round(characters / 2) : 0;
  const completionTokens = Math.round(characters / 4);
  const transport = round(0.0085 * minutes);
  const stt = round(0.01 * minutes);
  const llm = round(promptTokens * 2.5e-6 + completionTokens * 1e-5);
  const tts = round(characters * 2.2e-5);
  const vapi = round(0.05 * minutes);
  const total = round(transport + stt + llm + tts + vapi);
  const roundedMinutes = round(minutes);
  return {
    breakdown: {
      transport,
      stt,
      llm,
      tts,
      vapi,
      total,
      llmPromptTokens: promptTokens,
      llmCompletionTokens: completionTokens,
      ttsCharacters: characters,
    },
    items: [
      { type: 'transport', provider: 'twilio', minutes: roundedMinutes, cost: transport },
      { type: 'transcriber', transcriber: { provider: 'deepgram', model: 'nova-3' }, minutes: roundedMinutes, cost: stt },
      { type: 'model', model: { provider: 'openai', model: 'gpt-4o' }, promptTokens, completionTokens, cost: llm },
      { type: 'voice', voice: { provider: 'vapi', voiceId: 'Elliot' }, characters, cost: tts },
      { type: 'vapi', subType: 'normal', minutes: roundedMinutes, cost: vapi },
    ],
  };
}

function genericSummary(seconds: number, customerLines: string[], endedReason: string): string {
  if (seconds === 0) return `The call ended before it was answered (${endedReason}).`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  const length = minutes > 0 ? `${minutes} min ${rest} s` : `${rest} s`;
  const last = customerLines.at(-1);
  const customerPart = last
    ? ` The customer spoke ${customerLines.length} time(s); their last words were "${last}".`
    : ' The customer did not say anything.';
  return `The assistant talked with the customer for ${length}.${customerPart} The call ended with ${endedReason}.`;
}
