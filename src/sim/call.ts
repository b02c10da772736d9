/**
 * One simulated call: its wire object, its lifecycle (scheduled → queued → ringing → in-progress →
 * (forwarding →) ended), its listeners and the audio state they hear, and the end-of-call artifacts.
 */
import type { WebSocket } from 'ws';
import type { SimLogger, WireCall } from './wire.js';
import { samplesAt, type ActiveParties, type ToneSource } from './audio.js';
import type { Scheduler, SimClock, Timer } from './clock.js';
import type { ControlAction, ControlCommand } from './control.js';
import { Conversation, type ConversationHost, type Party } from './conversation.js';
import { ListenConnection, type ListenStreamOptions } from './listen.js';
import type { SeededRandom } from './random.js';
import { endOfCallFields } from './artifacts.js';
import { DEFAULT_FIRST_MESSAGE, DEFAULT_SCRIPT_SUMMARY, fillTemplate } from './script.js';
import type { ScriptTurn, SpeechInterval } from './types.js';
import { isObject, type CallSpec, type JsonObject } from './validate.js';

/** Call time between the start of forwarding and the end of the call. */
export const FORWARDING_MS = 2000;
const DEFAULT_MAX_DURATION_SECONDS = 600;
const WIRE_ECHO_EXCLUDED = new Set(['customers', 'customer', 'metadata']);

/** Settings shared by every call of one simulator. */
export interface CallEnvironment {
  scheduler: Scheduler;
  clock: SimClock;
  logger: SimLogger;
  tone: ToneSource;
  stream: ListenStreamOptions;
  /** http://host:port and ws://host:port */
  httpBase: string;
  wsBase: string;
  ringMs: number;
  answerMs: number;
  /** Ring only once a listen socket is open (SimulatorOptions.waitForListener). */
  waitForListener: boolean;
  hangupAfterScript: boolean;
  script: readonly ScriptTurn[];
  usesDefaultScript: boolean;
  countAudioBytes(callId: string, bytes: number): void;
  onEvent?: (callId: string, event: Readonly<Record<string, unknown>>, listeners: number) => void;
}

export interface CallIdentity {
  id: string;
  orgId: string;
  providerCallId: string;
  createdAtEpochMs: number;
}

interface MonitorPlan {
  listenEnabled?: unknown;
  listenAuthenticationEnabled?: unknown;
  controlEnabled?: unknown;
  controlAuthenticationEnabled?: unknown;
}

export class SimCall implements ConversationHost {
  readonly id: string;
  private readonly wire: JsonObject;
  private readonly conversation: Conversation;
  private readonly listeners = new Set<ListenConnection>();
  /** Queued, waiting for a listen socket before it rings (waitForListener). */
  private waitingForListener = false;
  private readonly timers = new Set<Timer>();
  private readonly speaking = { customer: false, assistant: false };
  private readonly muted = { customer: false, assistant: false };
  private readonly monitorPlan: MonitorPlan;
  private readonly firstMessage: string;
  private readonly maxDurationMs: number;
  private readonly transcriptNames: { assistant: string; user: string };
  private answeredCallTime: number | undefined;
  /** Ground truth: when each party was audible (see Simulator.speechIntervals). */
  private readonly audible: SpeechInterval[] = [];
  private readonly openAudible: Record<Party, SpeechInterval | undefined> = { customer: undefined, assistant: undefined };

  constructor(
    private readonly env: CallEnvironment,
    identity: CallIdentity,
    spec: CallSpec,
    rng: SeededRandom,
  ) {
    this.id = identity.id;
    const { body, customer, overrides } = spec;
    const assistant = isObject(body.assistant) ? body.assistant : undefined;
    const setting = (key: string): unknown => overrides?.[key] ?? assistant?.[key];
    this.monitorPlan = (isObject(setting('monitorPlan')) ? setting('monitorPlan') : {}) as MonitorPlan;
    const variables = isObject(overrides?.variableValues) ? overrides.variableValues : undefined;
    const configuredFirstMessage = setting('firstMessage');
    const mode = setting('firstMessageMode');
    this.firstMessage =
      typeof configuredFirstMessage === 'string' && mode !== 'assistant-speaks-first-with-model-generated-message'
        ? fillTemplate(configuredFirstMessage, variables)
        : DEFAULT_FIRST_MESSAGE;
    const maxSeconds = setting('maxDurationSeconds');
    this.maxDurationMs = (typeof maxSeconds === 'number' && maxSeconds > 0 ? maxSeconds : DEFAULT_MAX_DURATION_SECONDS) * 1000;
    const artifactPlan = setting('artifactPlan');
    const transcriptPlan = isObject(artifactPlan) && isObject(artifactPlan.transcriptPlan) ? artifactPlan.transcriptPlan : {};
    this.transcriptNames = {
      assistant: typeof transcriptPlan.assistantName === 'string' ? transcriptPlan.assistantName : 'AI',
      user: typeof transcriptPlan.userName === 'string' ? transcriptPlan.userName : 'User',
    };
    this.conversation = new Conversation(this, {
      script: env.script,
      firstMessage: this.firstMessage,
      waitForUser: mode === 'assistant-waits-for-user',
      hangupAfterScript: env.hangupAfterScript,
      systemPrompt: systemPromptOf(setting('model')),
      rng,
      speechUpdateTurn: env.stream.speechUpdateTurn,
    });
    this.wire = this.buildWire(identity, body, customer);
  }

