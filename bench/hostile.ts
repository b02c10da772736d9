/**
 * Memory of the built server (node dist/index.js over stdio) fed huge inputs by a hostile Vapi: a 30 MB REST
 * answer, 17 MiB audio frames, 30 and 90 transcript lines of 3.9 MiB, and a 1 MiB line read back at the default
 * maxChars. Each case runs in a fresh server process; RSS is sampled from /proc: before (after initialize),
 * peak (VmHWM) and retained (RSS once the case is over and the process has idled for a few seconds).
 *
 *   node bench/transpile.mjs && node bench/.build/bench/hostile.js
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { SERVER_ENTRY } from './lib/paths.js';
import { sampleProcess } from './lib/proc.js';

const CALL_ID = '3f1c9a52-7d2e-4b8a-9c61-0a5e2f7b8d14';
const API_KEY = 'bench-hostile-key-0123456789';
const MiB = 1024 * 1024;

interface Case {
  name: string;
  /** What the fake Vapi answers to GET /call/{id}. */
  call: (listenUrl: string) => string;
  /** Drives the server; `ws` is the listen connection once the server opened one. */
  run: (rpc: Rpc, nextSocket: () => Promise<WebSocket>) => Promise<void>;
  /** Stated bounds, MB. */
  peakBoundMb: number;
  retainedBoundMb: number;
}

type Rpc = (method: string, params?: Record<string, unknown>) => Promise<any>;

const liveCall = (listenUrl: string) => JSON.stringify({ id: CALL_ID, status: 'in-progress', monitor: { listenUrl } });
const send = (ws: WebSocket, data: string | Buffer) => new Promise<void>((resolve, reject) => ws.send(data, (err) => (err ? reject(err) : resolve())));
const final = (role: string, transcript: string) => JSON.stringify({ type: 'transcript', role, transcriptType: 'final', transcript });

const CASES: Case[] = [
  {
    name: 'REST answer of 30 MB (get_call ×5)',
    call: () => JSON.stringify({ id: CALL_ID, status: 'ended', summary: 'x'.repeat(30 * MiB) }),
    async run(rpc) {
      for (let i = 0; i < 5; i++) await rpc('tools/call', { name: 'get_call', arguments: { callId: CALL_ID } });
    },
    peakBoundMb: 160,
    retainedBoundMb: 140,
  },
  {
    name: 'three 17 MiB audio frames, then 10 s of audio',
    call: liveCall,
    async run(rpc, nextSocket) {
      await rpc('tools/call', { name: 'listen_call', arguments: { callId: CALL_ID } });
      const ws = await nextSocket();
      for (let i = 0; i < 3; i++) await send(ws, Buffer.alloc(17 * MiB, i + 1));
      for (let i = 0; i < 500; i++) await send(ws, Buffer.alloc(640, 7));
      await waitForAudio(rpc, 3 * 17 * MiB + 500 * 640);
      ws.close(1000);
    },
    peakBoundMb: 260,
    retainedBoundMb: 200,
  },
  linesCase(30),
  linesCase(90),
  {
    name: 'a 1 MiB line read back (read_transcript ×20, resources/read ×20)',
    call: liveCall,
    async run(rpc, nextSocket) {
      await rpc('tools/call', { name: 'listen_call', arguments: { callId: CALL_ID } });
      const ws = await nextSocket();
      await send(ws, final('user', 'z'.repeat(MiB)));
      await waitForLines(rpc, 1);
      for (let i = 0; i < 20; i++) {
        await rpc('tools/call', { name: 'read_transcript', arguments: { callId: CALL_ID } });
        await rpc('resources/read', { uri: `vapi://calls/${CALL_ID}/transcript` });
      }
      ws.close(1000);
    },
    peakBoundMb: 160,
    retainedBoundMb: 140,
  },
];

