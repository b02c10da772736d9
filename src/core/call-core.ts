/**
 * The call core: one per process, shared by every face (MCP connections over stdio or HTTP, the live console,
 * terminal commands). It owns the Vapi clients, the listener registry, the call directory, the guardrails (dial
 * policy, limits, quiet hours, confirmation tokens, idempotency keys), the mute ledger and the redactor, and offers
 * the call operations. Each operation resolves to a plain view or rejects with a CallError (the failure envelope).
 * It imports no MCP SDK and nothing from a face.
 */
import { RecentCalls } from './duplicate-guard.js';
import { ClusterCalls } from '../cluster/calls.js';
import type { ClusterConnection } from '../cluster/connection.js';
import { sharedGuards } from '../cluster/guards.js';
import { ClusterUnavailableError } from '../cluster/store.js';
import { clusterUnavailableError } from './errors.js';
import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import { ConfirmationTokens } from '../guard/confirmation-token.js';
import { CallLimits, DialPolicy, QuietHoursGuard } from '../guard/index.js';
import type { CallAudioAnalyzer } from '../live/audio-analysis.js';
import type { ReconnectPolicy } from '../live/listener.js';
import { ListenerRegistry } from '../live/registry.js';
import { StderrLogger, type Logger } from '../log.js';
import { Redactor } from '../redact.js';
import { CallDirectory } from '../vapi/call-directory.js';
import { VapiControlClient } from '../vapi/control.js';
import { IdempotencyKeys } from '../vapi/idempotency.js';
import { VapiRestClient } from '../vapi/rest.js';
import { MuteLedger } from './mute-ledger.js';
import { DurationBackstop } from './duration-backstop.js';
import { endAllCalls, type EndAllCallsRequest, type EndAllCallsResult } from './operations/end-all.js';
import { sendControl } from './operations/vapi-calls.js';
import { addMessage, endCall, say, setMute, transfer, type AddMessageRequest, type Confirmable, type ControlResult, type SayRequest, type SetMuteRequest, type TransferRequest } from './operations/control.js';
import { getCall, type CallDetail, type GetCallRequest } from './operations/get-call.js';
import { listCalls, type CallList, type ListCallsRequest } from './operations/list-calls.js';
import { listen, type ListenRequest, type ListenResult } from './operations/listen.js';
import { liveUpdate, type LiveUpdate, type LiveUpdateRequest } from './operations/live-update.js';
import { placeCall, type PlaceCallRequest, type PlaceCallResult } from './operations/place-call.js';
import { readTranscript, type ReadTranscriptRequest, type TranscriptRead } from './operations/read-transcript.js';
import { readTranscripts, type ReadTranscriptsRequest, type TranscriptReads } from './operations/read-transcripts.js';
import { stopListening, type StopListeningResult } from './operations/stop-listening.js';
import { transcriptText } from './operations/transcript-text.js';
import type { CoreParts, OperationContext } from './parts.js';
import type { ListenerSummary } from './views/listening.js';

export interface CallCoreOptions {
  config: Config;
  /** Defaults to a stderr logger at config.logLevel that masks the keys. */
  logger?: Logger;
  /** undici dispatcher for REST and control requests (proxies, tests). */
  dispatcher?: Dispatcher;
  /** Epoch milliseconds, for the guards that judge time (quiet hours, the call-length backstop); injectable for tests. */
  now?: () => number;
  /** Timing of the backstop behind VAPI_MAX_CALL_MINUTES (defaults: 30 s grace, checked every second). */
  durationBackstop?: { graceMs?: number; checkEveryMs?: number };
  /** Timing of the look-up by idempotency key after a lost POST /call answer (defaults: 3 listings, 1 s apart). */
  placementLookup?: { attempts?: number; delayMs?: number };
  /** Retries of a failing listen connection (defaults: 5 retries from 250 ms, doubling up to 5 s). */
  listenReconnect?: Partial<ReconnectPolicy>;
  /** Builds each call's audio analyzer (tests inject one that fails, to see the metrics degrade alone). */
  createAnalyzer?: (options: { enabled: boolean }) => CallAudioAnalyzer;
  /** Cluster mode: the connection to the shared Valkey/Redis (openCluster); absent: everything stays in memory. */
  cluster?: ClusterConnection;
  /** Cluster mode: take over the calls of instances that died (default true; false for terminal commands). */
  takesOverCalls?: boolean;
}

export function createCallCore(options: CallCoreOptions): CallCore {
  return new CallCore(options);
}

/** Context for requests that nothing will cancel (a face without a request lifetime). */
const NO_CANCEL: OperationContext = { signal: new AbortController().signal };