  // ---- lifecycle ---------------------------------------------------------------------------------------------

  /** Starts the clock on this call: scheduled calls wait for `schedulePlan.earliestAt`. */
  begin(): void {
    const plan = this.wire.schedulePlan;
    const earliest = isObject(plan) && typeof plan.earliestAt === 'string' ? Date.parse(plan.earliestAt) : Number.NaN;
    const startIn = this.env.clock.callTimeOfEpoch(earliest) - this.now;
    if (startIn > 0) {
      this.wire.status = 'scheduled';
      this.after(startIn, () => {
        this.setStatus('queued');
        this.ringSoon();
      });
    } else {
      this.ringSoon();
    }
  }

  /** Rings ringMs from now, or, with waitForListener, ringMs after a listen socket opened. */
  private ringSoon(): void {
    if (this.env.waitForListener && this.listeners.size === 0) {
      this.waitingForListener = true; // addListener rings it
      return;
    }
    this.after(this.env.ringMs, () => this.ring());
  }

  private ring(): void {
    this.setStatus('ringing');
    this.after(this.env.answerMs, () => this.answer());
  }

  private answer(): void {
    this.answeredCallTime = this.now;
    this.wire.startedAt = this.env.clock.iso(this.now);
    this.setStatus('in-progress');
    this.after(this.maxDurationMs, () => this.end('exceeded-max-duration'));
    this.conversation.start();
  }

  get isLive(): boolean {
    return this.wire.status !== 'ended';
  }

  get status(): string {
    return this.wire.status as string;
  }

  get createdAtEpochMs(): number {
    return Date.parse(this.wire.createdAt as string);
  }

  get updatedAtEpochMs(): number {
    return Date.parse(this.wire.updatedAt as string);
  }

  field(key: 'assistantId' | 'phoneNumberId'): unknown {
    return this.wire[key];
  }

  get listenEnabled(): boolean {
    return this.monitorPlan.listenEnabled !== false;
  }

  get controlEnabled(): boolean {
    return this.monitorPlan.controlEnabled !== false;
  }

  get listenNeedsAuth(): boolean {
    return this.monitorPlan.listenAuthenticationEnabled === true;
  }

  get controlNeedsAuth(): boolean {
    return this.monitorPlan.controlAuthenticationEnabled === true;
  }

  snapshot(): WireCall {
    return structuredClone(this.wire) as WireCall;
  }

  rename(name: string): void {
    this.wire.name = name;
    this.touch();
  }

  /** Ends the call now. Does nothing if it has already ended. */
  end(endedReason: string): void {
    if (!this.isLive) return;
    this.conversation.halt();
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    this.pumpAudio();
    for (const listener of this.listeners) listener.flushPartialFrame();
    this.wire.status = 'ended';
    this.wire.endedAt = this.env.clock.iso(this.now);
    this.wire.endedReason = endedReason;
    this.touch();
    this.writeArtifacts(endedReason);
    this.env.logger.info('simulated call ended', { callId: this.id, endedReason });
    this.broadcast({ type: 'status-update', status: 'ended', endedReason, timestamp: this.epochMs(this.now) });
    for (const listener of this.listeners) listener.ws.close(1000, 'call ended');
    this.listeners.clear();
  }

  // ---- control -----------------------------------------------------------------------------------------------

