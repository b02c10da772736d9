/**
 * Child process: the Vapi simulator on its own core, driven by the bench over IPC. It records when every
 * transcript event was handed to a listen socket, through the simulator's onEvent observer.
 */
import { DEFAULT_SCRIPT, startSimulator, type ScriptTurn } from '../../src/sim/index.js';
import { wallNow } from '../lib/clock.js';
import { serveDriver, type Emissions, type SimHostSettings, type SimReady, type SimReplyValue, type SimRequest } from '../lib/sim-protocol.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as SimHostSettings;

let emissions: Emissions = { transcripts: {}, counts: {} };
/** Most listen sockets open at once per call, as seen at each event. */
const maxListeners = new Map<string, number>();
function recordEmission(callId: string, event: Readonly<Record<string, unknown>>, listeners: number): void {
  if (listeners === 0) return;
  if (listeners > (maxListeners.get(callId) ?? 0)) maxListeners.set(callId, listeners);
  const at = wallNow();
  const type = String(event.type);
  const counts = (emissions.counts[callId] ??= {});
  counts[type] = (counts[type] ?? 0) + 1;
  if (type === 'transcript') (emissions.transcripts[callId] ??= []).push(at);
}

const script: ScriptTurn[] = [];
for (let i = 0; i < settings.scriptRepeats; i++) script.push(...DEFAULT_SCRIPT);

const sim = await startSimulator({
  speed: settings.speed,
  seed: settings.seed,
  ringMs: settings.ringMs,
  answerMs: settings.answerMs,
  script,
  hangupAfterScript: false,
  onEvent: recordEmission,
});

function handle(request: SimRequest): SimReplyValue | Promise<SimReplyValue> {
  switch (request.cmd) {
    case 'now':
      return wallNow();
    case 'bytes':
      return Object.fromEntries(request.callIds.map((id) => [id, sim.audioBytesSent(id)]));
    case 'listeners':
      return Math.max(0, ...request.callIds.map((id) => maxListeners.get(id) ?? 0));
    case 'hangup':
      for (const id of request.callIds) sim.hangup(id);
      return null;
    case 'emissions': {
      const drained = emissions;
      emissions = { transcripts: {}, counts: {} };
      return drained;
    }
    case 'open':
      throw new Error('the simulator host opens calls through REST only');
    case 'opens':
      throw new Error('the simulator host does not record listen-socket openings (the load generator does)');
    case 'close':
      return sim.close().then(() => {
        setImmediate(() => process.exit(0));
        return null;
      });
  }
}

serveDriver(handle);
process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
process.send?.({ type: 'ready', baseUrl: sim.baseUrl, apiKey: sim.apiKey } satisfies SimReady);
