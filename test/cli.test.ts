/**
 * The terminal commands, spawned from the built entry (dist/index.js) against the standalone simulator, as a
 * person or a script runs them: stdout not a TTY, stdin a pipe.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { until } from './helpers/harness.js';
import { ENTRY } from './helpers/spawn.js';
import { readWav } from './helpers/wav.js';

const API_KEY = 'cli-test-key-0123456789';
const NUMBER = '+14155552671';

let home: string;
let sim: Simulator;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-cli-'));
  // Calls placed here stay up after their script until a test ends them: however slowly the commands start on a
  // busy machine, the call they act on is still live.
  sim = await startSimulator({ apiKey: API_KEY, speed: 5, seed: 11, answerMs: 15_000, hangupAfterScript: false });
});
afterAll(async () => {
  await sim?.close();
  await rm(home, { recursive: true, force: true });
});

interface Cli {
  stdoutLines: string[];
  stdout(): string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  exit(): Promise<number | null>;
}

let dirs = 0;
function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: home,
    VAPI_API_KEY: API_KEY,
    VAPI_BASE_URL: sim.baseUrl,
    VAPI_ASSISTANT_ID: 'assistant-cli',
    VAPI_PHONE_NUMBER_ID: 'phone-cli',
    VAPI_RECORDINGS_DIR: join(home, `recordings-${++dirs}`),
    ...overrides,
  };
}

function cli(args: string[], environment = env()): Cli {
  const child = spawn(process.execPath, [ENTRY, ...args], { cwd: home, env: { PATH: process.env.PATH ?? '', ...environment }, stdio: 'pipe' });
  const stdoutLines: string[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    stdoutLines.push(...lines);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { stdoutLines, stdout: () => stdout, stderr: () => stderr, kill: (signal) => child.kill(signal), exit: () => exited };
}

async function run(args: string[], environment = env()) {
  const child = cli(args, environment);
  const code = await child.exit();
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

const callRequests = () => sim.requests.filter((r) => r.method === 'POST' && r.path === '/call').length;

/** Places a call the way a script does (`call --yes`) and returns its id. */
async function placeCall(): Promise<string> {
  const placed = await run(['call', NUMBER, '--yes']);
  expect(placed.stderr).toBe('');
  expect(placed.code).toBe(0);
  const id = /Placed call ([0-9a-f-]{36}) to \+14155552671/.exec(placed.stdout)?.[1];
  expect(id).toBeDefined();
  return id!;
}

/** The final lines the simulator spoke, from the ended call's artifact. */
function spokenLines(simulator: Simulator, callId: string): { role: string; text: string }[] {
  const messages = (simulator.getCall(callId)?.artifact?.messages ?? []) as { role: string; message?: string }[];
  return messages
    .filter((m) => m.role === 'bot' || m.role === 'user')
    .map((m) => ({ role: m.role === 'bot' ? 'assistant' : 'customer', text: m.message ?? '' }));
}

