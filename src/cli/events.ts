/**
 * The `--json` event stream of `watch` (and `call --watch`): one JSON object per line, written as each event
 * happens, so jq, pipes and line-driven monitors can follow a call. Field names are part of the contract
 * (README, "From the terminal"); add fields, never rename them.
 */
export type WatchEvent =
  | { type: 'placed'; callId: string; status: string; number: string }
  | { type: 'status'; callId: string; status: string }
  | { type: 'line'; callId: string; seq: number; role: 'customer' | 'assistant'; text: string; secondsFromStart: number }
  | { type: 'partial'; callId: string; role: 'customer' | 'assistant'; text: string }
  | ({ type: 'ended'; callId: string; status: string; endedReason?: string } & Files)
  | ({ type: 'stopped'; callId: string; status: string } & Files)
  | ({ type: 'listen-unavailable'; callId: string; status: string; reason: string; httpStatus?: number } & Files);

export interface Files {
  audioPath?: string;
  transcriptPath?: string;
  audioBytes?: number;
  durationSeconds?: number;
}

/** The line for one event: the event's fields, then `at` (ISO time it was written). */
export function eventLine(event: WatchEvent, now = new Date()): string {
  return `${JSON.stringify({ ...event, at: now.toISOString() })}\n`;
}
