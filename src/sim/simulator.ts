/** Wires the simulator together: one node:http server for REST, control URLs and listen WebSocket upgrades. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isUuid, type WireCall } from './wire.js';
import { ToneSource } from './audio.js';
import { SimCall, type CallEnvironment } from './call.js';
import { Scheduler, SimClock } from './clock.js';
import { parseControl } from './control.js';
import { HttpError, INVALID_KEY_MESSAGE, faultBody, nestError, notFound, routeNotFound, unauthorized } from './errors.js';
import { FaultQueues } from './faults.js';
import { bearerToken, queryOf, readBody, sendJson } from './http.js';
import { rejectUpgrade } from './listen.js';
import { SeededRandom } from './random.js';
import { routeRest, type CallStore } from './rest.js';
import { resolveSettings, type Settings } from './settings.js';
import {
  type MalformedKind,
  type RecordedControl,
  type RecordedRequest,
  type RestFaultStatus,
  type SpeechInterval,
  type Simulator,
  type SimulatorFaults,
  type SimulatorOptions,
} from './types.js';
import type { CallSpec } from './validate.js';

const CONTROL_PATH = /^\/([^/]+)\/control\/?$/;
const LISTEN_PATH = /^\/([^/]+)\/listen\/?$/;
/** How long close() waits for listeners to answer the 1001 close frame before cutting them. */
const CLOSE_GRACE_MS = 250;
const GIANT_FRAME_BYTES = 1024 * 1024;

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const simulator = new VapiSimulator(resolveSettings(options));
  await simulator.listen();
  return simulator;
}

