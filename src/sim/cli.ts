/**
 * `vapi-call-mcp simulator`: runs the simulator on its own until SIGINT or SIGTERM. This entry prints its
 * greeting to stdout (it is not the MCP stdio path); logs go to stderr.
 */
import { stderrSimLogger, type SimLogger } from './wire.js';
import { startSimulator } from './simulator.js';
import { DEFAULT_SIM_API_KEY } from './types.js';

export const SIMULATOR_USAGE = `Usage: vapi-call-mcp simulator [--port 8787] [--host 127.0.0.1] [--api-key KEY]
                              [--public-key KEY] [--speed N] [--seed N] [--verbose]

Runs a local Vapi look-alike (REST /call, control URLs, listen WebSockets) with scripted calls.`;

export interface SimulatorCliOptions {
  /** Where the greeting goes; stdout by default. */
  write?: (text: string) => void;
  /** Stops the simulator when aborted, like a signal. */
  signal?: AbortSignal;
  /** Defaults to stderr at info level (debug with --verbose). */
  logger?: SimLogger;
}

interface CliArgs {
  port: number;
  host: string;
  apiKey: string;
  publicKey?: string;
  speed?: number;
  seed?: number;
  verbose: boolean;
  help: boolean;
}

/** Starts the simulator and resolves once it has stopped. Invalid arguments reject with the usage text. */
export async function runSimulatorCli(argv: string[], options: SimulatorCliOptions = {}): Promise<void> {
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const args = parseArgs(argv);
  if (args.help) {
    write(`${SIMULATOR_USAGE}\n`);
    return;
  }
  const simulator = await startSimulator({
    port: args.port,
    host: args.host,
    apiKey: args.apiKey,
    publicKey: args.publicKey,
    speed: args.speed,
    seed: args.seed,
    logger: options.logger ?? stderrSimLogger(args.verbose ? 'debug' : 'info'),
  });
  const example =
    `curl -s -X POST ${simulator.baseUrl}/call -H 'Authorization: Bearer ${simulator.apiKey}' ` +
    `-H 'Content-Type: application/json' ` +
    `-d '{"assistantId":"sim-assistant","phoneNumberId":"sim-number","customer":{"number":"+15550100"}}'`;
  write(
    [
      `Vapi simulator running at ${simulator.baseUrl}`,
      `Private API key (REST): ${simulator.apiKey}`,
      `Public key (listen/control when authentication is enabled): ${simulator.publicKey}`,
      `Try: ${example}`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      options.signal?.removeEventListener('abort', stop);
      simulator.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener('abort', stop);
  });
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { port: 8787, host: '127.0.0.1', apiKey: DEFAULT_SIM_API_KEY, verbose: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw usageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--port':
        args.port = integer(value(), flag, 0, 65535);
        break;
      case '--host':
        args.host = value();
        break;
      case '--api-key':
        args.apiKey = value();
        break;
      case '--public-key':
        args.publicKey = value();
        break;
      case '--speed': {
        const speed = Number(value());
        if (!Number.isFinite(speed) || speed <= 0) throw usageError('--speed must be a positive number');
        args.speed = speed;
        break;
      }
      case '--seed':
        args.seed = integer(value(), flag, 0, 2 ** 32 - 1);
        break;
      case '--verbose':
        args.verbose = true;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw usageError(`unknown argument ${flag}`);
    }
  }
  return args;
}

function integer(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw usageError(`${flag} must be an integer between ${min} and ${max}`);
  }
  return value;
}

function usageError(problem: string): Error {
  return new Error(`${problem}\n\n${SIMULATOR_USAGE}`);
}
