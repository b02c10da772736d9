/**
 * `vapi-call-mcp --http`: one call core for the process and the Streamable HTTP server on it, until SIGINT or
 * SIGTERM; then a graceful shutdown (stop accepting, close sessions, finalise recordings, stop the simulator).
 */
import type { Config } from '../config.js';
import { openCluster } from '../cluster/index.js';
import { createCallCore } from '../core/call-core.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import { startHttpServer } from './http.js';
import { exitOnShutdown, servingNotes } from './shutdown.js';
import { isLoopbackAddress, type HttpOptions } from './http-options.js';

export interface ServeHttpOptions {
  config: Config;
  http: HttpOptions;
  logger: Logger;
  /** Runs after the core has closed (the --simulate simulator stops here). */
  afterClose?: () => Promise<void>;
}

export async function serveHttp({ config, http, logger, afterClose }: ServeHttpOptions): Promise<void> {
  const cluster = await openCluster(config, logger);
  const core = createCallCore({ config, logger, cluster });
  const running = await startHttpServer({ core, http, logger });

  exitOnShutdown(logger, 'closing sessions, finalising recordings', [() => running.close(), () => core.close(), async () => afterClose?.()]);

  const oauth = http.oauth
    ? `OAuth for ${running.resource} via ${http.oauth.mode === 'builtin' ? 'the built-in authorization server' : http.oauth.issuer}${http.token ? ', or the static bearer token' : ''}`
    : undefined;
  const access = oauth ?? (http.token ? 'bearer token required' : isLoopbackAddress(http.host) ? 'loopback only, no token' : 'no token');
  logger.info(
    `vapi-call-mcp ${VERSION} ready on ${running.url} (${access})${servingNotes(config)}`,
  );
}
