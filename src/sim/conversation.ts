/**
 * Who speaks when. One utterance at a time: the opening (first message), then the script, with speech injected
 * through the control URL taking precedence over the script. The exception is a scripted interruption
 * (`interruptAfterMs`): that turn starts while the previous one is still being spoken, and both are heard until
 * the party talked over stops. Each utterance emits speech-update started, a few
 * cumulative partial transcripts, the final transcript, speech-update stopped and a conversation-update.
 * A muted party's utterances still take their time but are not heard: no audio, transcripts or messages.
 */
import type { Timer } from './clock.js';
import type { SeededRandom } from './random.js';
import { CUSTOMER_OPENER, partialCount, replyTo, speechDurationMs } from './script.js';
import type { ScriptTurn } from './types.js';

export type Party = 'customer' | 'assistant';

export interface ConversationHost {
  readonly now: number;
  after(delayMs: number, fn: () => void): Timer;
  emit(event: Record<string, unknown>): void;
  setSpeaking(party: Party, speaking: boolean): void;
  isMuted(party: Party): boolean;
  epochMs(callTime: number): number;
  /** Call time at which the call was answered. */
  answeredAt(): number;
  /** The customer hangs up because nothing more is happening. */
  hangUpIdle(): void;
}

export interface ConversationOptions {
  script: readonly ScriptTurn[];
  firstMessage: string;
  waitForUser: boolean;
  hangupAfterScript: boolean;
  systemPrompt?: string;
  rng: SeededRandom;
  /** Default true: speech-update events carry the utterance's `turn` number. */
  speechUpdateTurn?: boolean;
}

export interface WireMessage {
  role: 'bot' | 'user' | 'system';
  message: string;
  time: number;
  endTime?: number;
  secondsFromStart: number;
  duration?: number;
}

export interface OpenAiMessage {
  role: string;
  content: string;
}

interface SpeechItem {
  role: Party;
  text: string;
  pauseMs: number;
  /** Scripted interruption: starts this long after the previous utterance started, talking over it. */
  interruptAfterMs?: number;
  overlapMs?: number;
  /** Runs once the utterance has been spoken in full. */
  after?: () => void;
}

interface Utterance {
  item: SpeechItem;
  words: string[];
  start: number;
  end: number;
  turn: number;
  /** Whether the party was unmuted when it started: only heard utterances produce events. */
  heard: boolean;
  timers: Timer[];
}

/** Silence after the script before the customer gives up and hangs up. */
export const IDLE_HANGUP_MS = 8000;
const INJECTED_SPEECH_PAUSE_MS = 300;
const FIRST_MESSAGE_PAUSE_MS = 500;
/** How long a party keeps talking once interrupted, unless the script says otherwise. */
export const DEFAULT_OVERLAP_MS = 600;

export class Conversation {
  readonly messages: WireMessage[] = [];
  readonly openAiMessages: OpenAiMessage[] = [];
  private agenda: SpeechItem[] = [];
  private agendaIndex = 0;
  private readonly priority: SpeechItem[] = [];
  private current: Utterance | undefined;
  /** The utterance talking over `current` during a scripted interruption. */
  private barging: Utterance | undefined;
  private gap: { timer: Timer; forAgenda: boolean } | undefined;
  private idleTimer: Timer | undefined;
  private turn = 0;
  private started = false;
  private halted = false;
  private scriptTurnsSpoken = 0;

  constructor(
    private readonly host: ConversationHost,
    private readonly options: ConversationOptions,
  ) {}

  /** True once every scripted turn has been spoken. */
  get scriptCompleted(): boolean {
    return this.scriptTurnsSpoken === this.options.script.length;
  }

