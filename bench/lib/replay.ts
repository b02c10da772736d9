/**
 * One call's listen stream, captured once from the simulator and replayed byte for byte to each listener under
 * comparison, paced at `speed` × real time, and never faster than the listener reads it (the sender waits for the
 * socket to drain). Replaying the same capture makes "the same stream" literal; pacing by the reader keeps a slow
 * listener from losing data.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { DEFAULT_SCRIPT, startSimulator, type ScriptTurn } from '../../src/sim/index.js';
import { TEST_NUMBER } from './server-process.js';

export interface CapturedStream {
  callId: string;
  messages: { data: Buffer; binary: boolean }[];
  audioBytes: number;
  events: number;
  /** The simulator's answers to POST /call and, once the call ended, GET /call/{id}: the REST wire, as stated by it. */
  rest: { created: Record<string, unknown>; ended: Record<string, unknown> };
}

/** Frames sent before waiting for the socket to take them: bounds what the sender holds. */
const SEND_WINDOW = 64;
/** 16 kHz × 2 channels × 2 bytes. */
const AUDIO_BYTES_PER_MS = 64;

/** Streams a simulated call of `minutes` (it ends at exactly that length) and keeps every frame. */
export async function captureCall(minutes: number, seed: number): Promise<CapturedStream> {
  const script: ScriptTurn[] = [];
  for (let i = 0; i < Math.ceil(minutes) + 2; i++) script.push(...DEFAULT_SCRIPT);
  // The call rings only once the capture is connected, so it hears the call from the start however busy the machine.
  const sim = await startSimulator({ speed: 600, seed, ringMs: 1000, answerMs: 0, waitForListener: true, script, hangupAfterScript: false });
  try {
    const response = await request(`${sim.baseUrl}/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        assistantId: 'bench-assistant',
        phoneNumberId: 'bench-phone-number',
        customer: { number: TEST_NUMBER },
        assistantOverrides: { maxDurationSeconds: Math.round(minutes * 60) },
      }),
    });
    const created = (await response.body.json()) as Record<string, unknown>;
    const call = created as { id: string; monitor: { listenUrl: string } };
    const ws = new WebSocket(call.monitor.listenUrl);
    const messages: CapturedStream['messages'] = [];
    let audioBytes = 0;
    ws.on('message', (data: Buffer, binary: boolean) => {
      messages.push({ data, binary });
      if (binary) audioBytes += data.length;
    });
    await once(ws, 'close');
    if (audioBytes !== sim.audioBytesSent(call.id)) throw new Error('the capture missed audio');
    const fetched = await request(`${sim.baseUrl}/call/${call.id}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
    const ended = (await fetched.body.json()) as Record<string, unknown>;
    return { callId: call.id, messages, audioBytes, events: messages.filter((m) => !m.binary).length, rest: { created, ended } };
  } finally {
    await sim.close();
  }
}

export interface Replay {
  /** ws:// URL of the call's listen socket. */
  url: string;
  /** Resolves once every frame has been handed to the socket. */
  sent: Promise<void>;
  /** Closes the listener's socket normally (1000), as Vapi does when a call ends. */
  end(): void;
  close(): Promise<void>;
}

/** Serves `stream` once, at `speed` × real time at most, to the first listener that connects to /<callId>/listen. */
export async function startReplay(stream: CapturedStream, speed: number): Promise<Replay> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: `/${stream.callId}/listen` });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  let client: WebSocket | undefined;
  const sent = new Promise<void>((resolve, reject) => {
    wss.once('connection', (ws) => {
      client = ws;
      void (async () => {
        const startedAt = performance.now();
        let audioMs = 0;
        for (let i = 0; i < stream.messages.length; i++) {
          if (ws.readyState !== WebSocket.OPEN) return reject(new Error('the listener went away during the replay'));
          const { data, binary } = stream.messages[i];
          if (binary) {
            const early = startedAt + audioMs / speed - performance.now();
            if (early >= 1) await new Promise((resolve) => setTimeout(resolve, early));
            audioMs += data.length / AUDIO_BYTES_PER_MS;
          }
          if (i % SEND_WINDOW === SEND_WINDOW - 1) {
            await new Promise<void>((done) => ws.send(data, { binary }, () => done()));
          } else {
            ws.send(data, { binary });
          }
        }
        resolve();
      })();
    });
  });
  sent.catch(() => {});
  return {
    url: `ws://127.0.0.1:${port}/${stream.callId}/listen`,
    sent,
    end: () => client?.close(1000, 'call ended'),
    close: async () => {
      client?.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