describe('watch', () => {
  it('prints every line in order and exits 0 at the end; --json gives one parseable event per line covering every final line', async () => {
    // A call that rings for 12 s (wall time): even on a slow machine both watchers listen before the first word.
    const ringing = await startSimulator({ apiKey: API_KEY, speed: 10, seed: 12, answerMs: 120_000 });
    const at = (extra: Record<string, string> = {}) => env({ VAPI_BASE_URL: ringing.baseUrl, ...extra });
    let callId: string;
    let plain: Cli;
    let json: Cli;
    let truth: { role: string; text: string }[];
    try {
      const placed = await run(['call', NUMBER, '--yes'], at());
      callId = /Placed call ([0-9a-f-]{36})/.exec(placed.stdout)![1];
      plain = cli(['watch', callId], at());
      json = cli(['watch', callId, '--json', '--partials'], at());
      await Promise.all([plain.exit(), json.exit()]);
      truth = spokenLines(ringing, callId);
    } finally {
      await ringing.close();
    }
    expect(await plain.exit()).toBe(0);
    expect(await json.exit()).toBe(0);
    expect(plain.stderr()).toBe('');
    expect(json.stderr()).toBe('');
    expect(truth.length).toBeGreaterThanOrEqual(5);

    // Plain text when stdout is not a terminal: appended lines, no escape codes, no partials.
    expect(plain.stdout()).not.toContain('\x1b');
    const printed = plain.stdoutLines
      .map((line) => /^\[\d\d:\d\d\] (Assistant|Customer): (.*)$/.exec(line))
      .filter((m) => m !== null)
      .map((m) => ({ role: m[1].toLowerCase(), text: m[2] }));
    expect(printed).toEqual(truth);
    expect(plain.stdoutLines.filter((l) => /^Call ended \(customer-ended-call\) after \d\d:\d\d of audio\.$/.test(l))).toHaveLength(1);
    const audioPath = plain.stdoutLines.map((l) => /^Audio: {2}(\S+\.wav) \(\d+ bytes, [\d.]+ s\)$/.exec(l)?.[1]).find(Boolean);
    expect(existsSync(audioPath!)).toBe(true);

    const events = json.stdoutLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const event of events) {
      expect(event.callId).toBe(callId);
      expect(typeof event.at).toBe('string');
    }
    const lines = events.filter((e) => e.type === 'line');
    expect(lines.map((e) => ({ role: e.role, text: e.text }))).toEqual(truth);
    expect(lines.map((e) => e.seq)).toEqual(truth.map((_, i) => i + 1));
    expect(events.some((e) => e.type === 'partial')).toBe(true);
    const statuses = events.filter((e) => e.type === 'status').map((e) => e.status);
    expect(statuses).toContain('in-progress');
    expect(statuses.at(-1)).toBe('ended');
    const ended = events.at(-1)!;
    expect(ended).toMatchObject({ type: 'ended', status: 'ended', endedReason: 'customer-ended-call' });
    expect(readWav(ended.audioPath as string).dataSize).toBe(ended.audioBytes);
    expect(existsSync(ended.transcriptPath as string)).toBe(true);
  }, 60_000);

  it('Ctrl-C mid-call stops cleanly: files final, where they are printed, the WAV data equal to the bytes received', async () => {
    const callId = await placeCall();
    const watch = cli(['watch', callId, '--json']);
    await until(() => (watch.stdoutLines.some((l) => l.includes('"type":"line"')) ? true : undefined), 30_000, 'a first line');
    watch.kill('SIGINT');
    expect(await watch.exit()).toBe(130);
    expect(watch.stderr()).toBe('');
    const last = JSON.parse(watch.stdoutLines.at(-1)!) as { type: string; status: string; audioPath: string; audioBytes: number; transcriptPath: string };
    expect(last).toMatchObject({ type: 'stopped', status: 'in-progress' });
    const wav = readWav(last.audioPath);
    expect(wav.dataIsLast).toBe(true);
    expect(wav.dataSize).toBe(last.audioBytes);
    expect(wav.dataSize).toBeGreaterThan(0);
    expect(wav.dataSize).toBeLessThanOrEqual(sim.audioBytesSent(callId));
    expect(existsSync(last.transcriptPath)).toBe(true);
    expect(sim.getCall(callId)?.status).toBe('in-progress'); // watching stopped; the call went on
    sim.hangup(callId);
  }, 60_000);

  it('an unknown call id and a bad key each give one line on stderr and a non-zero exit', async () => {
    const unknown = await run(['watch', '01a23407-1f0d-7bea-b205-eac17e950f40']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^vapi-call-mcp watch: Call 01a23407-1f0d-7bea-b205-eac17e950f40 was not found \(HTTP 404\)[^\n]*vapi-call-mcp calls\.\n$/);

    const badKey = await run(['calls'], env({ VAPI_API_KEY: 'wrong-key-0123456789' }));
    expect(badKey.code).toBe(1);
    expect(badKey.stdout).toBe('');
    expect(badKey.stderr).toMatch(/^vapi-call-mcp calls: Listing calls: Vapi rejected the credentials \(HTTP 401\)[^\n]*\n$/);
    expect(badKey.stderr).not.toContain('wrong-key-0123456789');

    const noKey = await run(['calls'], env({ VAPI_API_KEY: '' }));
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/^vapi-call-mcp calls: No Vapi API key[^\n]*\n$/);
  });
});