export class CallCore {
  readonly config: Config;
  readonly logger: Logger;
  /** Masks the API keys (and any secret added later) in text leaving the process. */
  readonly redact: (text: string) => string;
  /**
   * The listener registry, for in-process users and tests that inspect a listener itself; faces use the
   * operations and the change feed.
   */
  readonly listeners: ListenerRegistry;
  private readonly parts: CoreParts;
  private readonly offEnded: () => void;
  private readonly backstop?: DurationBackstop;
  private closing?: Promise<void>;

  constructor(options: CallCoreOptions) {
    const { config } = options;
    const redactor = new Redactor();
    redactor.add(config.apiKey);
    redactor.add(config.publicKey);
    this.config = config;
    this.redact = redactor.redact;
    const logger = options.logger ?? new StderrLogger({ level: config.logLevel, redact: redactor.redact });
    this.logger = logger;

    const rest = new VapiRestClient({ baseUrl: config.baseUrl, apiKey: config.apiKey, dispatcher: options.dispatcher, logger });
    const control = new VapiControlClient({ publicKey: config.publicKey, dispatcher: options.dispatcher, logger });
    this.listeners = new ListenerRegistry({
      recordingsDir: config.recordingsDir,
      publicKey: config.publicKey,
      transcriptMaxLines: config.transcriptMaxLines,
      audioAnalysis: config.audioAnalysis,
      getCall: (id) => rest.getCall(id),
      logger,
      redact: redactor.redact,
      ...(options.listenReconnect ? { reconnect: options.listenReconnect } : {}),
      ...(options.createAnalyzer ? { createAnalyzer: options.createAnalyzer } : {}),
    });
    this.parts = {
      config,
      logger,
      rest,
      control,
      listeners: this.listeners,
      directory: new CallDirectory(),
      policy: new DialPolicy({ allowedNumbers: config.allowedNumbers, allowedCountries: config.allowedCountries }),
      limits: new CallLimits({ maxConcurrentCalls: config.maxConcurrentCalls, maxCallsPerHour: config.maxCallsPerHour }),
      ...(config.quietHours ? { quietHours: new QuietHoursGuard({ window: config.quietHours, ...(options.now ? { now: options.now } : {}) }) } : {}),
      confirmations: new ConfirmationTokens(options.now ? { now: options.now } : {}),
      idempotencyKeys: new IdempotencyKeys(),
      mutes: new MuteLedger(),
      recentCalls: new RecentCalls({
        windowMs: config.duplicateWindowSeconds === undefined ? undefined : config.duplicateWindowSeconds * 1000,
        now: options.now ?? Date.now,
      }),
      placements: { inFlight: new Map(), uncertain: new Map(), ...(options.placementLookup ? { lookup: options.placementLookup } : {}) },
      ...(options.cluster ? { cluster: options.cluster, clusterCalls: this.clusterCallsOf(options.cluster, options.takesOverCalls !== false) } : {}),
    };
    if (options.cluster) {
      // Cluster mode: the guards every instance must agree on live in the shared store.
      Object.assign(this.parts, sharedGuards(options.cluster, { config, logger, recentCalls: this.parts.recentCalls.options }));
    }
    if (config.maxCallMinutes !== undefined) {
      const parts = this.parts;
      const signal = NO_CANCEL.signal;
      this.backstop = new DurationBackstop({
        capMs: config.maxCallMinutes * 60_000,
        listeners: this.listeners,
        end: (callId) => sendControl(parts, callId, 'Ending the call', (url) => parts.control.endCall(url, { signal }), signal),
        logger,
        ...options.durationBackstop,
        ...(options.now ? { now: options.now } : {}),
      });
    }

    // A listener is how this process learns that a call ended: free its concurrency slot then.
    this.offEnded = this.listeners.onChange((callId) => {
      const state = this.listeners.get(callId)?.lifecycle();
      if (state?.ended) {
        Promise.resolve(this.parts.limits.recordEnded(callId)).catch(() => logger.warn('cluster store unreachable; an ended call frees its slot when its hold ends'));
        this.parts.directory.markStatus(callId, 'ended', state.endedReason);
      }
    });
  }

  private clusterCallsOf(connection: ClusterConnection, takesOverCalls: boolean): ClusterCalls {
    return new ClusterCalls({
      connection,
      listeners: this.listeners,
      logger: this.logger,
      leaseMs: this.config.leaseMs,
      maxLines: this.config.transcriptMaxLines,
      takesOverCalls,
    });
  }

  /** The dial policy in words (for a face's instructions or help). */
  describePolicy(): string {
    return this.parts.policy.describe();
  }

  // ---- operations ------------------------------------------------------------------------------------------