  applyControl(command: ControlCommand): void {
    switch (command.type) {
      case 'say':
        this.conversation.say(command.content, {
          interrupt: command.interruptAssistantEnabled,
          after: command.endCallAfterSpoken ? () => this.end('assistant-ended-call-after-message-spoken') : undefined,
        });
        return;
      case 'add-message':
        this.conversation.addMessage(command.role, command.content, command.triggerResponseEnabled);
        return;
      case 'control':
        return this.applyAction(command.control);
      case 'end-call':
        return this.end('assistant-ended-call');
      case 'transfer':
        if (command.content) this.conversation.say(command.content, { after: () => this.forward(command.destination) });
        else this.forward(command.destination);
        return;
      case 'handoff': {
        if (command.content) this.conversation.say(command.content);
        const target = command.destination.assistantName ?? command.destination.assistantId ?? 'another assistant';
        this.conversation.addMessage('system', `The call was handed off to ${String(target)}.`, false);
        return;
      }
      case 'send-transport-message':
        return;
    }
  }

  private applyAction(action: ControlAction): void {
    switch (action) {
      case 'mute-assistant':
        return this.setMuted('assistant', true);
      case 'unmute-assistant':
        return this.setMuted('assistant', false);
      case 'mute-customer':
        return this.setMuted('customer', true);
      case 'unmute-customer':
        return this.setMuted('customer', false);
      case 'say-first-message':
        return this.conversation.say(this.firstMessage);
    }
  }

  private forward(destination: JsonObject): void {
    if (!this.isLive || this.wire.status === 'forwarding') return;
    this.conversation.halt();
    this.wire.destination = destination;
    this.broadcast({ type: 'transfer-update', destination, timestamp: this.epochMs(this.now) });
    this.setStatus('forwarding', { destination });
    this.after(FORWARDING_MS, () => this.end('assistant-forwarded-call'));
  }

  private setMuted(party: Party, muted: boolean): void {
    this.pumpAudio();
    this.muted[party] = muted;
    this.trackAudible(party);
  }

  // ---- listeners and audio ----------------------------------------------------------------------------------

