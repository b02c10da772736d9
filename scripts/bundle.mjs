#!/usr/bin/env node
/**
 * Builds the MCP Bundle (vapi-call-mcp-<version>.mcpb) that installs the server in Claude Desktop with one click.
 *
 * From the built server (dist/, run `npm run build` first): stages dist/, package.json, README, LICENSE and the icon
 * with the production dependencies copied from node_modules (offline: no install), writes manifest.json (its
 * tools list taken from the server's real tools/list), validates it and packs it with @anthropic-ai/mcpb.
 *
 *   npm run bundle                      writes ./vapi-call-mcp-<version>.mcpb
 *   node scripts/bundle.mjs --out DIR   writes it into DIR
 *   npm run bundle -- --server-json     also writes its SHA-256 into server.json (the release step: the registry
 *                                       checks the hash of the file attached to the GitHub release)
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { packExtension, validateManifest } from '@anthropic-ai/mcpb';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** The packed bundle may not exceed this (tested): the server and its production dependencies, zipped. */
export const BUNDLE_BUDGET_BYTES = 12 * 1024 * 1024;

function say(line) {
  process.stderr.write(`bundle: ${line}\n`);
}

/** What the user sets in Claude Desktop's settings for the bundle; each maps to a VAPI_* variable. */
const USER_CONFIG = {
  vapi_api_key: {
    type: 'string',
    title: 'Vapi private API key',
    description: 'Your private key from the Vapi dashboard (API Keys). Stored by Claude Desktop, passed only to this server, never shown to the model.',
    sensitive: true,
    required: true,
  },
  assistant_id: {
    type: 'string',
    title: 'Assistant id',
    description: 'The Vapi assistant that runs calls unless the request names another.',
    required: false,
  },
  phone_number_id: {
    type: 'string',
    title: 'Phone number id',
    description: 'The Vapi phone number calls are placed from.',
    required: false,
  },
  allowed_numbers: {
    type: 'string',
    title: 'Allowed numbers',
    description: 'Comma list of E.164 numbers or prefixes (+14155552671, +1555*) that may be called. Empty: any number (emergency, short-code and premium numbers are always refused).',
    required: false,
  },
  allowed_countries: {
    type: 'string',
    title: 'Allowed countries',
    description: 'Comma list of country codes (US,GB) that may be called. Empty: any country.',
    required: false,
  },
  recordings_dir: {
    type: 'directory',
    title: 'Recordings folder',
    description: 'Where each listened call is saved (WAV audio and a JSONL event log).',
    default: '${HOME}/.vapi-call-mcp/recordings',
    required: false,
  },
  confirm_calls: {
    type: 'boolean',
    title: 'Confirm every call',
    description: 'Ask you before each call is placed, hung up or transferred.',
    default: true,
    required: false,
  },
  simulate: {
    type: 'boolean',
    title: 'Try it with the built-in simulator',
    description: 'Use the built-in Vapi simulator: no real calls, no Vapi account needed (any key is accepted).',
    default: false,
    required: false,
  },
};

export const ENV = {
  VAPI_API_KEY: '${user_config.vapi_api_key}',
  VAPI_ASSISTANT_ID: '${user_config.assistant_id}',
  VAPI_PHONE_NUMBER_ID: '${user_config.phone_number_id}',
  VAPI_ALLOWED_NUMBERS: '${user_config.allowed_numbers}',
  VAPI_ALLOWED_COUNTRIES: '${user_config.allowed_countries}',
  VAPI_RECORDINGS_DIR: '${user_config.recordings_dir}',
  VAPI_CONFIRM_CALLS: '${user_config.confirm_calls}',
  VAPI_SIMULATE: '${user_config.simulate}',
};

/** The server's own tools/list, from the built server started in simulated mode. */
async function listTools(recordingsDir) {
  const client = new Client({ name: 'vapi-call-mcp-bundle', version: pkg.version });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(root, 'dist/index.js'), '--simulate'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? recordingsDir, VAPI_RECORDINGS_DIR: recordingsDir, VAPI_LOG_LEVEL: 'error' },
    stderr: 'ignore',
  });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    // The console's app-only tool is hidden from the model by hosts that show MCP Apps: not listed here either.
    return tools
      .filter((tool) => !isAppOnly(tool))
      .map((tool) => ({ name: tool.name, description: firstLine(tool.description ?? tool.title ?? tool.name) }));
  } finally {
    await client.close();
  }
}

function isAppOnly(tool) {
  const visibility = tool._meta?.ui?.visibility;
  return Array.isArray(visibility) && visibility.length > 0 && visibility.every((v) => v === 'app');
}

function firstLine(text) {
  const line = text.split('\n')[0].trim();
  return line.length <= 200 ? line : `${line.slice(0, 197)}…`;
}

