/**
 * Child process: the cheapest possible receiver, to prove the load generator on its own. It opens one listen
 * socket per call with a bare TCP connection (the WebSocket upgrade written by hand), reads and discards every
 * byte, and parses nothing. Whatever the generator's CPU is at N calls against this sink is the generator's own
 * cost, not a slow listener's back-pressure.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { ManyListenerChildArgs, ManyListenerMessage } from '../lib/listener-protocol.js';

const argument = process.argv[2] ?? '{}';
const args = JSON.parse(argument.startsWith('@') ? readFileSync(argument.slice(1), 'utf8') : argument) as ManyListenerChildArgs;
const send = (message: ManyListenerMessage) => process.send?.(message);

const bytes: Record<string, number> = {};
let opened = 0;
let closed = 0;

function drain(callId: string, url: string): void {
  const { hostname, port, pathname } = new URL(url);
  bytes[callId] = 0;
  const socket: Socket = connect({ host: hostname, port: Number(port) }, () => {
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    if (++opened === args.calls.length) send({ type: 'open' });
  });
  socket.on('data', (chunk: Buffer) => {
    bytes[callId] += chunk.length;
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    if (++closed === args.calls.length) {
      send({ type: 'closed', bytes });
      process.disconnect?.();
    }
  });
}

args.calls.forEach((call, i) => setTimeout(() => drain(call.callId, call.url), (args.staggerMs * i) / args.calls.length));
