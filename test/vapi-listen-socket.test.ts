import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VapiError } from '../src/vapi/errors.js';
import { openListenSocket, type ListenSocket, type ListenSocketHandlers } from '../src/vapi/listen.js';
import type { AudioFormat, ListenEvent } from '../src/vapi/schemas.js';
import { frameSizes, patternBytes, startListenServer, type ScriptedListenServer } from './helpers/listen-server.js';
import { EVENTUALLY } from './helpers/wait.js';

interface Recorded {
  log: string[];
  formats: { format: AudioFormat; source: string }[];
  audio: Buffer[];
  events: ListenEvent[];
  malformed: string[];
  closes: { code: number; reason: string }[];
  closed: Promise<{ code: number; reason: string }>;
  handlers: ListenSocketHandlers;
}

function recorder(): Recorded {
  let resolveClosed!: (info: { code: number; reason: string }) => void;
  const r: Recorded = {
    log: [],
    formats: [],
    audio: [],
    events: [],
    malformed: [],
    closes: [],
    closed: new Promise((resolve) => (resolveClosed = resolve)),
    handlers: {
      onFormat(format, source) {
        r.log.push('format');
        r.formats.push({ format, source });
      },
      onAudio(chunk) {
        r.log.push('audio');
        r.audio.push(Buffer.from(chunk));
      },
      onEvent(event) {
        r.log.push(`event:${event.type}`);
        r.events.push(event);
      },
      onMalformed(reason) {
        r.log.push('malformed');
        r.malformed.push(reason);
      },
      onClose(info) {
        r.log.push('close');
        r.closes.push(info);
        resolveClosed(info);
      },
    },
  };
  return r;
}

let server: ScriptedListenServer;
const sockets: ListenSocket[] = [];

beforeEach(async () => {
  server = await startListenServer();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await server.close();
});

async function connect(r: Recorded, extra: { publicKey?: string; maxFrameBytes?: number } = {}) {
  const socket = await openListenSocket({ url: server.url(), handlers: r.handlers, ...extra });
  sockets.push(socket);
  const conn = await server.nextConnection();
  return { socket, conn };
}

