/**
 * Cluster mode's entry: with VAPI_MCP_REDIS_URL set, the instances share limits, the call directory and each call's
 * live stream through Valkey/Redis; without it, nothing here runs and everything stays in memory.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { connectCluster, type ClusterConnection } from './connection.js';

export type { ClusterConnection } from './connection.js';

/** The shared store when cluster mode is on, else undefined. */
export async function openCluster(config: Config, logger: Logger): Promise<ClusterConnection | undefined> {
  if (!config.redisUrl) return undefined;
  return connectCluster({ url: config.redisUrl, logger, name: 'vapi-call-mcp' });
}
