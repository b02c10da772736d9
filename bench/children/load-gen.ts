/**
 * Child process: the capacity section's load generator, built never to be the limit. It speaks the Vapi wire the
 * server under test expects (REST POST /call and GET /call/{id}, with answers templated from the simulator's own;
 * one listen WebSocket per call carrying 20 ms stereo frames and JSON events) but does almost no work per call:
 * one captured simulator call (bench/lib/call-stream.ts) is replayed to every call, audio frames encoded once and
 * shared, events with the call's own timestamps; one timer tick for all calls; each socket written once per tick
 * (everything that fell due, as one buffer: one system call). It answers the driver over the same IPC protocol as
 * the simulator host (bench/lib/sim-protocol.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { wallNow } from '../lib/clock.js';
import { compileStream, renderEvent, type CompiledStream, type EventTemplate } from '../lib/call-stream.js';
import { captureCall } from '../lib/replay.js';
import { serveDriver, type Emissions, type LoadGenSettings, type SimReady, type SimReplyValue, type SimRequest } from '../lib/sim-protocol.js';
import { ClientFrameReader, closeFrame, handshakeResponse } from '../lib/ws-frames.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as LoadGenSettings;
const API_KEY = 'bench-load-generator-key';
const CLOSE_GRACE_MS = 2_000;

const captured = await captureCall(settings.captureMinutes, settings.seed);
const stream: CompiledStream = compileStream(captured);
const { created: createdTemplate, ended: endedTemplate } = captured.rest;

interface GenCall {
  id: string;
  createdAt: string;
  live: boolean;
  socket?: Socket;
  /** performance.now() when the listen socket opened: the call's audio starts there. */
  startedAt: number;
  answeredEpochMs: number;
  next: number;
  loopOffsetMs: number;
  audioBytes: number;
  maxListeners: number;
  /** wallNow() of every listen socket's opening (a failover shows as a second one). */
  opens: number[];
}

const calls = new Map<string, GenCall>();
/** Calls whose listen socket is open, in the order they opened: what the tick walks. */
const streaming = new Set<GenCall>();
let emissions: Emissions = { transcripts: {}, counts: {} };
let baseUrl = '';

const server = createServer((req, res) => void onRequest(req, res));
server.on('upgrade', onUpgrade);
server.on('clientError', (_error, socket) => socket.destroy());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// ---- REST -------------------------------------------------------------------------------------------------------

async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const path = new URL(req.url ?? '/', baseUrl).pathname;
  if (req.method === 'POST' && path === '/call') {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    return reply(res, 201, wireCall(createCall(), body));
  }
  const get = /^\/call\/([^/]+)$/.exec(path);
  const call = get ? calls.get(decodeURIComponent(get[1])) : undefined;
  if (req.method === 'GET' && call) return reply(res, 200, wireCall(call));
  if (req.method === 'POST' && /^\/[^/]+\/control$/.test(path)) return reply(res, 200, { ok: true });
  reply(res, 404, { message: 'Call not found', error: 'Not Found', statusCode: 404 });
}

function createCall(): GenCall {
  const call: GenCall = {
    id: randomUUID(),
    createdAt: new Date().toISOString(),
    live: true,
    startedAt: 0,
    answeredEpochMs: 0,
    next: 0,
    loopOffsetMs: 0,
    audioBytes: 0,
    maxListeners: 0,
    opens: [],
  };
  calls.set(call.id, call);
  return call;
}