  placeCall(request: PlaceCallRequest, context: OperationContext = NO_CANCEL): Promise<PlaceCallResult> {
    return placeCall(this.parts, request, context).catch((err: unknown) => {
      throw err instanceof ClusterUnavailableError ? clusterUnavailableError('No call was placed', 'the call limits, idempotency keys and confirmation tokens') : err;
    });
  }

  /** Cluster mode: whether the shared store answers now (placing calls needs it); undefined in the in-memory default. */
  clusterStoreReachable(): boolean | undefined {
    return this.parts.cluster?.ready;
  }

  listCalls(request: ListCallsRequest = {}, context: OperationContext = NO_CANCEL): Promise<CallList> {
    return listCalls(this.parts, request, context);
  }

  getCall(callId: string, request: GetCallRequest = {}, context: OperationContext = NO_CANCEL): Promise<CallDetail> {
    return getCall(this.parts, callId, request, context);
  }

  listen(callId: string, request: ListenRequest = {}, context: OperationContext = NO_CANCEL): Promise<ListenResult> {
    return listen(this.parts, callId, request, context);
  }

  readTranscript(callId: string, request: ReadTranscriptRequest = {}, context: OperationContext = NO_CANCEL): Promise<TranscriptRead> {
    return readTranscript(this.parts, callId, request, context);
  }

  /** Several calls at once, each from its own cursor, waiting until any has news. */
  readTranscripts(request: ReadTranscriptsRequest, context: OperationContext = NO_CANCEL): Promise<TranscriptReads> {
    return readTranscripts(this.parts, request, context);
  }

  /** What changed in a call since a view's cursor, waiting briefly for news (live console, terminal watch). */
  liveUpdate(callId: string, request: LiveUpdateRequest = {}, context: OperationContext = NO_CANCEL): Promise<LiveUpdate> {
    return liveUpdate(this.parts, callId, request, context);
  }

  stopListening(callId: string): Promise<StopListeningResult> {
    return stopListening(this.parts, callId);
  }

  say(callId: string, request: SayRequest, context: OperationContext = NO_CANCEL): Promise<ControlResult> {
    return say(this.parts, callId, request, context);
  }

  addMessage(callId: string, request: AddMessageRequest, context: OperationContext = NO_CANCEL): Promise<ControlResult> {
    return addMessage(this.parts, callId, request, context);
  }

  setMute(callId: string, request: SetMuteRequest, context: OperationContext = NO_CANCEL): Promise<ControlResult> {
    return setMute(this.parts, callId, request, context);
  }

  transfer(callId: string, request: TransferRequest, context: OperationContext = NO_CANCEL): Promise<ControlResult> {
    return transfer(this.parts, callId, request, context);
  }

  endCall(callId: string, request: Confirmable = {}, context: OperationContext = NO_CANCEL): Promise<ControlResult> {
    return endCall(this.parts, callId, request, context);
  }

  /** The kill switch: ends every live call this process placed or listens to, in parallel. */
  endAllCalls(request: EndAllCallsRequest = {}, context: OperationContext = NO_CANCEL): Promise<EndAllCallsResult> {
    return endAllCalls(this.parts, request, context);
  }

  /** The transcript as text (starting listening to a live call), at most maxChars characters. */
  transcriptText(callId: string, context: OperationContext = NO_CANCEL, maxChars?: number): Promise<string> {
    return transcriptText(this.parts, callId, context, maxChars);
  }

  // ---- change feed -----------------------------------------------------------------------------------------

  /** Any visible change of a listened call (a line, a partial, status, files, a mute). Returns an unsubscribe. */
  onCallChange(fn: (callId: string) => void): () => void {
    const offListeners = this.listeners.onChange(fn);
    const offMutes = this.parts.mutes.onChange(fn);
    const offMirrors = this.parts.clusterCalls?.onChange(fn);
    return () => {
      offListeners();
      offMutes();
      offMirrors?.();
    };
  }

  /** A listener started or finished. Returns an unsubscribe. */
  onListenersChanged(fn: () => void): () => void {
    return this.listeners.onListChanged(fn);
  }

  /** Every remembered listener, live and finished, in start order. */
  liveListeners(): ListenerSummary[] {
    return this.listeners.list().map((listener) => {
      const state = listener.lifecycle();
      return { callId: state.callId, status: state.status, listening: state.listening, ended: state.ended };
    });
  }

  /** Ids of calls this process has seen or listened to, most recent first. */
  knownCallIds(): string[] {
    return [...new Set([...this.listeners.list().map((l) => l.callId), ...this.parts.directory.ids()])];
  }

  /** Stops every listener and finalises every recording. Once; later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.offEnded();
      this.backstop?.close();
      await Promise.all([this.listeners.stopAll(), this.parts.clusterCalls?.close()]);
      await this.parts.cluster?.close();
    })();
    return this.closing;
  }
}
