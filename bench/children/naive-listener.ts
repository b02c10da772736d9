/**
 * Child process: the listen-socket pattern of Vapi's own documentation, as a baseline. Every binary frame is
 * appended with Buffer.concat (a copy of everything received so far, per 20 ms frame), events are kept in memory,
 * and the audio is written when the socket closes. The documented example also logs every frame to the console;
 * that is left out so the comparison is about the buffering alone.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { cpuMs, peakRssKb, PROGRESS_INTERVAL_MS, rssKb, type ListenerChildArgs, type ListenerMessage } from '../lib/listener-protocol.js';

const { url, callId, outDir } = JSON.parse(process.argv[2] ?? '{}') as ListenerChildArgs;
const send = (message: ListenerMessage) => process.send?.(message);

const baselineRssKb = rssKb();
const cpuStart = process.cpuUsage();
const started = performance.now();

let pcmBuffer = Buffer.alloc(0);
const events: unknown[] = [];

const ws = new WebSocket(url);
ws.on('message', (data: Buffer, isBinary: boolean) => {
  if (isBinary) {
    pcmBuffer = Buffer.concat([pcmBuffer, data]);
  } else {
    events.push(JSON.parse(data.toString()));
  }
});

const progress = setInterval(() => send({ type: 'progress', bytes: pcmBuffer.length, cpuMs: cpuMs(cpuStart), rssKb: rssKb() }), PROGRESS_INTERVAL_MS);

ws.on('close', () => {
  clearInterval(progress);
  writeFileSync(join(outDir, `${callId}.pcm`), pcmBuffer);
  writeFileSync(join(outDir, `${callId}.events.json`), JSON.stringify(events));
  send({
    type: 'done',
    bytes: pcmBuffer.length,
    bytesOnDisk: pcmBuffer.length,
    cpuMs: cpuMs(cpuStart),
    wallMs: performance.now() - started,
    baselineRssKb,
    maxRssKb: peakRssKb(),
  });
  process.disconnect?.();
});
