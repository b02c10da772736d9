/**
 * Real-world listen-socket conditions, each played by the simulator, against every read path: over MCP
 * (read_transcript, read_transcripts, get_call, listen_call, stop_listening, console_updates, the transcript
 * resource) during the call and after it, and the built `watch --json`. Every result must validate against its
 * tool's outputSchema, the audio metrics must be numbers or a stated error, and the transcript lines must come back.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type ListenOptions, type Simulator } from '../src/sim/index.js';
import { DEFAULT_SCRIPT } from '../src/sim/script.js';
import { startHarness, until, VALID_NUMBER, type Harness } from './helpers/harness.js';
import { linesOf, ReadPathChecker, type Line } from './helpers/read-paths.js';
import { CLINIC_CALL_BODY } from './helpers/sim.js';
import { ENTRY } from './helpers/spawn.js';

/** Several seconds of audio held back, then sent at once: what a network stall does to the stream. */
const BURSTS = { everyMs: 9000, holdMs: 4000 };

const CONDITIONS: [string, ListenOptions][] = [
  ['the default stream (start frame, continuous, digital silence, 16 kHz stereo, 20 ms frames)', {}],
  ['no start frame', { startFrame: false }],
  ['frames only while someone speaks', { frames: 'while-speaking' }],
  ['line noise on the idle channel', { noiseFloorDbfs: -60 }],
  ['8 kHz mono', { sampleRate: 8000, channels: 1 }],
  ['odd frame sizes that split samples', { frameBytes: [1, 3, 1279, 333] }],
  ['bursts after stalls', { stalls: BURSTS }],
  ['speech-update without turn', { speechUpdateTurn: false }],
  // The two ingredients of the issue-19 call that break the metrics together: speech-update before any audio.
  ['no start frame and frames only while someone speaks', { startFrame: false, frames: 'while-speaking' }],
  [
    'the issue-19 call: 16 kHz stereo, no start frame, idle channel digital zeros, frames only while someone speaks, bursts, speech-update with turn',
    { sampleRate: 16000, channels: 2, startFrame: false, frames: 'while-speaking', stalls: BURSTS, speechUpdateTurn: true },
  ],
  [
    // Without a start frame the client must assume 16 kHz stereo: this 8 kHz mono audio is then misread, harmlessly.
    'everything at once: 8 kHz mono, no start frame, wrapped events, odd frames, line noise, frames only while someone speaks, bursts, no turn',
    {
      sampleRate: 8000,
      channels: 1,
      startFrame: false,
      wrapEvents: true,
      frameBytes: [1, 3, 1279, 333],
      noiseFloorDbfs: -60,
      frames: 'while-speaking',
      stalls: BURSTS,
      speechUpdateTurn: false,
    },
  ],
];

/** The first message plus every scripted turn: each becomes one final line. */
const SCRIPTED_LINES = 1 + DEFAULT_SCRIPT.length;

/** What the simulator says was spoken, as transcript lines. */
function spokenLines(sim: Simulator, callId: string): Line[] {
  return (sim.getCall(callId)?.messages ?? [])
    .filter((m) => m.role === 'bot' || m.role === 'user')
    .map((m) => ({ role: m.role === 'bot' ? 'assistant' : 'customer', text: m.message ?? '' }));
}

/** Follows the call through the core (not the MCP read paths under test) with event-driven waits. */
async function coreFollow(h: Harness, callId: string, done: (lines: number, ended: boolean) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let sinceSeq = 0;
  let lines = 0;
  for (;;) {
    const read = await h.server.core.readTranscript(callId, { sinceSeq, waitSeconds: 2 });
    lines += read.lines.length;
    sinceSeq = read.nextSeq;
    if (done(lines, read.ended)) return;
    if (Date.now() > deadline) throw new Error(`call ${callId}: ${lines} lines, status ${read.status} at the deadline`);
  }
}

/** Every read path once; listen_call and stop_listening where the phase allows. Returns what came back. */
async function readEverything(c: ReadPathChecker, phase: string, callId: string) {
  const transcript = await c.tool(phase, 'read_transcript', { callId, waitSeconds: 0 });
  const transcripts = await c.tool(phase, 'read_transcripts', { calls: [{ callId }] });
  const call = await c.tool(phase, 'get_call', { callId });
  const updates = await c.tool(phase, 'console_updates', { callId });
  const resource = await c.resource(phase, callId);
  const firstCall = ((transcripts.value?.calls ?? []) as Record<string, unknown>[])[0];
  return { transcript, transcripts: { ...transcripts, value: firstCall }, call, updates, resource };
}

type Reads = Awaited<ReturnType<typeof readEverything>>;

