/**
 * Serves one MCP connection over stdio: one call core for the process, one MCP server on it. Shuts down (finalising
 * every recording) on SIGINT/SIGTERM, when stdin ends, or when the transport gives up on the client.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Config } from '../config.js';
import { createCallCore } from '../core/call-core.js';
import type { Logger } from '../log.js';
import { createServer } from '../mcp/server.js';
import { VERSION } from '../version.js';

export interface StdioOptions {
  config: Config;
  logger: Logger;
  /** Runs after the core has closed (the --simulate simulator stops here). */
  afterClose?: () => Promise<void>;
}

export async function serveStdio({ config, logger, afterClose }: StdioOptions): Promise<void> {
  const core = createCallCore({ config, logger });
  const server = createServer({ core });

  let shuttingDown = false;
  const shutdown = async (why: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info(`shutting down (${why}): finalising recordings`);
    const forceExit = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting anyway');
      process.exit(1);
    }, 10_000);
    forceExit.unref();
    try {
      await server.close();
      await core.close();
      await afterClose?.();
    } catch (err) {
      logger.error('error during shutdown', { error: (err as Error).message });
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.stdin.on('end', () => void shutdown('stdin closed'));
  process.stdin.on('close', () => void shutdown('stdin closed'));

  await server.mcp.connect(new StdioServerTransport());
  // The transport closes itself when it can no longer read the client (a message over its 10 MiB read limit):
  // a server deaf to its client is useless, so exit (finalising recordings) and let the client restart it.
  const previousOnClose = server.mcp.server.onclose;
  server.mcp.server.onclose = () => {
    previousOnClose?.();
    void shutdown('the client connection closed');
  };
  logger.info(
    `vapi-call-mcp ${VERSION} ready on stdio${config.simulated ? ' (SIMULATED: built-in Vapi simulator, no real calls)' : ''}${config.readOnly ? ' (read-only)' : ''}; recordings in ${config.recordingsDir}`,
  );
}