describe('call', () => {
  it('refuses without a terminal and without --yes, and places nothing', async () => {
    const before = callRequests();
    const refused = await run(['call', NUMBER]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('Number:        +14155552671 (US)'); // the preview of what was not placed
    expect(refused.stderr).toBe('vapi-call-mcp call: Not placing the call: there is no terminal to confirm it at. Pass --yes to place it without asking.\n');
    expect(callRequests()).toBe(before);
  });

  it('refuses an emergency number, even with --yes, and places nothing', async () => {
    const before = callRequests();
    for (const number of ['911', '+1911', '112']) {
      const refused = await run(['call', number, '--yes']);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/^vapi-call-mcp call: "[+0-9]+" is an emergency number[^\n]*\n$/);
    }
    expect(callRequests()).toBe(before);
  });

  it('read-only mode (VAPI_READ_ONLY) refuses call, say and end, and places nothing', async () => {
    const before = callRequests();
    const controls = sim.controlLog.length;
    for (const args of [['call', NUMBER, '--yes'], ['say', '01a23407-1f0d-7bea-b205-eac17e950f40', 'hello'], ['end', '01a23407-1f0d-7bea-b205-eac17e950f40', '--yes']]) {
      const refused = await run(args, env({ VAPI_READ_ONLY: '1' }));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(`vapi-call-mcp ${args[0]}: Read-only mode (VAPI_READ_ONLY): calls can be listed and watched here, not placed or changed.\n`);
    }
    expect(callRequests()).toBe(before);
    expect(sim.controlLog.length).toBe(controls);
  });
});

