#!/usr/bin/env node
/**
 * CLI entry: parses the command line and dispatches to a face. `vapi-call-mcp` serves MCP over stdio
 * (src/transports/stdio.ts); `--simulate` points it at the built-in Vapi simulator; `vapi-call-mcp simulator` runs
 * the simulator alone; `vapi-call-mcp demo` walks a simulated call; `watch`, `calls`, `call`, `say` and `end` are
 * terminal commands for people (src/cli). Face code is loaded lazily (import()), so start-up pays only for the face
 * it runs. In MCP stdio mode stdout carries only JSON-RPC: everything human goes to stderr.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, prepareRecordingsDir, type Config } from './config.js';
import { repairRecordings } from './live/recovery.js';
import { StderrLogger } from './log.js';
import { Redactor } from './redact.js';
import { parseSimSpeed, startSimulatedVapi } from './simulated.js';
import { VERSION } from './version.js';

const HELP = `vapi-call-mcp ${VERSION}: an MCP server to place, listen to and steer live Vapi phone calls.

Usage:
  vapi-call-mcp [--simulate] [--read-only]   serve MCP over stdio
  vapi-call-mcp --http [--host 127.0.0.1] [--port 8788] [--simulate] [--read-only]
                                             serve MCP over Streamable HTTP at /mcp (many sessions)
  vapi-call-mcp simulator [--port N] [--api-key KEY] [--speed N] [--seed N]
                                             run the Vapi simulator alone
  vapi-call-mcp demo                         walk a whole simulated call through the MCP server

From the terminal (each has --help; --simulate runs the simulator in-process):
  vapi-call-mcp watch <callId> [--json]      follow a live call (or a JSON event stream)
  vapi-call-mcp calls [--status S] [--limit N] [--json]
                                             recent calls as a table
  vapi-call-mcp call <number> [--watch]      place a call (shows it first, asks for y; --yes for scripts)
  vapi-call-mcp say <callId> <text>          the assistant says these words now
  vapi-call-mcp end <callId>                 hang up
  vapi-call-mcp end --all                    hang up every live call vapi-call-mcp placed (asks first)

Options:
  --simulate         use the built-in Vapi simulator: no Vapi account, no real calls (also VAPI_SIMULATE=1)
  --sim-speed N      with --simulate: run simulated calls N times faster than real time (default 1)
  --read-only        expose only tools that cannot change a call (also VAPI_READ_ONLY=1)
  --http             serve Streamable HTTP instead of stdio; --host/--port (VAPI_MCP_HOST, VAPI_MCP_PORT) pick
                     the address; any address but loopback needs VAPI_MCP_TOKEN or OAuth (see the README)
  --oauth builtin    with --http: OAuth 2.1 with the built-in authorization server (VAPI_MCP_OAUTH=builtin);
                     for claude.ai and ChatGPT (see docs/remote.md)
  -h, --help         show this help
  -v, --version      print the version

Environment: VAPI_API_KEY (or VAPI_TOKEN), VAPI_BASE_URL, VAPI_PUBLIC_KEY, VAPI_ASSISTANT_ID,
VAPI_PHONE_NUMBER_ID, VAPI_RECORDINGS_DIR, VAPI_ALLOWED_NUMBERS, VAPI_ALLOWED_COUNTRIES,
VAPI_MAX_CONCURRENT_CALLS, VAPI_MAX_CALLS_PER_HOUR, VAPI_MAX_CALL_MINUTES, VAPI_QUIET_HOURS, VAPI_DUPLICATE_WINDOW_SECONDS,
VAPI_CONFIRM_CALLS, VAPI_READ_ONLY, VAPI_TRANSCRIPT_MAX_LINES, VAPI_AUDIO_ANALYSIS, VAPI_LOG_LEVEL;
with --http also VAPI_MCP_TOKEN, VAPI_MCP_PUBLIC_URL, VAPI_MCP_OAUTH_ISSUER, VAPI_MCP_ALLOWED_HOSTS, VAPI_MCP_ALLOWED_ORIGINS, VAPI_MCP_TRUST_PROXY and more.
See the README for each.
`;


function fail(message: string): never {
  process.stderr.write(`vapi-call-mcp: ${message}\n`);
  process.exit(1);
}

/** Terminal commands for people; their code (src/cli) is loaded only when one is asked for. */
const TERMINAL_COMMANDS = new Set(['watch', 'calls', 'call', 'say', 'end']);

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  if (command !== undefined && TERMINAL_COMMANDS.has(command)) {
    const { runTerminalCommand } = await import('./cli/index.js');
    return runTerminalCommand(command, argv.slice(1));
  }
  if (command === 'simulator') {
    const { runSimulatorCli } = await import('./sim/cli.js');
    return runSimulatorCli(argv.slice(1));
  }
  if (command === 'demo') {
    const { runDemo } = await import('./cli/demo.js');
    return runDemo(argv.slice(1));
  }

  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        simulate: { type: 'boolean' },
        'sim-speed': { type: 'string' },
        'read-only': { type: 'boolean' },
        http: { type: 'boolean' },
        host: { type: 'string' },
        port: { type: 'string' },
        oauth: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}. Run vapi-call-mcp --help for usage.`);
  }
  if (flags.help) {
    process.stdout.write(HELP); // asked for, so it is the output (`--help | less`); the server never starts
    return;
  }
  if (flags.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }

  if (flags['sim-speed'] !== undefined && !flags.simulate) {
    fail('--sim-speed only applies with --simulate (it sets how fast simulated calls run). Add --simulate or drop --sim-speed.');
  }

  if ((flags.host !== undefined || flags.port !== undefined || flags.oauth !== undefined) && !flags.http) {
    fail('--host, --port and --oauth only apply with --http (they set where and how the HTTP server listens). Add --http or drop them.');
  }

  let config: Config;
  let diskFull: string | undefined;
  let httpOptions: import('./transports/http-options.js').HttpOptions | undefined;
  try {
    config = loadConfig(process.env, { simulate: flags.simulate, readOnly: flags['read-only'] });
    if (flags.http) {
      const { loadHttpOptions } = await import('./transports/http-options.js');
      httpOptions = loadHttpOptions(process.env, { host: flags.host, port: flags.port, oauth: flags.oauth });
    }
    ({ diskFull } = prepareRecordingsDir(config.recordingsDir));
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  let stopSimulator: (() => Promise<void>) | undefined;
  if (config.simulated) {
    const parsed = parseSimSpeed(flags['sim-speed']);
    if ('problem' in parsed) fail(parsed.problem);
    const simulated = await startSimulatedVapi(config, parsed.speed);
    stopSimulator = simulated.stop;
    config = simulated.config;
  }

  const redactor = new Redactor();
  redactor.add(config.apiKey);
  redactor.add(config.publicKey);
  redactor.add(httpOptions?.token);
  redactor.add(httpOptions?.oauth?.operatorPassword);
  redactor.add(httpOptions?.oauth?.introspectionClient?.secret);
  const logger = new StderrLogger({ level: config.logLevel, redact: redactor.redact });
  if (diskFull) logger.warn(diskFull);
  for (const repaired of await repairRecordings(config.recordingsDir)) {
    logger.info('repaired the header of a WAV left unfinished by a crash', { file: repaired.path, dataBytes: repaired.dataBytes });
  }
  if (httpOptions) {
    const { serveHttp } = await import('./transports/http-main.js');
    return serveHttp({ config, http: httpOptions, logger, afterClose: stopSimulator });
  }
  const { serveStdio } = await import('./transports/stdio.js');
  await serveStdio({ config, logger, afterClose: stopSimulator });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  fail(`could not start: ${err instanceof Error ? err.message : String(err)}`);
});
