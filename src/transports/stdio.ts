/**
 * Serves one MCP connection over stdio: one call core for the process, one MCP server on it. Shuts down (finalising
 * every recording) on SIGINT/SIGTERM, when stdin ends, or when the transport gives up on the client.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Config } from '../config.js';
import { openCluster } from '../cluster/index.js';
import { createCallCore } from '../core/call-core.js';
import type { Logger } from '../log.js';
import { createServer } from '../mcp/server.js';
import { VERSION } from '../version.js';
import { exitOnShutdown, servingNotes } from './shutdown.js';

export interface StdioOptions {
  config: Config;
  logger: Logger;
  /** Runs after the core has closed (the --simulate simulator stops here). */
  afterClose?: () => Promise<void>;
}

export async function serveStdio({ config, logger, afterClose }: StdioOptions): Promise<void> {
  const cluster = await openCluster(config, logger);
  const core = createCallCore({ config, logger, cluster });
  const server = createServer({ core });

  const shutdown = exitOnShutdown(logger, 'finalising recordings', [() => server.close(), () => core.close(), async () => afterClose?.()]);
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
    `vapi-call-mcp ${VERSION} ready on stdio${servingNotes(config)}`,
  );
}
