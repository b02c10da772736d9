/**
 * `vapi-call-mcp --http`: one call core for the process and the Streamable HTTP server on it, until SIGINT or
 * SIGTERM; then a graceful shutdown (stop accepting, close sessions, finalise recordings, stop the simulator).
 */
import type { Config } from '../config.js';
import { createCallCore } from '../core/call-core.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import { startHttpServer } from './http.js';
import { isLoopbackAddress, type HttpOptions } from './http-options.js';

export interface ServeHttpOptions {
  config: Config;
  http: HttpOptions;
  logger: Logger;
  /** Runs after the core has closed (the --simulate simulator stops here). */
  afterClose?: () => Promise<void>;
}

export async function serveHttp({ config, http, logger, afterClose }: ServeHttpOptions): Promise<void> {
  const core = createCallCore({ config, logger });
  const running = await startHttpServer({ core, http, logger });

  let shuttingDown = false;
  const shutdown = async (why: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info(`shutting down (${why}): closing sessions, finalising recordings`);
    const forceExit = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting anyway');
      process.exit(1);
    }, 10_000);
    forceExit.unref();
    try {
      await running.close();
      await core.close();
      await afterClose?.();
    } catch (err) {
      logger.error('error during shutdown', { error: (err as Error).message });
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const access = http.token ? 'bearer token required' : isLoopbackAddress(http.host) ? 'loopback only, no token' : 'no token';
  logger.info(
    `vapi-call-mcp ${VERSION} ready on ${running.url} (${access})${config.simulated ? ' (SIMULATED: built-in Vapi simulator, no real calls)' : ''}${config.readOnly ? ' (read-only)' : ''}; recordings in ${config.recordingsDir}`,
  );
}