function wireCall(call: GenCall, body: Record<string, unknown> = {}): Record<string, unknown> {
  const wsBase = baseUrl.replace('http://', 'ws://');
  const state = call.live ? { ...createdTemplate, status: call.socket ? 'in-progress' : 'queued' } : endedTemplate;
  return {
    ...state,
    ...(body.customer ? { customer: body.customer } : {}),
    id: call.id,
    createdAt: call.createdAt,
    updatedAt: new Date().toISOString(),
    monitor: { listenUrl: `${wsBase}/${call.id}/listen`, controlUrl: `${baseUrl}/${call.id}/control` },
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// ---- listen sockets ---------------------------------------------------------------------------------------------

function onUpgrade(req: IncomingMessage, socket: Socket): void {
  socket.on('error', () => socket.destroy());
  const match = /^\/([^/]+)\/listen$/.exec(new URL(req.url ?? '/', baseUrl).pathname);
  const call = match ? calls.get(decodeURIComponent(match[1])) : undefined;
  const key = req.headers['sec-websocket-key'];
  if (!call || !call.live || typeof key !== 'string') {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  socket.setNoDelay(true);
  socket.write(handshakeResponse(key));
  const reader = new ClientFrameReader(
    (frame) => socket.write(frame),
    () => endSocket(call, socket),
  );
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('close', () => {
    if (call.socket === socket) {
      call.socket = undefined;
      streaming.delete(call);
    }
  });
  if (call.socket) {
    // A reconnection: the new socket goes on from where the call is.
    call.socket.destroy();
  } else {
    call.startedAt = performance.now();
    call.answeredEpochMs = Date.now();
  }
  call.socket = socket;
  call.opens.push(wallNow());
  call.maxListeners = Math.max(call.maxListeners, 1);
  streaming.add(call);
  pump(call, performance.now());
}

function endSocket(call: GenCall, socket: Socket): void {
  if (!socket.destroyed && socket.writable) {
    socket.end(closeFrame(1000));
  }
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  if (call.socket === socket) {
    call.socket = undefined;
    streaming.delete(call);
  }
}

// ---- pacing -----------------------------------------------------------------------------------------------------

/** Writes everything due for `call` by `now` as one buffer: one write, one system call per socket per tick. */
function pump(call: GenCall, now: number): void {
  const socket = call.socket;
  if (!socket) return;
  const elapsed = now - call.startedAt;
  const { items, loopFrom, loopEnd, loopMs } = stream;
  if (items[call.next].dueMs + call.loopOffsetMs > elapsed) return;
  const due: Buffer[] = [];
  while (items[call.next].dueMs + call.loopOffsetMs <= elapsed) {
    const item = items[call.next];
    if (item.frame) {
      due.push(item.frame);
      call.audioBytes += item.audioBytes;
    } else if (item.event) {
      due.push(eventFrame(call, item.event));
    }
    if (++call.next === loopEnd) {
      call.next = loopFrom;
      call.loopOffsetMs += loopMs;
    }
  }
  socket.write(due.length === 1 ? due[0] : Buffer.concat(due));
}

/** The event as a frame with this call's times, counted (and stamped, for transcripts) as emitted. */
function eventFrame(call: GenCall, event: EventTemplate, answeredEpochMs = call.answeredEpochMs + call.loopOffsetMs): Buffer {
  const counts = (emissions.counts[call.id] ??= {});
  counts[event.type] = (counts[event.type] ?? 0) + 1;
  if (event.type === 'transcript') (emissions.transcripts[call.id] ??= []).push(wallNow());
  return renderEvent(event, answeredEpochMs);
}

let nextTickAt = performance.now();
function tick(): void {
  const now = performance.now();
  for (const call of streaming) pump(call, now);
  nextTickAt += settings.tickMs;
  // A late tick catches up by sending more per socket; it never skips audio.
  setTimeout(tick, Math.max(0, nextTickAt - performance.now()));
}
tick();

function hangup(call: GenCall): void {
  if (!call.live) return;
  const socket = call.socket;
  if (socket) {
    pump(call, performance.now());
    // The call ends now: its closing events carry this moment's time.
    const answeredEpochMs = Date.now() - stream.tailEndMs;
    socket.write(Buffer.concat(stream.tail.map((event) => eventFrame(call, event, answeredEpochMs))));
    endSocket(call, socket);
  }
  call.live = false;
}

// ---- the driver -------------------------------------------------------------------------------------------------

function handle(request: SimRequest): SimReplyValue | Promise<SimReplyValue> {
  switch (request.cmd) {
    case 'now':
      return wallNow();
    case 'bytes':
      return Object.fromEntries(request.callIds.map((id) => [id, calls.get(id)?.audioBytes ?? 0]));
    case 'opens':
      return Object.fromEntries(request.callIds.map((id) => [id, calls.get(id)?.opens ?? []]));
    case 'listeners':
      return Math.max(0, ...request.callIds.map((id) => calls.get(id)?.maxListeners ?? 0));
    case 'hangup':
      for (const id of request.callIds) {
        const call = calls.get(id);
        if (call) hangup(call);
      }
      return null;
    case 'open': {
      const wsBase = baseUrl.replace('http://', 'ws://');
      return Array.from({ length: request.count }, () => {
        const call = createCall();
        return { callId: call.id, url: `${wsBase}/${call.id}/listen` };
      });
    }
    case 'emissions': {
      const drained = emissions;
      emissions = { transcripts: {}, counts: {} };
      return drained;
    }
    case 'close':
      for (const call of calls.values()) call.socket?.destroy();
      server.closeAllConnections();
      server.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

serveDriver(handle);
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
process.send?.({ type: 'ready', baseUrl, apiKey: API_KEY } satisfies SimReady);
