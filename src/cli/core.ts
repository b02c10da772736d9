/**
 * The one place the terminal commands meet the call core. Until the process-wide CallCore exists (src/core), this
 * adapter builds the same pieces createServer builds (REST and control clients, dial policy, limits, listeners)
 * and runs the tools' own handlers, so every guardrail of the MCP tools applies unchanged. Its method names and
 * shapes follow the planned CallCore, so switching to createCallCore changes this file only.
 */
import { z } from 'zod';
import type { Config } from '../config.js';
import { ConfirmationTokens } from '../guard/confirmation-token.js';
import { CallLimits, DialPolicy } from '../guard/index.js';
import { ListenerRegistry } from '../live/registry.js';
import type { Logger } from '../log.js';
import { Redactor } from '../redact.js';
import { createCallTool } from '../tools/create-call.js';
import type { ToolDeps } from '../tools/deps.js';
import type { ToolDefinition } from '../tools/define.js';
import { endCallTool } from '../tools/end-call.js';
import { injectSayTool } from '../tools/inject-say.js';
import { listCallsTool } from '../tools/list-calls.js';
import { listenCallTool } from '../tools/listen-call.js';
import { readTranscriptTool } from '../tools/read-transcript.js';
import { ToolError, type ToolFailure } from '../tools/result.js';
import { stopListeningTool } from '../tools/stop-listening.js';
import { CallDirectory } from '../vapi/call-directory.js';
import { VapiControlClient } from '../vapi/control.js';
import { VapiRestClient } from '../vapi/rest.js';

type Input<T> = T extends ToolDefinition<infer I, z.ZodRawShape> ? z.input<z.ZodObject<I>> : never;
type Output<T> = T extends ToolDefinition<z.ZodRawShape, infer O> ? z.output<z.ZodObject<O>> : never;

export type PlaceCallRequest = Input<typeof createCallTool>;
export type PlaceCallResult = Output<typeof createCallTool>;
export type ListCallsRequest = Input<typeof listCallsTool>;
export type CallList = Output<typeof listCallsTool>;
export type ListenResult = Output<typeof listenCallTool>;
export type TranscriptRead = Output<typeof readTranscriptTool>;
export type StopListeningResult = Output<typeof stopListeningTool>;
export type ControlResult = Output<typeof endCallTool>;
export type CallFailure = ToolFailure;

export interface OperationContext {
  signal: AbortSignal;
  /** Ask the person at the terminal; 'unsupported' when there is nobody to ask. */
  confirm?(question: string): Promise<'accepted' | 'declined' | 'unsupported'>;
}

export interface TerminalCore {
  readonly config: Config;
  placeCall(request: PlaceCallRequest, context: OperationContext): Promise<PlaceCallResult>;
  listCalls(request: ListCallsRequest, context: OperationContext): Promise<CallList>;
  listen(callId: string, options: { saveAudio: boolean }, context: OperationContext): Promise<ListenResult>;
  readTranscript(callId: string, options: { sinceSeq?: number; waitSeconds?: number; maxChars?: number }, context: OperationContext): Promise<TranscriptRead>;
  stopListening(callId: string): Promise<StopListeningResult>;
  say(callId: string, options: { content: string; endCallAfterSpoken?: boolean; interruptAssistant?: boolean }, context: OperationContext): Promise<ControlResult>;
  endCall(callId: string, context: OperationContext): Promise<ControlResult>;
  /** Any visible change (line, partial, status) of a call being listened to. */
  onCallChange(fn: (callId: string) => void): () => void;
  /** Finalises every recording; once. */
  close(): Promise<void>;
}

/** The failure envelope of a core operation, or undefined for anything else (a bug, shown as such). */
export function failureOf(err: unknown): CallFailure | undefined {
  return err instanceof ToolError ? err.failure : undefined;
}

export function createTerminalCore(options: { config: Config; logger: Logger }): TerminalCore {
  const { config, logger } = options;
  const redactor = new Redactor();
  redactor.add(config.apiKey);
  redactor.add(config.publicKey);
  const rest = new VapiRestClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, logger });
  const control = new VapiControlClient({ publicKey: config.publicKey, logger });
  const directory = new CallDirectory();
  const limits = new CallLimits({ maxConcurrentCalls: config.maxConcurrentCalls, maxCallsPerHour: config.maxCallsPerHour });
  const listeners = new ListenerRegistry({
    recordingsDir: config.recordingsDir,
    publicKey: config.publicKey,
    transcriptMaxLines: config.transcriptMaxLines,
    audioAnalysis: config.audioAnalysis,
    getCall: (id) => rest.getCall(id),
    logger,
    redact: redactor.redact,
  });
  const deps: ToolDeps = {
    config,
    rest,
    control,
    listeners,
    directory,
    policy: new DialPolicy({ allowedNumbers: config.allowedNumbers, allowedCountries: config.allowedCountries }),
    limits,
    logger,
    confirmations: new ConfirmationTokens(),
  };
  const offEnded = listeners.onChange((callId) => {
    const state = listeners.get(callId)?.state();
    if (state?.ended) {
      limits.recordEnded(callId);
      directory.markStatus(callId, 'ended', state.endedReason);
    }
  });

  const run = <I extends z.ZodRawShape, O extends z.ZodRawShape>(tool: ToolDefinition<I, O>, args: z.input<z.ZodObject<I>>, context: OperationContext) => {
    if (config.readOnly && tool.changesCalls) {
      throw new ToolError({
        code: 'read-only',
        reason: 'Read-only mode (VAPI_READ_ONLY): calls can be listed and watched, not placed or changed.',
        suggestion: 'Ask the operator to unset VAPI_READ_ONLY.',
        retryable: false,
      });
    }
    const parsed = z.strictObject(tool.input).safeParse(args);
    if (!parsed.success) {
      throw new ToolError({ code: 'invalid-arguments', reason: z.prettifyError(parsed.error).replace(/\s*\n\s*/g, '; '), suggestion: 'Fix the arguments.', retryable: false });
    }
    return tool.run(deps, parsed.data, { signal: context.signal, confirm: context.confirm ?? (async () => 'unsupported') });
  };

  let closing: Promise<void> | undefined;
  return {
    config,
    placeCall: async (request, context) => run(createCallTool, request, context),
    listCalls: async (request, context) => run(listCallsTool, request, context),
    listen: async (callId, { saveAudio }, context) => run(listenCallTool, { callId, saveAudio }, context),
    readTranscript: async (callId, options, context) => run(readTranscriptTool, { callId, ...options }, context),
    stopListening: async (callId) => run(stopListeningTool, { callId }, { signal: new AbortController().signal }),
    say: async (callId, options, context) => run(injectSayTool, { callId, ...options }, context),
    endCall: async (callId, context) => run(endCallTool, { callId }, context),
    onCallChange: (fn) => listeners.onChange(fn),
    close() {
      closing ??= (async () => {
        offEnded();
        await listeners.stopAll();
      })();
      return closing;
    },
  };
}
