/**
 * Child process: the least work that saves the same bytes. Every binary frame is appended to a file as it
 * arrives and every text frame to another, unparsed: no JSON, no transcript, no WAV header, no analysis. Our
 * listener's CPU is reported as a multiple of this one's.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { cpuMs, peakRssKb, PROGRESS_INTERVAL_MS, rssKb, type ListenerChildArgs, type ListenerMessage } from '../lib/listener-protocol.js';

const { url, callId, outDir } = JSON.parse(process.argv[2] ?? '{}') as ListenerChildArgs;
const send = (message: ListenerMessage) => process.send?.(message);

const baselineRssKb = rssKb();
const cpuStart = process.cpuUsage();
const started = performance.now();

const audio = createWriteStream(join(outDir, `${callId}.pcm`));
const events = createWriteStream(join(outDir, `${callId}.events`));
let bytes = 0;

const ws = new WebSocket(url);
ws.on('message', (data: Buffer, isBinary: boolean) => {
  if (isBinary) {
    bytes += data.length;
    audio.write(data);
  } else {
    events.write(data);
  }
});

const progress = setInterval(() => send({ type: 'progress', bytes, cpuMs: cpuMs(cpuStart), rssKb: rssKb() }), PROGRESS_INTERVAL_MS);

ws.on('close', () => {
  clearInterval(progress);
  let open = 2;
  const closed = () => {
    if (--open > 0) return;
    send({
      type: 'done',
      bytes,
      bytesOnDisk: audio.bytesWritten,
      cpuMs: cpuMs(cpuStart),
      wallMs: performance.now() - started,
      baselineRssKb,
      maxRssKb: peakRssKb(),
    });
    process.disconnect?.();
  };
  audio.end(closed);
  events.end(closed);
});
