/**
 * Child process: the least work that saves the same bytes. Every binary frame is appended to a file as it
 * arrives and every text frame to another, unparsed: no JSON, no transcript, no WAV header, no analysis. Our
 * listener's CPU is reported as a multiple of this one's. With `calls` (the capacity section's least-work ramp)
 * one process listens to many calls, one socket and two files per call, connecting over `staggerMs`.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { cpuMs, peakRssKb, PROGRESS_INTERVAL_MS, rssKb, type ListenerChildArgs, type ListenerMessage, type ManyListenerChildArgs, type ManyListenerMessage } from '../lib/listener-protocol.js';

// `@file`: the arguments are in that file (many calls' URLs do not fit in one command-line argument).
const argument = process.argv[2] ?? '{}';
const args = JSON.parse(argument.startsWith('@') ? readFileSync(argument.slice(1), 'utf8') : argument) as ListenerChildArgs | ManyListenerChildArgs;

/** Saves one call's stream; resolves with its audio bytes once the socket closed and both files are written. */
function listen(url: string, callId: string, outDir: string, onOpen?: () => void): { bytes: () => number; done: Promise<{ bytes: number; bytesOnDisk: number }> } {
  const audio = createWriteStream(join(outDir, `${callId}.pcm`));
  const events = createWriteStream(join(outDir, `${callId}.events`));
  let bytes = 0;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  if (onOpen) ws.once('open', onOpen);
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      bytes += data.length;
      audio.write(data);
    } else {
      events.write(data);
    }
  });
  ws.on('error', () => {});
  const done = new Promise<{ bytes: number; bytesOnDisk: number }>((resolve) => {
    ws.on('close', () => {
      let open = 2;
      const closed = () => {
        if (--open === 0) resolve({ bytes, bytesOnDisk: audio.bytesWritten });
      };
      audio.end(closed);
      events.end(closed);
    });
  });
  return { bytes: () => bytes, done };
}

if ('calls' in args) {
  const sendMany = (message: ManyListenerMessage) => process.send?.(message);
  const { calls, outDir, staggerMs } = args;
  let opened = 0;
  const listeners = await Promise.all(
    calls.map(async (call, i) => {
      await new Promise((resolve) => setTimeout(resolve, (staggerMs * i) / calls.length));
      return listen(call.url, call.callId, outDir, () => {
        if (++opened === calls.length) sendMany({ type: 'open' });
      });
    }),
  );
  const results = await Promise.all(listeners.map((l) => l.done));
  sendMany({ type: 'closed', bytes: Object.fromEntries(calls.map((call, i) => [call.callId, results[i].bytesOnDisk])) });
  process.disconnect?.();
} else {
  const { url, callId, outDir } = args;
  const send = (message: ListenerMessage) => process.send?.(message);
  const baselineRssKb = rssKb();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const listener = listen(url, callId, outDir);
  const progress = setInterval(() => send({ type: 'progress', bytes: listener.bytes(), cpuMs: cpuMs(cpuStart), rssKb: rssKb() }), PROGRESS_INTERVAL_MS);
  const { bytes, bytesOnDisk } = await listener.done;
  clearInterval(progress);
  send({ type: 'done', bytes, bytesOnDisk, cpuMs: cpuMs(cpuStart), wallMs: performance.now() - started, baselineRssKb, maxRssKb: peakRssKb() });
  process.disconnect?.();
}