  addListener(ws: WebSocket): void {
    const joinSample =
      this.answeredCallTime === undefined ? 0 : samplesAt(this.now - this.answeredCallTime, this.env.stream.format.sampleRate);
    const connection = new ListenConnection(ws, joinSample, this.env.stream, (bytes) =>
      this.env.countAudioBytes(this.id, bytes),
    );
    this.listeners.add(connection);
    if (this.waitingForListener) {
      this.waitingForListener = false;
      this.after(this.env.ringMs, () => this.ring());
    }
    ws.on('close', () => this.listeners.delete(connection));
    ws.on('error', (error) => this.env.logger.debug('listen socket error', { callId: this.id, error }));
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Cuts every listen socket without a close frame, like a network drop. */
  dropListeners(): void {
    for (const listener of this.listeners) listener.ws.terminate();
    this.listeners.clear();
  }

  forEachListener(fn: (listener: ListenConnection) => void): void {
    this.pumpAudio();
    for (const listener of this.listeners) fn(listener);
  }

  closeListeners(code: number, reason: string): void {
    for (const listener of this.listeners) listener.ws.close(code, reason);
  }

  /** Sends every audio frame that is due by now, rendered with the current speaking and mute state. */
  pumpAudio(): void {
    if (this.answeredCallTime === undefined || !this.isLive || this.listeners.size === 0) return;
    const sampleEnd = samplesAt(this.now - this.answeredCallTime, this.env.stream.format.sampleRate);
    const active: ActiveParties = {
      customer: this.speaking.customer && !this.muted.customer,
      assistant: this.speaking.assistant && !this.muted.assistant,
    };
    for (const listener of this.listeners) listener.pump(sampleEnd, this.env.tone, active);
  }

  // ---- ConversationHost -------------------------------------------------------------------------------------

  get now(): number {
    return this.env.scheduler.now;
  }

  after(delayMs: number, fn: () => void): Timer {
    const timer = this.env.scheduler.after(delayMs, () => {
      this.timers.delete(timer);
      fn();
    });
    this.timers.add(timer);
    return timer;
  }

  emit(event: Record<string, unknown>): void {
    this.pumpAudio();
    this.broadcast(event);
  }

  setSpeaking(party: Party, speaking: boolean): void {
    this.pumpAudio();
    this.speaking[party] = speaking;
    this.trackAudible(party);
  }

  /** Every audible interval so far, in ms since answer; an open one ends now. */
  speechIntervals(): SpeechInterval[] {
    const now = this.msSinceAnswer();
    return this.audible.map((interval) => ({ ...interval, endMs: interval === this.openAudible[interval.party] ? now : interval.endMs }));
  }

  private trackAudible(party: Party): void {
    if (this.answeredCallTime === undefined) return;
    const audible = this.speaking[party] && !this.muted[party];
    const open = this.openAudible[party];
    if (audible && !open) {
      const interval: SpeechInterval = { party, startMs: this.msSinceAnswer(), endMs: Number.NaN };
      this.audible.push(interval);
      this.openAudible[party] = interval;
    } else if (!audible && open) {
      open.endMs = this.msSinceAnswer();
      this.openAudible[party] = undefined;
    }
  }

  /** Call time since answer, on the sample grid the audio is rendered on. */
  private msSinceAnswer(): number {
    const rate = this.env.stream.format.sampleRate;
    return (samplesAt(this.now - (this.answeredCallTime ?? this.now), rate) * 1000) / rate;
  }

  isMuted(party: Party): boolean {
    return this.muted[party];
  }

  epochMs(callTime: number): number {
    return this.env.clock.epochMs(callTime);
  }

  answeredAt(): number {
    return this.answeredCallTime ?? this.now;
  }

  hangUpIdle(): void {
    this.end('customer-ended-call');
  }

  // ---- internals --------------------------------------------------------------------------------------------

  private broadcast(event: Record<string, unknown>): void {
    for (const listener of this.listeners) listener.sendEvent(event);
    this.env.onEvent?.(this.id, event, this.listenerCount);
  }

  private setStatus(status: string, extra: Record<string, unknown> = {}): void {
    this.wire.status = status;
    this.touch();
    this.env.logger.debug('simulated call status', { callId: this.id, status });
    this.emit({ type: 'status-update', status, ...extra, timestamp: this.epochMs(this.now) });
  }

  private touch(): void {
    const at = Math.max(this.epochMs(this.now), Date.parse(this.wire.createdAt as string));
    this.wire.updatedAt = new Date(at).toISOString();
  }

  private buildWire(identity: CallIdentity, body: JsonObject, customer: JsonObject | undefined): JsonObject {
    const createdAt = new Date(identity.createdAtEpochMs).toISOString();
    const websocket = isObject(body.transport) && body.transport.provider === 'vapi.websocket';
    const wire: JsonObject = {
      id: identity.id,
      orgId: identity.orgId,
      createdAt,
      updatedAt: createdAt,
      type: websocket ? 'vapi.websocketCall' : 'outboundPhoneCall',
      status: 'queued',
    };
    for (const [key, value] of Object.entries(body)) {
      if (!WIRE_ECHO_EXCLUDED.has(key)) wire[key] = structuredClone(value);
    }
    if (customer) wire.customer = structuredClone(customer);
    wire.cost = 0;
    if (websocket) {
      wire.transport = { ...(body.transport as JsonObject), websocketCallUrl: `${this.env.wsBase}/${this.id}/transport` };
    } else {
      wire.phoneCallProvider = 'twilio';
      wire.phoneCallTransport = 'pstn';
      wire.phoneCallProviderId = identity.providerCallId;
    }
    const monitor: JsonObject = {};
    if (this.listenEnabled) monitor.listenUrl = `${this.env.wsBase}/${this.id}/listen`;
    if (this.controlEnabled) monitor.controlUrl = `${this.env.httpBase}/${this.id}/control`;
    wire.monitor = monitor;
    return wire;
  }

  private writeArtifacts(endedReason: string): void {
    const seconds = this.answeredCallTime === undefined ? 0 : (this.now - this.answeredCallTime) / 1000;
    const report = endOfCallFields({
      messages: this.conversation.messages,
      openAiMessages: this.conversation.openAiMessages,
      seconds,
      endedReason,
      recordingBase: `${this.env.httpBase}/recordings/${this.id}`,
      transcriptNames: this.transcriptNames,
      summary: this.env.usesDefaultScript && this.conversation.scriptCompleted ? DEFAULT_SCRIPT_SUMMARY : undefined,
    });
    Object.assign(this.wire, report);
  }
}

function systemPromptOf(model: unknown): string | undefined {
  if (!isObject(model) || !Array.isArray(model.messages)) return undefined;
  const system = model.messages.find((message) => isObject(message) && message.role === 'system');
  return isObject(system) && typeof system.content === 'string' ? system.content : undefined;
}