/** `count` transcript lines of 3.9 MiB each: memory must not grow with the count. */
function linesCase(count: number): Case {
  return {
    name: `${count} transcript lines of 3.9 MiB`,
    call: liveCall,
    async run(rpc, nextSocket) {
      await rpc('tools/call', { name: 'listen_call', arguments: { callId: CALL_ID } });
      const ws = await nextSocket();
      const line = final('user', 'y'.repeat(3.9 * MiB));
      for (let i = 0; i < count; i++) await send(ws, line);
      await waitForLines(rpc, count);
      ws.close(1000);
    },
    peakBoundMb: 300,
    retainedBoundMb: 250,
  };
}

async function waitForAudio(rpc: Rpc, bytes: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const result = await rpc('tools/call', { name: 'listen_call', arguments: { callId: CALL_ID } });
    if (result.structuredContent?.listening?.audioBytes >= bytes) return;
    await sleep(100);
  }
  throw new Error('audio did not arrive');
}

async function waitForLines(rpc: Rpc, count: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const result = await rpc('tools/call', { name: 'read_transcript', arguments: { callId: CALL_ID, maxChars: 200, sinceSeq: count } });
    if (result.structuredContent?.nextSeq > count) return;
    await sleep(100);
  }
  throw new Error('lines did not arrive');
}

async function runCase(c: Case): Promise<{ beforeMb: number; peakMb: number; retainedMb: number }> {
  const sockets: WebSocket[] = [];
  const socketWaiters: ((ws: WebSocket) => void)[] = [];
  const http: Server = createServer((req, res) => {
    const listenUrl = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/${CALL_ID}/listen`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(c.call(listenUrl));
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const waiter = socketWaiters.shift();
    if (waiter) waiter(ws);
    else sockets.push(ws);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const nextSocket = () => (sockets.length ? Promise.resolve(sockets.shift()!) : new Promise<WebSocket>((resolve) => socketWaiters.push(resolve)));

  const dir = mkdtempSync(join(tmpdir(), 'bench-hostile-'));
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      VAPI_API_KEY: API_KEY,
      VAPI_BASE_URL: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
      VAPI_RECORDINGS_DIR: join(dir, 'recordings'),
      VAPI_LOG_LEVEL: 'error',
      VAPI_DUPLICATE_WINDOW_SECONDS: 'off',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let buffered = '';
  let nextId = 1;
  const pending = new Map<number, (m: any) => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const message = JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      pending.get(message.id)?.(message.result ?? message.error);
      pending.delete(message.id);
    }
  });
  const rpc: Rpc = (method, params = {}) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  await rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-hostile', version: '0' } });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  await sleep(500);
  const before = sampleProcess(child.pid!);
  await c.run(rpc, nextSocket);
  await sleep(5000); // idle: the garbage collector gets its chance
  const after = sampleProcess(child.pid!);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  wss.close();
  http.closeAllConnections();
  http.close();
  rmSync(dir, { recursive: true, force: true });
  const mb = (kb: number) => Math.round(kb / 1024);
  return { beforeMb: mb(before.rssKb), peakMb: mb(after.hwmKb), retainedMb: mb(after.rssKb) };
}

const rows: string[] = ['| case | RSS before | peak RSS (bound) | retained RSS (bound) |', '|---|---|---|---|'];
let failed = false;
for (const c of CASES) {
  const r = await runCase(c);
  const ok = r.peakMb <= c.peakBoundMb && r.retainedMb <= c.retainedBoundMb;
  failed ||= !ok;
  rows.push(`| ${c.name} | ${r.beforeMb} MB | ${r.peakMb} MB (≤ ${c.peakBoundMb}) | ${r.retainedMb} MB (≤ ${c.retainedBoundMb}) |${ok ? '' : ' **over**'}`);
  process.stderr.write(`${rows.at(-1)}\n`);
}
process.stdout.write(`${rows.join('\n')}\n`);
process.exitCode = failed ? 1 : 0;