function checkLines(c: ReadPathChecker, phase: string, reads: Reads, expected: (lines: Line[]) => string | undefined): void {
  for (const read of [reads.transcript, reads.transcripts, reads.updates]) {
    if (!read.value) continue; // the failure is already recorded
    const problem = expected(linesOf(read.value));
    c.expect(problem === undefined, `${phase} ${read.path}: ${problem}`);
  }
}

describe.each(CONDITIONS)('wire condition: %s', (_label, listen) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('every MCP read path validates during and after the call, and the lines come back', async () => {
    // The calls ring long enough for the listener to connect first; the script then runs and the calls stay up.
    h = await startHarness({ sim: { speed: 40, answerMs: 40_000, hangupAfterScript: false, listen } });
    const c = await ReadPathChecker.create(h);
    const { callId } = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    // A second call only to be stopped mid-call: after stop_listening this server no longer follows a call.
    const { callId: stoppedId } = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });

    await coreFollow(h, callId, (lines) => lines >= 1);
    const early = await readEverything(c, 'during (first line)', callId);
    await c.tool('during (first line)', 'listen_call', { callId });
    checkLines(c, 'during (first line)', early, (lines) => (lines.length >= 1 ? undefined : 'no lines'));

    await coreFollow(h, callId, (lines) => lines >= SCRIPTED_LINES);
    const idle = await readEverything(c, 'during (script done)', callId);
    await c.tool('during (script done)', 'listen_call', { callId });
    checkLines(c, 'during (script done)', idle, (lines) => (lines.length >= SCRIPTED_LINES ? undefined : `${lines.length} lines`));
    const firstLine = linesOf(idle.transcript.value)[0]?.text;
    if (idle.resource.value && firstLine) c.expect(String(idle.resource.value.text).includes(firstLine), 'during resource: the first line is missing');
    await coreFollow(h, stoppedId, (lines) => lines >= 1);
    expect(h.sim.getCall(stoppedId)?.status).toBe('in-progress');
    await c.tool('during (second call)', 'stop_listening', { callId: stoppedId });
    h.sim.hangup(stoppedId);

    await h.ok('end_call', { callId });
    await coreFollow(h, callId, (_lines, ended) => ended);
    const truth = spokenLines(h.sim, callId);
    expect(truth.length).toBe(SCRIPTED_LINES);
    const after = await readEverything(c, 'after', callId);
    await c.tool('after', 'listen_call', { callId });
    await c.tool('after', 'stop_listening', { callId });
    checkLines(c, 'after', after, (lines) => (JSON.stringify(lines) === JSON.stringify(truth) ? undefined : `lines ${JSON.stringify(lines)}`));
    if (after.resource.value) {
      const text = String(after.resource.value.text);
      const missing = truth.filter((line) => !text.includes(line.text));
      c.expect(missing.length === 0, `after resource: ${missing.length} lines missing`);
    }
    expect(c.failures).toEqual([]);
  }, 60_000);
});

describe('watch --json under each wire condition', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-wire-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it.each(CONDITIONS)('%s: every stdout line parses and the line events arrive', async (_label, listen) => {
    const sim = await startSimulator({ speed: 20, seed: 19, answerMs: 20_000, hangupAfterScript: false, listen });
    try {
      const placed = (await request(`${sim.baseUrl}/call`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(CLINIC_CALL_BODY),
      }).then((res) => res.body.json())) as { id: string; monitor: { controlUrl: string } };
      const callId = placed.id;
      const child = spawn(process.execPath, [ENTRY, 'watch', callId, '--json'], {
        cwd: home,
        env: { PATH: process.env.PATH ?? '', HOME: home, VAPI_API_KEY: sim.apiKey, VAPI_BASE_URL: sim.baseUrl, VAPI_RECORDINGS_DIR: join(home, callId) },
        stdio: 'pipe',
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = once(child, 'exit').then(([code]) => code as number | null);

      // However late the watcher connects, a line spoken once it listens must reach it.
      await until(() => sim.listenerCount(callId) > 0 && sim.getCall(callId)?.status === 'in-progress', 30_000, 'the watcher to listen');
      const said = 'This line was said while the watcher listened.';
      const control = await request(placed.monitor.controlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'say', content: said }) });
      await control.body.dump();
      expect(control.statusCode).toBe(200);
      await until(() => stdout.includes(said) || undefined, 30_000, 'the said line on stdout');
      sim.hangup(callId);
      expect(await exited).toBe(0);
      expect(stderr).toBe('');

      const events = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      const truth = spokenLines(sim, callId).map((line) => line.text);
      const lines = events.filter((event) => event.type === 'line');
      expect(lines.map((event) => event.text)).toContain(said);
      for (const line of lines) expect(truth).toContain(line.text);
      const seqs = lines.map((event) => event.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(events.at(-1)).toMatchObject({ type: 'ended', status: 'ended', endedReason: 'customer-ended-call' });
    } finally {
      await sim.close();
    }
  }, 60_000);
});