describe('calls, say, end', () => {
  it('lists the call, says words in it and hangs it up', async () => {
    const callId = await placeCall();
    const table = await run(['calls', '--limit', '5']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +STATUS +NUMBER +CREATED \(UTC\) +DURATION +ENDED REASON$/);
    expect(table.stdout).toMatch(new RegExp(`^${callId} +(queued|ringing|in-progress) +\\+14155552671 `, 'm'));
    const listed = JSON.parse((await run(['calls', '--json', '--status', 'ended'])).stdout) as { calls: { id: string; status: string }[] };
    expect(listed.calls.every((c) => c.status === 'ended')).toBe(true);
    expect(listed.calls.map((c) => c.id)).not.toContain(callId);

    const said = await run(['say', callId, 'Please hold the line.']);
    expect(said).toMatchObject({ code: 0, stderr: '', stdout: `Said in call ${callId}.\n` });
    expect(sim.controlLog.some((c) => c.callId === callId && (c.body as { content?: string }).content === 'Please hold the line.')).toBe(true);

    const ended = await run(['end', callId]);
    expect(ended).toMatchObject({ code: 0, stderr: '', stdout: `Ending call ${callId}.\n` });
    await until(() => (sim.getCall(callId)?.status === 'ended' ? true : undefined));
    expect(sim.getCall(callId)?.endedReason).toBe('assistant-ended-call');

    const again = await run(['end', callId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^vapi-call-mcp end: Call [0-9a-f-]+ has ended[^\n]*\n$/);
  }, 60_000);

  it('end --all ends every live call placed through vapi-call-mcp, asks first, and leaves calls placed otherwise alone', async () => {
    const ours = [await placeCall(), await placeCall()];
    const response = await fetch(`${sim.baseUrl}/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assistantId: 'someone-else', phoneNumberId: 'phone-cli', customer: { number: NUMBER } }),
    });
    const foreign = ((await response.json()) as { id: string }).id;

    const endCalls = () => sim.controlLog.filter((c) => (c.body as { type?: string }).type === 'end-call').length;
    const before = endCalls();
    const refused = await run(['end', '--all']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('vapi-call-mcp end: --all needs a terminal to ask, or --yes; nothing ended.\n');
    expect(endCalls()).toBe(before);

    const swept = await run(['end', '--all', '--yes', '--reason', 'operator stop']);
    expect(swept.stderr).not.toMatch(/vapi-call-mcp end:/); // the core's warning that it ends every call may be there
    expect(swept.code).toBe(0);
    for (const id of ours) expect(swept.stdout).toContain(`${id}  ended`);
    expect(swept.stdout).not.toContain(foreign);
    for (const id of ours) await until(() => (sim.getCall(id)?.status === 'ended' ? true : undefined));
    const endedByTheSweep = sim.controlLog.filter((c) => (c.body as { type?: string }).type === 'end-call').map((c) => c.callId);
    expect(endedByTheSweep).toEqual(expect.arrayContaining(ours)); // other tests' calls placed through the CLI may be swept too
    expect(endedByTheSweep).not.toContain(foreign);
    expect(sim.getCall(foreign)?.status).not.toBe('ended');
  }, 60_000);

  it('--help goes to stdout for every command; a wrong command line gives one line and exit 2', async () => {
    for (const command of ['watch', 'calls', 'call', 'say', 'end']) {
      const help = await run([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stderr).toBe('');
      expect(help.stdout).toMatch(new RegExp(`^Usage: vapi-call-mcp ${command}`));
    }
    const missing = await run(['say', '01a23407-1f0d-7bea-b205-eac17e950f40']);
    expect(missing).toMatchObject({ code: 2, stdout: '', stderr: 'vapi-call-mcp say: missing <text>. Run vapi-call-mcp say --help for usage.\n' });
    const limit = await run(['calls', '--limit', 'lots']);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toMatch(/^vapi-call-mcp calls: --limit must be a whole number from 1 to 1000[^\n]*\n$/);
  });
});

/** util-linux `script` gives the command a pseudo-terminal: how a person at a terminal runs it. */
const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** Runs a command in a 100-column pseudo-terminal, typing `answer` when the y/N question shows. */
async function inTerminal(args: string[], answer: string, extraEnv: Record<string, string> = {}) {
  const command = `stty cols 100 rows 30; exec '${process.execPath}' '${ENTRY}' ${args.map((a) => `'${a}'`).join(' ')}`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color', ...env(), ...extraEnv },
    stdio: 'pipe',
  });
  let output = '';
  let answered = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (!answered && output.includes('[y/N]')) {
      answered = true;
      child.stdin.write(`${answer}\n`);
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** What the screen ends up showing, line by line: escape codes gone, each row as its last redraw left it. */
function screenLines(output: string): string[] {
  return output
    .replace(ANSI, '')
    .split('\n')
    .map((row) => row.replace(/\r$/, '').split('\r').at(-1)!);
}

describe.skipIf(!HAS_SCRIPT)('at a terminal', () => {
  it('call asks for y, then the watch colours speakers and redraws partials and the status line in place', async () => {
    // A call the customer hangs up, answered 3 s (wall) after it is placed: time for the watch to start first.
    const ending = await startSimulator({ apiKey: API_KEY, speed: 5, seed: 11, answerMs: 15_000 });
    let run: Awaited<ReturnType<typeof inTerminal>>;
    let spoken: ReturnType<typeof spokenLines>;
    try {
      run = await inTerminal(['call', NUMBER, '--watch'], 'y', { VAPI_BASE_URL: ending.baseUrl });
      spoken = spokenLines(ending, /Placed call ([0-9a-f-]{36})/.exec(run.output)?.[1] ?? '');
    } finally {
      await ending.close();
    }
    const { code, output } = run;
    expect(code).toBe(0);
    expect(output).toContain('\x1b[36m'); // the assistant's colour
    expect(output).toContain('\x1b[33m'); // the customer's
    expect(output).toContain('\x1b[1A\x1b[J'); // the live region redrawn in place
    const screen = screenLines(output);
    const drawn = output.replace(ANSI, '').split(/[\r\n]+/); // every row as drawn, redraws included
    expect(drawn.some((l) => /^● in-progress {2}\d\d:\d\d {2}(assistant|customer) talking$/.test(l))).toBe(true);
    expect(drawn.some((l) => /^ {8}(Assistant|Customer): .+…$/.test(l))).toBe(true); // a partial
    const printed = screen
      .map((l) => /^\[\d\d:\d\d\] (Assistant|Customer): (.*)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => ({ role: m[1].toLowerCase(), text: m[2] }));
    expect(spoken.length).toBeGreaterThanOrEqual(5);
    expect(printed).toEqual(spoken);
    expect(screen.some((l) => l.startsWith('Call ended (customer-ended-call)'))).toBe(true);
  }, 60_000);

  it('NO_COLOR turns colours off; anything but y places nothing', async () => {
    const before = callRequests();
    const { code, output } = await inTerminal(['call', NUMBER], 'n', { NO_COLOR: '1' });
    expect(code).toBe(1);
    expect(output).toContain('Not placed: the call was not confirmed.');
    expect(output).not.toMatch(/\x1b\[(1|2|3\d)m/);
    expect(callRequests()).toBe(before);
  }, 60_000);
});