describe('openListenSocket: audio', () => {
  it('delivers binary frames of any size unmodified and in order, announcing the default format first', async () => {
    const r = recorder();
    const { socket, conn } = await connect(r);
    const sizes = frameSizes(20_000, [1, 3, 1279, 2, 1280, 7]);
    let offset = 0;
    for (const size of sizes) {
      await conn.binary(patternBytes(size, offset));
      offset += size;
    }
    await vi.waitFor(() => expect(socket.bytesReceived).toBe(20_000), EVENTUALLY);
    expect(r.audio.map((c) => c.length)).toEqual(sizes);
    expect(Buffer.concat(r.audio).equals(patternBytes(20_000))).toBe(true);
    expect(r.formats).toEqual([{ format: { sampleRate: 16000, channels: 2 }, source: 'default' }]);
    expect(r.log[0]).toBe('format');
    expect(r.log.filter((x) => x === 'format')).toHaveLength(1);
  });

  it('takes the format from a start frame sent before the audio (8 kHz mono) and still delivers it as an event', async () => {
    const r = recorder();
    const { socket, conn } = await connect(r);
    await conn.json({ type: 'start', encoding: 'linear16', container: 'raw', sampleRate: 8000, channels: 1 });
    await conn.binary(patternBytes(3));
    await vi.waitFor(() => expect(socket.bytesReceived).toBe(3), EVENTUALLY);
    expect(r.formats).toEqual([{ format: { sampleRate: 8000, channels: 1 }, source: 'start-frame' }]);
    expect(r.log).toEqual(['format', 'event:start', 'audio']);
  });

  it('lets other events precede the start frame', async () => {
    const r = recorder();
    const { socket, conn } = await connect(r);
    await conn.json({ type: 'status-update', status: 'in-progress' });
    await conn.json({ type: 'start', encoding: 'linear16', sampleRate: 24000, channels: 2 });
    await conn.binary(patternBytes(4));
    await vi.waitFor(() => expect(socket.bytesReceived).toBe(4), EVENTUALLY);
    expect(r.formats[0]).toEqual({ format: { sampleRate: 24000, channels: 2 }, source: 'start-frame' });
  });

  it('ignores a start frame after audio began, and a second start frame, reporting both as malformed', async () => {
    const r = recorder();
    const { socket, conn } = await connect(r);
    await conn.json({ type: 'start', encoding: 'linear16', sampleRate: 8000, channels: 1 });
    await conn.json({ type: 'start', encoding: 'linear16', sampleRate: 48000, channels: 2 });
    await conn.binary(patternBytes(2));
    await conn.json({ type: 'start', encoding: 'linear16', sampleRate: 16000, channels: 2 });
    await conn.json({ type: 'marker' });
    await vi.waitFor(() => expect(r.events.at(-1)?.type).toBe('marker'), EVENTUALLY);
    expect(socket.bytesReceived).toBe(2);
    expect(r.formats).toHaveLength(1);
    expect(r.formats[0].format).toEqual({ sampleRate: 8000, channels: 1 });
    expect(r.malformed).toHaveLength(2);
    expect(r.malformed[0]).toMatch(/second start frame/);
    expect(r.malformed[1]).toMatch(/after audio/);
  });

  it('falls back to the default format when the start frame is unusable', async () => {
    const r = recorder();
    const { socket, conn } = await connect(r);
    await conn.json({ type: 'start', encoding: 'mulaw', sampleRate: 8000, channels: 1 });
    await conn.binary(patternBytes(4));
    await vi.waitFor(() => expect(socket.bytesReceived).toBe(4), EVENTUALLY);
    expect(r.malformed[0]).toMatch(/unsupported encoding "mulaw"/);
    expect(r.formats).toEqual([{ format: { sampleRate: 16000, channels: 2 }, source: 'default' }]);
  });
});

describe('openListenSocket: events', () => {
  it('unwraps {message:{type}} events, passes bare ones and unknown types through, and survives garbage', async () => {
    const r = recorder();
    const { conn } = await connect(r);
    await conn.json({ message: { type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'hi' } });
    await conn.json({ type: 'speech-update', status: 'started', role: 'assistant' });
    await conn.json({ type: 'some-future-event', x: 1 });
    await conn.text('{not json');
    await conn.text('[1,2]');
    await conn.text('"just a string"');
    await conn.json({ message: 'wrapped but not an object' });
    await conn.json({ noType: true });
    await conn.json({ type: 'hang' });
    await vi.waitFor(() => expect(r.events.at(-1)?.type).toBe('hang'), EVENTUALLY);
    expect(r.events.map((e) => e.type)).toEqual(['transcript', 'speech-update', 'some-future-event', 'hang']);
    expect(r.events[0]).toEqual({ type: 'transcript', role: 'user', transcriptType: 'final', transcript: 'hi' });
    expect(r.malformed).toEqual([
      'text frame is not valid JSON',
      'text frame is JSON but not an object',
      'text frame is JSON but not an object',
      'JSON object without a string "type"',
      'JSON object without a string "type"',
    ]);
    expect(r.formats).toHaveLength(0);
  });

  it('drops text frames above maxFrameBytes without closing the connection', async () => {
    const r = recorder();
    const { conn } = await connect(r, { maxFrameBytes: 100 });
    await conn.json({ type: 'big', pad: 'x'.repeat(200) });
    await conn.json({ type: 'small' });
    await vi.waitFor(() => expect(r.events.map((e) => e.type)).toEqual(['small']), EVENTUALLY);
    expect(r.malformed[0]).toMatch(/exceeds the 100-byte limit/);
    expect(r.closes).toHaveLength(0);
  });

  it('delivers binary frames larger than maxFrameBytes whole (audio is never dropped)', async () => {
    const r = recorder();
    const { socket, conn } = await connect(r, { maxFrameBytes: 100 });
    await conn.binary(patternBytes(5000));
    await vi.waitFor(() => expect(socket.bytesReceived).toBe(5000), EVENTUALLY);
    expect(r.malformed).toEqual([]);
  });
});