class VapiSimulator implements Simulator, CallStore {
  readonly requests: RecordedRequest[] = [];
  readonly controlLog: RecordedControl[] = [];
  readonly faults: SimulatorFaults;
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 64 * 1024 });
  private readonly clock: SimClock;
  private readonly scheduler: Scheduler;
  private readonly ids: SeededRandom;
  private readonly orgId: string;
  private readonly calls = new Map<string, SimCall>();
  private readonly audioBytes = new Map<string, number>();
  private readonly sockets = new Set<WebSocket>();
  private readonly pendingDelays = new Map<NodeJS.Timeout, () => void>();
  private readonly faultQueues = new FaultQueues();
  private readonly tone: ToneSource;
  private env: CallEnvironment | undefined;
  private callCount = 0;
  private lastCreatedEpochMs = 0;
  private closing: Promise<void> | undefined;
  private boundPort = 0;

  constructor(private readonly settings: Settings) {
    this.clock = new SimClock(settings.speed);
    this.scheduler = new Scheduler(
      this.clock,
      {
        afterAdvance: () => {
          for (const call of this.calls.values()) call.pumpAudio();
        },
        hasOtherWork: () => [...this.calls.values()].some((call) => call.listenerCount > 0),
      },
      settings.logger,
    );
    this.ids = new SeededRandom(settings.seed);
    this.orgId = this.ids.uuid();
    this.tone = new ToneSource(settings.stream.format, settings.noiseFloorDbfs);
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        settings.logger.error('simulator request failed', { error });
        sendJson(res, 500, faultBody(500));
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (_error, socket) => socket.destroy());
    this.faults = this.buildFaults();
  }

  get apiKey(): string {
    return this.settings.apiKey;
  }

  get publicKey(): string {
    return this.settings.publicKey;
  }

  get port(): number {
    return this.boundPort;
  }

  get baseUrl(): string {
    return `http://${this.hostForUrl()}:${this.boundPort}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.settings.port, this.settings.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    const { settings } = this;
    this.env = {
      scheduler: this.scheduler,
      clock: this.clock,
      logger: settings.logger,
      tone: this.tone,
      stream: settings.stream,
      httpBase: this.baseUrl,
      wsBase: `ws://${this.hostForUrl()}:${this.boundPort}`,
      ringMs: settings.ringMs,
      answerMs: settings.answerMs,
      waitForListener: settings.waitForListener,
      hangupAfterScript: settings.hangupAfterScript,
      script: settings.script,
      usesDefaultScript: settings.usesDefaultScript,
      countAudioBytes: (callId, bytes) => this.audioBytes.set(callId, (this.audioBytes.get(callId) ?? 0) + bytes),
      onEvent: settings.onEvent,
    };
    settings.logger.info('Vapi simulator listening', { baseUrl: this.baseUrl, speed: settings.speed, seed: settings.seed });
  }

  // ---- Simulator --------------------------------------------------------------------------------------------

  getCall(id: string): WireCall | undefined {
    this.scheduler.sync();
    return this.calls.get(id)?.snapshot();
  }

  speechIntervals(callId: string): SpeechInterval[] {
    this.scheduler.sync();
    return this.calls.get(callId)?.speechIntervals() ?? [];
  }

  listenerCount(callId: string): number {
    return this.calls.get(callId)?.listenerCount ?? 0;
  }

  audioBytesSent(callId: string): number {
    return this.audioBytes.get(callId) ?? 0;
  }

  hangup(callId: string, endedReason = 'customer-ended-call'): void {
    this.scheduler.sync();
    this.calls.get(callId)?.end(endedReason);
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // ---- CallStore --------------------------------------------------------------------------------------------

  create(spec: CallSpec): SimCall {
    if (!this.env) throw new Error('simulator is not listening');
    const createdAtEpochMs = Math.max(this.clock.epochMs(this.scheduler.now), this.lastCreatedEpochMs + 1);
    this.lastCreatedEpochMs = createdAtEpochMs;
    const identity = { id: this.ids.uuidV7(createdAtEpochMs), orgId: this.orgId, providerCallId: `CA${this.ids.hex(32)}`, createdAtEpochMs };
    const call = new SimCall(this.env, identity, spec, SeededRandom.derive(this.settings.seed, this.callCount++));
    this.calls.set(call.id, call);
    call.begin();
    this.settings.logger.info('simulated call created', { callId: call.id, status: call.status });
    return call;
  }

  get(id: string): SimCall | undefined {
    return this.calls.get(id);
  }

  all(): SimCall[] {
    // Insertion order is creation order and createdAt strictly increases, so reversing gives newest first.
    return [...this.calls.values()].reverse();
  }

  remove(id: string): void {
    this.calls.delete(id);
  }

  // ---- HTTP -------------------------------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const control = CONTROL_PATH.exec(url.pathname);
    if (control) return this.onControl(req, res, url, decodeURIComponent(control[1]));
    return this.onRest(req, res, url);
  }

  private async onRest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const query = queryOf(url);
    const body = await readBody(req);
    this.requests.push({ method, path: url.pathname, query, body: body.value, authorization: req.headers.authorization, at: Date.now() });
    if (this.closing) return;
    this.scheduler.sync();
    const fault = this.faultQueues.takeRest();
    let status: number;
    let payload: unknown;
    let headers: Record<string, string> = {};
    if (fault.fail) {
      status = fault.fail.status;
      payload = faultBody(status);
      if (status === 429 && fault.fail.retryAfterSeconds !== undefined) {
        headers = { 'Retry-After': String(fault.fail.retryAfterSeconds) };
      }
    } else {
      try {
        if (bearerToken(req) !== this.settings.apiKey) throw unauthorized();
        if (body.error) throw body.error;
        ({ status, body: payload } = routeRest({ method, path: url.pathname, query, body: body.value }, this, this.settings.strict));
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        ({ status, body: payload, headers } = error);
      }
    }
    if (fault.delayMs) await this.wallDelay(fault.delayMs);
    if (method === 'POST' && status === 201 && this.faultQueues.takeCreateDrop()) {
      // The call exists and goes on; the client never learns its id from this answer.
      this.settings.logger.info('simulator dropped the answer to POST /call', { path: url.pathname });
      return void res.socket?.destroy();
    }
    sendJson(res, status, payload, headers);
  }

  private async onControl(req: IncomingMessage, res: ServerResponse, url: URL, callId: string): Promise<void> {
    const body = await readBody(req);
    this.controlLog.push({ callId, body: body.value, authorization: req.headers.authorization, at: Date.now() });
    if (this.closing) return;
    this.scheduler.sync();
    try {
      if (req.method !== 'POST') throw routeNotFound(req.method ?? 'GET', url.pathname);
      const call = isUuid(callId) ? this.calls.get(callId) : undefined;
      if (!call || !call.controlEnabled) throw notFound('Call not found');
      if (!call.isLive) throw notFound('Call has already ended');
      if (call.controlNeedsAuth && bearerToken(req) !== this.settings.publicKey) throw unauthorized();
      if (body.error) throw body.error;
      call.applyControl(parseControl(body.value));
      sendJson(res, 200, { ok: true });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      sendJson(res, error.status, error.body, error.headers);
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.closing) return void socket.destroy();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const injected = this.faultQueues.takeListenRejection();
    if (injected !== undefined) return rejectUpgrade(socket, injected);
    const match = LISTEN_PATH.exec(url.pathname);
    if (!match) return rejectUpgrade(socket, 404, nestError(404, `Cannot GET ${url.pathname}`));
    this.scheduler.sync();
    const callId = decodeURIComponent(match[1]);
    const call = isUuid(callId) ? this.calls.get(callId) : undefined;
    if (!call || !call.listenEnabled) return rejectUpgrade(socket, 404, nestError(404, 'Call not found'));
    if (!call.isLive) return rejectUpgrade(socket, 404, nestError(404, 'Call has already ended'));
    if (call.listenNeedsAuth && bearerToken(req) !== this.settings.publicKey) {
      return rejectUpgrade(socket, 401, nestError(401, INVALID_KEY_MESSAGE));
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      if (this.closing) return ws.close(1001, 'simulator shutting down');
      this.scheduler.sync();
      if (!call.isLive) return ws.close(1000, 'call ended');
      call.addListener(ws);
      this.scheduler.ensureTicking();
    });
  }

  // ---- faults -----------------------------------------------------------------------------------------------

  private buildFaults(): SimulatorFaults {
    const queues = this.faultQueues;
    return {
      failNext: (count: number, status: RestFaultStatus, options?: { retryAfterSeconds?: number }) =>
        queues.failNext(count, status, options?.retryAfterSeconds),
      delayNext: (count: number, ms: number) => queues.delayNext(count, ms),
      rejectListenUpgrades: (count: number, status = 500) => queues.rejectListenUpgrades(count, status),
      dropAfterCreate: (count: number) => queues.dropAfterCreate(count),
      dropListen: (callId: string) => {
        this.scheduler.sync();
        this.calls.get(callId)?.dropListeners();
      },
      sendMalformed: (callId: string, kind: MalformedKind) => {
        this.scheduler.sync();
        this.calls.get(callId)?.forEachListener((listener) => {
          switch (kind) {
            case 'bad-json':
              return listener.sendText('{not json');
            case 'truncated-binary':
              return listener.sendBinary(Buffer.alloc(3));
            case 'giant-frame':
              return listener.sendBinary(Buffer.alloc(GIANT_FRAME_BYTES));
            case 'unknown-event':
              return listener.sendEvent({ type: 'weird-future-event', x: 1 });
          }
        });
      },
    };
  }

  // ---- lifecycle --------------------------------------------------------------------------------------------

  private wallDelay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingDelays.delete(timer);
        resolve();
      }, ms);
      this.pendingDelays.set(timer, resolve);
    });
  }

  private async shutDown(): Promise<void> {
    this.scheduler.close();
    for (const call of this.calls.values()) call.closeListeners(1001, 'simulator shutting down');
    await this.waitForSockets(CLOSE_GRACE_MS);
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    for (const [timer, resolve] of this.pendingDelays) {
      clearTimeout(timer);
      resolve();
    }
    this.pendingDelays.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.wss.close();
    this.settings.logger.info('Vapi simulator stopped', { baseUrl: this.baseUrl });
  }

  private async waitForSockets(graceMs: number): Promise<void> {
    if (this.sockets.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, graceMs);
      const poll = setInterval(() => {
        if (this.sockets.size === 0) finish();
      }, 5);
      function finish() {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    });
  }

  private hostForUrl(): string {
    return this.settings.host.includes(':') ? `[${this.settings.host}]` : this.settings.host;
  }
}
