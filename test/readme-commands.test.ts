/**
 * The commands the README's first screens tell a newcomer to type, run as typed from the checkout: `npm run demo`,
 * `--help`, `--version`, `call <number> --simulate --yes --watch` and `--http --simulate` answering /healthz.
 * Only the simulator's speed is raised (`npm run demo -- --speed N`, `--sim-speed N`), so a whole call takes
 * seconds. `npm run demo` rebuilds dist/, so vitest runs this file after every other one (its own project with
 * a later groupOrder: see vitest.config.ts). Recordings go to a temporary directory.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './helpers/harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let recordings: string;
beforeAll(async () => {
  recordings = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-readme-'));
});
afterAll(async () => {
  await rm(recordings, { recursive: true, force: true });
});

/** Runs a command from the repository root, as a newcomer's shell would, with recordings kept in the temp dir. */
function start(command: string, args: string[]) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, VAPI_RECORDINGS_DIR: recordings, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

async function runToExit(command: string, args: string[]) {
  const run = start(command, args);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

const node = (...args: string[]) => runToExit(process.execPath, ['dist/index.js', ...args]);

describe('the README commands, as a newcomer types them', () => {
  it('npm run demo: connects, dry-runs, places the call, reads the transcript, steers, ends and reads it back', async () => {
    const { code, stdout, stderr } = await runToExit('npm', ['run', 'demo', '--', '--speed', '10']);
    expect(stderr, stdout).toMatch(/^console view: dist\/mcp\/app\/console\.html \(\d+ KiB\)\n$/); // the build's one line
    expect(code).toBe(0);
    const lines = stdout.split('\n');

    const connected = /^Connected to vapi-call-mcp over stdio \(simulated Vapi\)\. (\d+) tools: (.+)$/m.exec(stdout);
    expect(connected, stdout).not.toBeNull();
    const tools = connected![2].split(', ');
    expect(tools).toHaveLength(Number(connected![1]));
    expect(tools).toEqual(expect.arrayContaining(['create_call', 'read_transcript', 'inject_say', 'end_call', 'get_call']));

    expect(stdout).toMatch(/^→ create_call dryRun: every check passed; would POST http:\/\/127\.0\.0\.1:\d+\/call for \+14155552671$/m);
    const placed = /^→ create_call: call ([0-9a-f-]{36}) is \S+; listening, audio → (\S+\.wav)$/m.exec(stdout);
    expect(placed, stdout).not.toBeNull();
    expect(placed![2]).toBe(join(recordings, `${placed![1]}.wav`));

    const transcript = lines.filter((line) => /^ {2}\[ *\d+\.\ds\] (Customer |Assistant): \S/.test(line));
    expect(transcript.length).toBeGreaterThanOrEqual(3);
    const injected = 'Quick note before we go on: this call is a demonstration.';
    expect(stdout).toContain(`→ inject_say: "${injected}"`);
    expect(transcript.some((line) => line.endsWith(`Assistant: ${injected}`))).toBe(true);
    expect(stdout).toMatch(/^→ end_call: (hanging up|the call had already ended)$/m);
    expect(stdout).toMatch(/^ {2}… call ended \((assistant-ended-call|customer-ended-call)\)$/m);

    expect(stdout).toMatch(/^→ get_call: status ended, endedReason \S+, \d+(\.\d+)? s, cost \$\d/m);
    expect(stdout).toMatch(new RegExp(`^ {2}audio: ${placed![2]} \\(\\d+ bytes, \\d+(\\.\\d+)? s\\)$`, 'm'));
    expect(stdout).toMatch(
      /^ {2}voice quality \(from the audio\): response p50 \d+ ms, max \d+ ms; interruptions \d+ .*; talk \d+(\.\d+)? s customer \/ \d+(\.\d+)? s assistant; longest silence \d+ ms, dead air \d+ ms$/m,
    );
  }, 240_000);

  it('node dist/index.js --help prints the usage to stdout; --version prints the version', async () => {
    const help = await node('--help');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(new RegExp(`^vapi-call-mcp ${VERSION.replaceAll('.', '\\.')}: `));
    for (const usage of ['--simulate', '--http', 'simulator', 'demo', 'watch <callId>', 'call <number>']) {
      expect(help.stdout).toContain(usage);
    }
    expect(await node('--version')).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('node dist/index.js call <number> --simulate --yes --watch shows a whole call and exits 0', async () => {
    const { code, stdout, stderr } = await node('call', '+14155552671', '--simulate', '--sim-speed', '20', '--yes', '--watch');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Simulated call (built-in simulator, no real phone call):');
    expect(stdout.split('\n').filter((line) => /^\[\d\d:\d\d\] (Customer|Assistant): \S/.test(line)).length).toBeGreaterThanOrEqual(3);
    expect(stdout).toMatch(/^\[00:00\] Assistant: Hi, this is Riley/m);
    expect(stdout).toMatch(/^Call ended \(customer-ended-call\)/m);
    expect(stdout).toMatch(new RegExp(`^Audio: {2}${recordings}/\\S+\\.wav \\(\\d+ bytes, \\d+\\.\\d s\\)$`, 'm'));
  }, 90_000);

  it('node dist/index.js --http --simulate --port 0 answers GET /healthz and exits 0 on SIGTERM', async () => {
    const server = start(process.execPath, ['dist/index.js', '--http', '--simulate', '--port', '0']);
    try {
      const url = await until(() => /ready on (http:\/\/127\.0\.0\.1:\d+)\/mcp/.exec(server.stderr())?.[1], 30_000, 'the ready line on stderr');
      const response = await fetch(`${url}/healthz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok', version: VERSION, simulated: true, sessions: 0, liveListeners: 0 });
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
    expect(server.stdout()).toBe('');
  }, 60_000);
});