  /** The call was answered: the opening and the script begin. */
  start(): void {
    if (this.started || this.halted) return;
    this.started = true;
    const { firstMessage, waitForUser, script, systemPrompt, rng } = this.options;
    if (systemPrompt) this.record('system', systemPrompt, this.host.now);
    if (waitForUser) this.agenda.push({ role: 'customer', text: CUSTOMER_OPENER, pauseMs: 900 });
    if (firstMessage.trim()) this.agenda.push({ role: 'assistant', text: firstMessage, pauseMs: FIRST_MESSAGE_PAUSE_MS });
    for (const turn of script) {
      const scripted: SpeechItem = {
        role: turn.role,
        text: turn.text,
        pauseMs: turn.pauseMs ?? 500 + rng.int(500),
        ...(turn.interruptAfterMs !== undefined && { interruptAfterMs: turn.interruptAfterMs, overlapMs: turn.overlapMs }),
        after: () => this.scriptTurnsSpoken++,
      };
      this.agenda.push(scripted);
    }
    this.next();
  }

  /** The assistant speaks `text` as soon as the floor is free, or right now when interrupting itself. */
  say(text: string, options: { interrupt?: boolean; after?: () => void } = {}): void {
    if (this.halted) return;
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    const item: SpeechItem = { role: 'assistant', text, pauseMs: INJECTED_SPEECH_PAUSE_MS, after: options.after };
    if (options.interrupt && this.current?.item.role === 'assistant' && !this.barging) {
      this.cut(this.current);
      this.priority.unshift({ ...item, pauseMs: 0 });
    } else {
      this.priority.push(item);
    }
    if (this.gap?.forAgenda) this.cancelGap();
    this.next();
  }

  /** Inserts a message into the conversation; with `respond` the assistant answers it out loud. */
  addMessage(role: string, content: string, respond: boolean): void {
    if (this.halted) return;
    const wireRole = role === 'assistant' ? 'bot' : role === 'user' ? 'user' : 'system';
    this.record(wireRole, content, this.host.now, undefined, role);
    this.emitConversation();
    if (respond) this.say(replyTo(content));
  }

  /** Stops all speech for good (call ended or forwarded); an utterance in progress is cut off. */
  halt(): void {
    if (this.halted) return;
    this.halted = true;
    this.cancelGap();
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    const { current, barging } = this;
    if (current) this.cut(current);
    if (barging) this.cut(barging);
    this.barging = undefined;
  }

  private next(): void {
    if (this.halted || !this.started || this.current || this.gap) return;
    const injected = this.priority[0];
    if (injected) {
      this.gap = {
        forAgenda: false,
        timer: this.host.after(injected.pauseMs, () => {
          this.gap = undefined;
          this.priority.shift();
          this.speak(injected);
        }),
      };
      return;
    }
    const scripted = this.agenda[this.agendaIndex];
    if (scripted) {
      this.gap = {
        forAgenda: true,
        timer: this.host.after(scripted.pauseMs, () => {
          this.gap = undefined;
          this.agendaIndex++;
          this.speak(scripted, true);
        }),
      };
      return;
    }
    if (this.options.hangupAfterScript && !this.idleTimer) {
      this.idleTimer = this.host.after(IDLE_HANGUP_MS, () => this.host.hangUpIdle());
    }
  }

