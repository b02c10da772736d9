/**
 * What every terminal command starts from: the configuration from the same VAPI_* variables as the server, the
 * built-in simulator when --simulate is given, a quiet stderr logger and the call core.
 */
import { ConfigError, loadConfig, prepareRecordingsDir, type Config } from '../config.js';
import { StderrLogger, type LogLevel } from '../log.js';
import { Redactor } from '../redact.js';
import { parseSimSpeed, startSimulatedVapi } from '../simulated.js';
import { openCluster } from '../cluster/index.js';
import { createCallCore, type CallCore } from '../core/call-core.js';
import { CliError } from './failure.js';

export interface SessionOptions {
  simulate?: boolean;
  simSpeed?: string;
  /** The command places or changes calls: refused in read-only mode (VAPI_READ_ONLY), as the server hides such tools. */
  changesCalls?: boolean;
}

export interface Session {
  core: CallCore;
  config: Config;
  /** Finalises recordings, then stops the in-process simulator if any; once. */
  close(): Promise<void>;
}

export async function openSession(options: SessionOptions): Promise<Session> {
  if (options.simSpeed !== undefined && !options.simulate) {
    throw new CliError('--sim-speed only applies with --simulate.', 2);
  }
  let config: Config;
  try {
    config = loadConfig(process.env, { simulate: options.simulate });
    const { diskFull } = prepareRecordingsDir(config.recordingsDir);
    if (diskFull) process.stderr.write(`vapi-call-mcp: ${diskFull}\n`);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  if (options.changesCalls && config.readOnly) {
    throw new CliError('Read-only mode (VAPI_READ_ONLY): calls can be listed and watched here, not placed or changed.');
  }

  let stopSimulator: (() => Promise<void>) | undefined;
  if (config.simulated) {
    const parsed = parseSimSpeed(options.simSpeed);
    if ('problem' in parsed) throw new CliError(parsed.problem, 2);
    const simulated = await startSimulatedVapi(config, parsed.speed);
    stopSimulator = simulated.stop;
    config = simulated.config;
  }

  const redactor = new Redactor();
  redactor.add(config.apiKey);
  redactor.add(config.publicKey);
  // The terminal shows the call; routine server logging would only interleave with it. VAPI_LOG_LEVEL still wins.
  const level: LogLevel = process.env.VAPI_LOG_LEVEL ? config.logLevel : 'warning';
  const logger = new StderrLogger({ level, redact: redactor.redact });
  const cluster = await openCluster(config, logger);
  // A terminal command serves and steers calls through the cluster but never takes over a dead instance's calls.
  const core = createCallCore({ config, logger, cluster, takesOverCalls: false });

  let closing: Promise<void> | undefined;
  return {
    core,
    config,
    close() {
      closing ??= (async () => {
        await core.close();
        await stopSimulator?.();
      })();
      return closing;
    },
  };
}
