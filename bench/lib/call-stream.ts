/**
 * A captured call (bench/lib/replay.ts) compiled for the load generator: every audio frame encoded once as a
 * WebSocket frame that all calls share, every JSON event split once around its epoch timestamps so each call
 * gets its own times by joining strings, and when each message falls due, in ms of audio since the call began.
 */
import type { CapturedStream } from './replay.js';
import { encodeFrame, OPCODE_BINARY, OPCODE_TEXT } from './ws-frames.js';

/** 16 kHz × 2 channels × 2 bytes. */
const AUDIO_BYTES_PER_MS = 64;
/** Fields that hold epoch milliseconds in Vapi's listen events. */
const EPOCH_FIELD = /("(?:timestamp|time)":)(\d{13})(?=[,}\]])/g;

export interface EventTemplate {
  type: string;
  /** Text between the timestamps: parts.length = stamps.length + 1. */
  parts: string[];
  /** Each timestamp as ms after the call was answered. */
  stamps: number[];
}

export interface StreamItem {
  /** Audio ms since the answer by which this message is sent. */
  dueMs: number;
  /** An audio frame, encoded. */
  frame?: Buffer;
  /** Its payload length (audio bytes). */
  audioBytes: number;
  event?: EventTemplate;
}

export interface CompiledStream {
  items: StreamItem[];
  /** Past the last audio frame, the stream starts again here (the first audio frame), later by `loopMs`. */
  loopFrom: number;
  loopEnd: number;
  loopMs: number;
  /** Events the call ended with (sent on hang-up, before the close frame), and the last of their stamps. */
  tail: EventTemplate[];
  tailEndMs: number;
}

export function compileStream(stream: CapturedStream): CompiledStream {
  const texts = stream.messages.map((m) => (m.binary ? undefined : m.data.toString('utf8')));
  const answeredAt = answerEpoch(stream);
  const items: StreamItem[] = [];
  let audio = 0;
  let firstAudio = -1;
  let lastAudio = -1;
  stream.messages.forEach((message, i) => {
    if (message.binary) {
      audio += message.data.length;
      if (firstAudio < 0) firstAudio = i;
      lastAudio = i;
      items.push({ dueMs: audio / AUDIO_BYTES_PER_MS, frame: encodeFrame(OPCODE_BINARY, message.data), audioBytes: message.data.length });
    } else {
      items.push({ dueMs: audio / AUDIO_BYTES_PER_MS, event: template(texts[i]!, answeredAt), audioBytes: 0 });
    }
  });
  if (firstAudio < 0) throw new Error('the captured call carried no audio');
  const tail = items.slice(lastAudio + 1).flatMap((item) => (item.event ? [item.event] : []));
  const loopStartMs = items[firstAudio].dueMs - items[firstAudio].audioBytes / AUDIO_BYTES_PER_MS;
  return {
    items: items.slice(0, lastAudio + 1),
    loopFrom: firstAudio,
    loopEnd: lastAudio + 1,
    loopMs: items[lastAudio].dueMs - loopStartMs,
    tail,
    tailEndMs: Math.max(0, ...tail.flatMap((event) => event.stamps)),
  };
}

/** The event's text with its timestamps moved to a call answered at `answeredEpochMs`, as a WebSocket frame. */
export function renderEvent(event: EventTemplate, answeredEpochMs: number): Buffer {
  let text = event.parts[0];
  for (let i = 0; i < event.stamps.length; i++) text += Math.round(answeredEpochMs + event.stamps[i]) + event.parts[i + 1];
  return encodeFrame(OPCODE_TEXT, Buffer.from(text, 'utf8'));
}

function template(text: string, answeredAt: number): EventTemplate {
  const parts: string[] = [];
  const stamps: number[] = [];
  let last = 0;
  for (const match of text.matchAll(EPOCH_FIELD)) {
    const valueAt = match.index + match[1].length;
    parts.push(text.slice(last, valueAt));
    stamps.push(Number(match[2]) - answeredAt);
    last = valueAt + match[2].length;
  }
  parts.push(text.slice(last));
  let type = 'unknown';
  try {
    type = String((JSON.parse(text) as { type?: unknown }).type);
  } catch {
    // not JSON: replayed as it is
  }
  return { type, parts, stamps };
}

/**
 * The epoch ms at which the captured call was answered: the first event's timestamp less the audio sent before it
 * (the simulator stamps events with the call time at which it sends them, to the frame).
 */
function answerEpoch(stream: CapturedStream): number {
  let audioBytes = 0;
  for (const message of stream.messages) {
    if (message.binary) {
      audioBytes += message.data.length;
      continue;
    }
    const event = JSON.parse(message.data.toString('utf8')) as { timestamp?: unknown };
    if (typeof event.timestamp === 'number') return event.timestamp - audioBytes / AUDIO_BYTES_PER_MS;
  }
  throw new Error('the captured call has no timestamped event');
}
