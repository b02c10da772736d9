/** The words of a simulated call: default greeting, default dialogue and the assistant's canned replies. */
import type { ScriptTurn } from './types.js';

export const DEFAULT_FIRST_MESSAGE =
  "Hi, this is Riley calling from Maple Street Dental about your upcoming appointment. Do you have a quick minute?";

/** The default script's longest silence: the assistant takes this long to answer one question. */
export const DEAD_AIR_MS = 2800;

/** What the customer says first when the assistant waits for the user. */
export const CUSTOMER_OPENER = 'Hello? Who is this?';

/**
 * An appointment confirmation: about 75 s of call time with the greeting and the closing silence. It has what a
 * voice-quality analysis looks for: response delays drawn per seed, the customer cutting into the assistant's
 * offer, the assistant answering over the customer's thanks, and a long dead-air gap while it "moves" the booking.
 */
export const DEFAULT_SCRIPT: readonly ScriptTurn[] = [
  { role: 'customer', text: 'Oh, hi. Yes, I have a minute. Which appointment is this about?' },
  {
    role: 'assistant',
    text: "It's your cleaning with Doctor Patel on Thursday at ten thirty in the morning. Can you still make it?",
  },
  {
    role: 'customer',
    text: 'Hmm, Thursday morning is tricky for me now. Is there anything later that afternoon, maybe after three?',
  },
  {
    role: 'assistant',
    text: 'Let me check. I have an opening at three fifteen or at four forty five on Thursday. Would either of those work?',
  },
  { role: 'customer', text: 'Three fifteen works. Do I need to bring anything?', interruptAfterMs: 4200, overlapMs: 700 },
  {
    role: 'assistant',
    pauseMs: DEAD_AIR_MS,
    text: "Just your insurance card and a photo ID. I've moved you to Thursday at three fifteen, and you'll get a text confirmation shortly.",
  },
  { role: 'customer', text: 'Perfect, thank you so much.' },
  {
    role: 'assistant',
    text: "You're welcome. Have a great day, and we'll see you on Thursday. Goodbye!",
    interruptAfterMs: 1500,
    overlapMs: 5000,
  },
];

export const DEFAULT_SCRIPT_SUMMARY =
  "The assistant called to confirm the customer's dental cleaning with Doctor Patel on Thursday at 10:30 AM. " +
  'The customer asked for a later time, and the appointment was moved to Thursday at 3:15 PM. ' +
  'The customer was told to bring an insurance card and a photo ID.';

/** Speaking pace of both parties: 2.5 words per second plus a short onset. */
export function speechDurationMs(wordCount: number): number {
  return 300 + wordCount * 400;
}

/** How many cumulative partial transcripts precede the final one. */
export function partialCount(wordCount: number): number {
  return Math.max(1, Math.min(4, Math.floor(wordCount / 3)));
}

/** The assistant's deterministic answer to a message added with `triggerResponseEnabled`. */
export function replyTo(content: string): string {
  const words = content.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return 'Understood.';
  const snippet = words.slice(0, 12).join(' ').replace(/[.!?,;:]+$/, '');
  return content.trim().endsWith('?')
    ? `Good question. About "${snippet}", let me check that for you.`
    : `Understood: ${snippet}.`;
}

/** Replaces `{{name}}` placeholders with `variableValues`, leaving unknown ones untouched. */
export function fillTemplate(text: string, values: Record<string, unknown> | undefined): string {
  if (!values) return text;
  return text.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) => {
    const value = values[name];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : whole;
  });
}