describe('openListenSocket: connection lifecycle', () => {
  it('sends the bearer header only when a public key is configured', async () => {
    const r1 = recorder();
    await connect(r1);
    const r2 = recorder();
    await connect(r2, { publicKey: 'pub-key-123456' });
    expect(server.upgradeHeaders[0].authorization).toBeUndefined();
    expect(server.upgradeHeaders[1].authorization).toBe('Bearer pub-key-123456');
    expect(server.upgradeHeaders[1]['sec-websocket-extensions']).toBeUndefined();
  });

  it('rejects with an http VapiError carrying the status when the handshake is refused', async () => {
    server.rejectNext({ status: 404, body: JSON.stringify({ message: 'Call not found', statusCode: 404 }) });
    const r = recorder();
    const error = await openListenSocket({ url: server.url(), handlers: r.handlers }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VapiError);
    expect(error).toMatchObject({ kind: 'http', status: 404, vapiMessage: 'Call not found' });
    expect(String((error as Error).message)).not.toContain('127.0.0.1');
    expect(r.closes).toHaveLength(0);
  });

  it('rejects with kind network when nothing listens, without the URL in the message', async () => {
    const port = server.port;
    await server.close();
    const error = await openListenSocket({ url: `ws://127.0.0.1:${port}/x/listen`, handlers: recorder().handlers }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'network' });
    expect(JSON.stringify({ m: (error as Error).message, c: String((error as Error).cause) })).not.toContain('/listen');
    server = await startListenServer();
  });

  it('rejects with kind timeout when the handshake never completes', async () => {
    const silent: TcpServer = createTcpServer((s: Socket) => s.on('error', () => {}));
    const held: Socket[] = [];
    silent.on('connection', (s) => held.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const error = await openListenSocket({ url: `ws://127.0.0.1:${port}/x/listen`, handlers: recorder().handlers, connectTimeoutMs: 100 }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ kind: 'timeout' });
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('reports an abrupt drop (1006) and a normal server close (1000) once each', async () => {
    const r1 = recorder();
    const a = await connect(r1);
    a.conn.terminate();
    expect((await r1.closed).code).toBe(1006);

    const r2 = recorder();
    const b = await connect(r2);
    b.conn.close(1000);
    expect((await r2.closed).code).toBe(1000);
    expect(r1.closes).toHaveLength(1);
    expect(r2.closes).toHaveLength(1);
  });

  it('cuts a connection that went silent and stopped answering pings, and keeps one that answers', async () => {
    // A peer that never pongs stands in for a half-open connection.
    const mute = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false });
    await once(mute, 'listening');
    try {
      const r = recorder();
      const started = Date.now();
      sockets.push(await openListenSocket({ url: `ws://127.0.0.1:${(mute.address() as AddressInfo).port}/x/listen`, handlers: r.handlers, idleTimeoutMs: 300 }));
      expect((await r.closed).code).toBe(1006);
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    } finally {
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }

    // The scripted server answers pings: a quiet but healthy connection survives several timeouts.
    const alive = recorder();
    const socket = await openListenSocket({ url: server.url(), handlers: alive.handlers, idleTimeoutMs: 200 });
    sockets.push(socket);
    const conn = await server.nextConnection();
    let pings = 0;
    conn.ws.on('ping', () => pings++);
    await new Promise<void>((resolve) => {
      conn.ws.on('ping', () => pings >= 4 && resolve());
    });
    expect(alive.closes).toHaveLength(0);
  });

  it('close() closes with 1000 and still reports onClose exactly once', async () => {
    const r = recorder();
    const { socket, conn } = await connect(r);
    socket.close();
    socket.close();
    expect((await conn.closed).code).toBe(1000);
    await r.closed;
    expect(r.closes).toHaveLength(1);
  });
});
