/**
 * Child process: this project's CallListener (src/live) on the same stream as the naive baseline: audio streamed
 * to a WAV file, every event to JSONL, the rolling transcript in memory.
 */
import { stat } from 'node:fs/promises';
import { CallListener } from '../../src/live/listener.js';
import { silentLogger } from '../../src/log.js';
import type { Call } from '../../src/vapi/schemas.js';
import { cpuMs, peakRssKb, PROGRESS_INTERVAL_MS, rssKb, type ListenerChildArgs, type ListenerMessage } from '../lib/listener-protocol.js';

const { url, callId, outDir, audioAnalysis } = JSON.parse(process.argv[2] ?? '{}') as ListenerChildArgs;
const send = (message: ListenerMessage) => process.send?.(message);

const baselineRssKb = rssKb();
const cpuStart = process.cpuUsage();
const started = performance.now();

const listener = new CallListener({
  callId,
  listenUrl: url,
  recordingsDir: outDir,
  saveAudio: true,
  // Only asked after an unexpected close; the replayed stream always ends normally.
  getCall: async () => ({ id: callId, status: 'ended' }) as Call,
  logger: silentLogger,
  audioAnalysis: audioAnalysis !== false,
});

const progress = setInterval(() => send({ type: 'progress', bytes: listener.state().audioBytes, cpuMs: cpuMs(cpuStart), rssKb: rssKb() }), PROGRESS_INTERVAL_MS);

await listener.whenEnded();
clearInterval(progress);
const state = listener.state();
const fileBytes = state.audioPath ? (await stat(state.audioPath)).size - 44 : 0;
send({
  type: 'done',
  bytes: state.audioBytes,
  bytesOnDisk: fileBytes,
  cpuMs: cpuMs(cpuStart),
  wallMs: performance.now() - started,
  baselineRssKb,
  maxRssKb: peakRssKb(),
});
process.disconnect?.();