function manifest(tools) {
  return {
    manifest_version: '0.3',
    name: pkg.name,
    display_name: 'Vapi phone calls',
    version: pkg.version,
    description: 'Place, listen to and steer live Vapi phone calls from Claude.',
    long_description:
      'Gives Claude a phone through Vapi: place a call, follow its transcript live (audio and events saved to disk), steer it ' +
      'while it happens (say, whisper, mute, transfer, hang up). Safe by default: emergency, short-code and premium numbers are ' +
      'always refused, allow-lists, rate and concurrency limits, a cap on call length, duplicate-call protection and confirmation ' +
      'before calls. Turn on the built-in simulator to try it without a Vapi account.',
    author: { name: 'vapi-call-mcp contributors' },
    ...(pkg.repository ? { repository: { type: 'git', url: typeof pkg.repository === 'string' ? pkg.repository : pkg.repository.url } } : {}),
    license: pkg.license,
    keywords: pkg.keywords,
    icon: 'icon.png',
    server: {
      type: 'node',
      entry_point: 'dist/index.js',
      mcp_config: { command: 'node', args: ['${__dirname}/dist/index.js'], env: ENV },
    },
    tools,
    tools_generated: false,
    user_config: USER_CONFIG,
    compatibility: {
      platforms: ['darwin', 'win32', 'linux'],
      runtimes: { node: pkg.engines.node },
    },
    privacy_policies: ['https://vapi.ai/privacy'],
  };
}

/** The production dependency tree as package-lock.json records it, copied as installed: nothing is fetched. */
function copyProductionDependencies(stage) {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const relatives = Object.entries(lock.packages)
    .filter(([where, entry]) => where.startsWith('node_modules/') && !entry.dev && !entry.link)
    .map(([where]) => where);
  for (const relative of relatives) {
    const dir = path.join(root, relative);
    if (!existsSync(path.join(dir, 'package.json'))) {
      if (lock.packages[relative].optional) continue; // an optional dependency for another platform
      throw new Error(`${relative} is in package-lock.json but not installed: run npm ci`);
    }
    cpSync(dir, path.join(stage, relative), {
      recursive: true,
      dereference: true,
      // A nested node_modules is copied on its own when it belongs to the production tree.
      filter: (source) => !path.relative(dir, source).split(path.sep).includes('node_modules'),
    });
  }
  return relatives.length;
}

/** Writes the bundle's SHA-256 into server.json's mcpb package entry. */
function recordHash(bundle) {
  const file = path.join(root, 'server.json');
  const server = JSON.parse(readFileSync(file, 'utf8'));
  const entry = server.packages.find((p) => p.registryType === 'mcpb');
  entry.fileSha256 = createHash('sha256').update(readFileSync(bundle)).digest('hex');
  writeFileSync(file, `${JSON.stringify(server, null, 2)}\n`);
  say(`server.json: fileSha256 ${entry.fileSha256}`);
}

async function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'server-json': { type: 'boolean' } } });
  if (!existsSync(path.join(root, 'dist/index.js'))) throw new Error('dist/index.js is missing: run npm run build first');
  const outDir = path.resolve(values.out ?? root);
  const output = path.join(outDir, `${pkg.name}-${pkg.version}.mcpb`);
  const work = mkdtempSync(path.join(tmpdir(), 'vapi-call-mcp-bundle-'));
  const stage = path.join(work, 'stage');
  try {
    mkdirSync(stage);
    for (const entry of ['dist', 'package.json', 'README.md', 'LICENSE']) cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
    cpSync(path.join(root, 'assets/icon.png'), path.join(stage, 'icon.png'));
    const copied = copyProductionDependencies(stage);
    const tools = await listTools(path.join(work, 'recordings'));
    writeFileSync(path.join(stage, 'manifest.json'), `${JSON.stringify(manifest(tools), null, 2)}\n`);
    if (!validateManifest(path.join(stage, 'manifest.json'))) throw new Error('manifest.json does not validate (see above)');
    mkdirSync(outDir, { recursive: true });
    rmSync(output, { force: true });
    if (!(await packExtension({ extensionPath: stage, outputPath: output, silent: true }))) throw new Error('mcpb pack failed');
    const size = statSync(output).size;
    if (size > BUNDLE_BUDGET_BYTES) throw new Error(`${path.basename(output)} is ${size} bytes, over the ${BUNDLE_BUDGET_BYTES}-byte budget`);
    if (values['server-json']) recordHash(output);
    say(`${path.relative(process.cwd(), output) || output}: ${(size / 1024 / 1024).toFixed(1)} MiB (budget ${BUNDLE_BUDGET_BYTES / 1024 / 1024} MiB), ${tools.length} tools, ${copied} production packages`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err) => {
    say(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