  private speak(item: SpeechItem, fromAgenda = false): void {
    const words = item.text.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      item.after?.();
      this.next();
      return;
    }
    const utterance = this.utter(item, words);
    this.current = utterance;
    const following = fromAgenda ? this.agenda[this.agendaIndex] : undefined;
    const duration = utterance.end - utterance.start;
    if (following?.interruptAfterMs !== undefined && following.role !== item.role && following.interruptAfterMs < duration) {
      utterance.timers.push(this.host.after(following.interruptAfterMs, () => this.bargeIn(utterance, following)));
    }
  }

  /** The next scripted turn starts over `interrupted`, which stops after the overlap (or at its end). */
  private bargeIn(interrupted: Utterance, item: SpeechItem): void {
    if (this.halted || this.current !== interrupted || this.agenda[this.agendaIndex] !== item) return;
    const words = item.text.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return;
    this.agendaIndex++;
    const barging = this.utter(item, words);
    this.barging = barging;
    const overlap = Math.min(item.overlapMs ?? DEFAULT_OVERLAP_MS, barging.end - barging.start - 1);
    if (this.host.now + overlap >= interrupted.end) return; // it finishes on its own while both talk
    interrupted.timers.push(
      this.host.after(overlap, () => {
        this.cut(interrupted);
        interrupted.item.after?.();
        this.current = barging;
        this.barging = undefined;
      }),
    );
  }

  private utter(item: SpeechItem, words: string[]): Utterance {
    const start = this.host.now;
    const duration = speechDurationMs(words.length);
    const heard = !this.host.isMuted(item.role);
    const utterance: Utterance = { item, words, start, end: start + duration, turn: this.turn++, heard, timers: [] };
    this.host.setSpeaking(item.role, true);
    if (heard) this.emitSpeech(utterance, 'started');
    const partials = partialCount(words.length);
    for (let k = 1; k <= partials; k++) {
      const wordsSoFar = Math.ceil((k * words.length) / (partials + 1));
      utterance.timers.push(
        this.host.after((duration * k) / (partials + 1), () => {
          if (utterance.heard && !this.host.isMuted(item.role)) {
            this.emitTranscript(item.role, 'partial', words.slice(0, wordsSoFar).join(' '));
          }
        }),
      );
    }
    utterance.timers.push(this.host.after(duration, () => this.finish(utterance)));
    return utterance;
  }

  private finish(utterance: Utterance): void {
    this.wrapUp(utterance, utterance.item.text);
    utterance.item.after?.();
    if (utterance === this.current && this.barging) {
      // The interrupted party reached its end while being talked over: the interrupter has the floor.
      this.current = this.barging;
      this.barging = undefined;
      return;
    }
    if (utterance === this.barging) this.barging = undefined;
    this.next();
  }

  /** Ends an utterance early; what was already said is kept. */
  private cut(utterance: Utterance): void {
    for (const timer of utterance.timers) timer.cancel();
    const elapsed = (this.host.now - utterance.start) / (utterance.end - utterance.start);
    const spoken = utterance.words.slice(0, Math.floor(utterance.words.length * Math.min(1, elapsed)));
    this.wrapUp(utterance, spoken.join(' '));
  }

  private wrapUp(utterance: Utterance, text: string): void {
    const { role } = utterance.item;
    if (utterance === this.current) this.current = undefined;
    this.host.setSpeaking(role, false);
    const transcribed = utterance.heard && !this.host.isMuted(role) && text.length > 0;
    if (transcribed) {
      this.emitTranscript(role, 'final', text);
      this.record(role === 'assistant' ? 'bot' : 'user', text, utterance.start, this.host.now);
    }
    if (utterance.heard) this.emitSpeech(utterance, 'stopped');
    if (transcribed) this.emitConversation();
  }

  private record(role: WireMessage['role'], text: string, start: number, end?: number, openAiRole?: string): void {
    const secondsFromStart = Math.max(0, Math.round(start - this.host.answeredAt())) / 1000;
    const message: WireMessage = { role, message: text, time: this.host.epochMs(start), secondsFromStart };
    if (end !== undefined) {
      message.endTime = this.host.epochMs(end);
      message.duration = Math.round(end - start);
    }
    this.messages.push(message);
    const formattedRole = openAiRole ?? (role === 'bot' ? 'assistant' : role);
    this.openAiMessages.push({ role: formattedRole, content: text });
  }

  private cancelGap(): void {
    this.gap?.timer.cancel();
    this.gap = undefined;
  }

  private emitSpeech(utterance: Utterance, status: 'started' | 'stopped'): void {
    this.host.emit({
      type: 'speech-update',
      status,
      role: wireRole(utterance.item.role),
      ...(this.options.speechUpdateTurn !== false && { turn: utterance.turn }),
      timestamp: this.host.epochMs(this.host.now),
    });
  }

  private emitTranscript(party: Party, transcriptType: 'partial' | 'final', transcript: string): void {
    this.host.emit({
      type: 'transcript',
      role: wireRole(party),
      transcriptType,
      transcript,
      timestamp: this.host.epochMs(this.host.now),
    });
  }

  private emitConversation(): void {
    this.host.emit({
      type: 'conversation-update',
      messages: this.messages.map((message) => ({ ...message })),
      messagesOpenAIFormatted: this.openAiMessages.map((message) => ({ ...message })),
      timestamp: this.host.epochMs(this.host.now),
    });
  }
}

function wireRole(party: Party): 'user' | 'assistant' {
  return party === 'customer' ? 'user' : 'assistant';
}
