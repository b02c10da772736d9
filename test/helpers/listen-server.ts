/**
 * A scriptable listen-socket server for tests: a real `ws` server on 127.0.0.1:0 where each test decides frame
 * by frame what a connection sends, and can reject handshakes or cut connections abruptly.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface ServerConnection {
  ws: WebSocket;
  headers: IncomingHttpHeaders;
  path: string;
  /** Sends a text frame with JSON.stringify(value). */
  json(value: unknown): Promise<void>;
  text(value: string): Promise<void>;
  binary(chunk: Buffer): Promise<void>;
  /** Resolves once the client closed or the connection dropped. */
  closed: Promise<{ code: number }>;
  /** Cuts the TCP connection without a close frame. */
  terminate(): void;
  close(code?: number): void;
}

export interface Rejection {
  status: number;
  body?: string;
}

export interface ScriptedListenServer {
  readonly port: number;
  url(callId?: string): string;
  /** Resolves with the next connection accepted (connections already waiting are handed out first). */
  nextConnection(): Promise<ServerConnection>;
  /** Rejects the next `count` handshakes with this status. */
  rejectNext(rejection: Rejection, count?: number): void;
  readonly connectionCount: number;
  readonly upgradeHeaders: IncomingHttpHeaders[];
  close(): Promise<void>;
}

export const SAMPLE_CALL_ID = '3f1c9a52-7d2e-4b8a-9c61-0a5e2f7b8d14';

export async function startListenServer(): Promise<ScriptedListenServer> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const http: Server = createServer((_req, res) => {
    res.writeHead(426).end();
  });
  const sockets = new Set<Socket>();
  http.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const waiting: ServerConnection[] = [];
  const waiters: ((c: ServerConnection) => void)[] = [];
  const rejections: Rejection[] = [];
  const upgradeHeaders: IncomingHttpHeaders[] = [];
  let connectionCount = 0;

  http.on('upgrade', (req, socket, head) => {
    upgradeHeaders.push(req.headers);
    const rejection = rejections.shift();
    if (rejection) {
      const body = rejection.body ?? '';
      socket.end(
        `HTTP/1.1 ${rejection.status} Rejected\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      connectionCount++;
      const conn = wrap(ws, req.headers, req.url ?? '');
      const waiter = waiters.shift();
      if (waiter) waiter(conn);
      else waiting.push(conn);
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  return {
    port,
    url: (callId = SAMPLE_CALL_ID) => `ws://127.0.0.1:${port}/${callId}/listen`,
    nextConnection() {
      const ready = waiting.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => waiters.push(resolve));
    },
    rejectNext(rejection, count = 1) {
      for (let i = 0; i < count; i++) rejections.push(rejection);
    },
    get connectionCount() {
      return connectionCount;
    },
    upgradeHeaders,
    async close() {
      for (const client of wss.clients) client.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function wrap(ws: WebSocket, headers: IncomingHttpHeaders, path: string): ServerConnection {
  const closed = new Promise<{ code: number }>((resolve) => ws.on('close', (code) => resolve({ code })));
  const send = (data: string | Buffer, binary: boolean): Promise<void> =>
    new Promise((resolve, reject) => ws.send(data, { binary }, (err) => (err ? reject(err) : resolve())));
  return {
    ws,
    headers,
    path,
    json: (value) => send(JSON.stringify(value), false),
    text: (value) => send(value, false),
    binary: (chunk) => send(chunk, true),
    closed,
    terminate: () => ws.terminate(),
    close: (code = 1000) => ws.close(code),
  };
}

/** Deterministic PCM-looking bytes: byte i of the stream is a function of (offset + i). */
export function patternBytes(length: number, offset = 0): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = ((offset + i) * 31 + 7) & 0xff;
  return out;
}

/** Splits `total` bytes into frames cycling through `sizes`. */
export function frameSizes(total: number, sizes: number[]): number[] {
  const out: number[] = [];
  let left = total;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(left, sizes[i % sizes.length]);
    out.push(size);
    left -= size;
  }
  return out;
}

/** Heap in use after a full garbage collection (gc is exposed at run time, no command-line flag needed). */
export function settledHeapBytes(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
