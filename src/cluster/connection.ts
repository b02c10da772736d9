/**
 * The connection to the Valkey/Redis server that the instances of a cluster share (VAPI_MCP_REDIS_URL).
 * This module is the only one that imports the client library, so the rest of the cluster code (and a later swap
 * of client) deals with one small surface. The URL may carry a password and Redis holds monitor URLs (bearer
 * capabilities): neither the URL nor any value read from Redis is ever logged.
 */
import type { Logger } from '../log.js';

/**
 * The library is loaded only when cluster mode is on: it is most of what a start would otherwise load (about
 * 200 ms of module loading), and a server without VAPI_MCP_REDIS_URL never uses it.
 */
type CreateClient = typeof import('@redis/client').createClient;

function newClient(createClient: CreateClient, options: ClusterConnectionOptions) {
  return createClient({
    url: options.url,
    name: options.name,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, RECONNECT_MAX_MS),
    },
  });
}

export type RedisClient = ReturnType<typeof newClient>;

export interface ClusterConnectionOptions {
  url: string;
  logger: Logger;
  /** A name for this client in CLIENT LIST and in this server's logs. */
  name?: string;
  /** Give up a first connection after this long (default 5 s). */
  connectTimeoutMs?: number;
}

export interface ClusterConnection {
  readonly client: RedisClient;
  /** True while the socket is up and ready for commands. */
  readonly ready: boolean;
  /** Calls `listener` on every change of `ready`; returns the unsubscribe. */
  onReadyChange(listener: (ready: boolean) => void): () => void;
  close(): Promise<void>;
}

const RECONNECT_MAX_MS = 2_000;

/**
 * Connects, retrying for ever in the background after a loss (every 50 ms doubling up to 2 s). Commands issued
 * while the connection is down fail at once rather than queue: a limit that cannot be checked must refuse now,
 * not place a call later. Resolves once connected, or after the first failed attempt with `ready` false (the
 * server then starts degraded and the client keeps trying), so an unreachable store never blocks start-up.
 */
export async function connectCluster(options: ClusterConnectionOptions): Promise<ClusterConnection> {
  const { logger } = options;
  const { createClient } = await import('@redis/client');
  const client = newClient(createClient, options);
  const listeners = new Set<(ready: boolean) => void>();
  let ready = false;
  const setReady = (value: boolean) => {
    if (ready === value) return;
    ready = value;
    if (value) logger.info('cluster store connected');
    else logger.warn('cluster store unreachable; retrying');
    for (const listener of listeners) listener(value);
  };
  // The error event carries the library's message, which can name host and port but never the password; still,
  // only its code is logged.
  client.on('error', (err: NodeJS.ErrnoException) => {
    logger.debug(`cluster store error: ${err.code ?? err.name}`);
    setReady(false);
  });
  client.on('ready', () => setReady(true));
  client.on('end', () => setReady(false));
  const firstError = new Promise<void>((resolve) => client.once('error', () => resolve()));
  const connecting = client.connect().then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([connecting, firstError]);
  if (!ready) logger.warn('cluster store unreachable at start; placing calls is refused until it answers');
  return {
    client,
    get ready() {
      return ready;
    },
    onReadyChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      if (!client.isOpen) return;
      // A client still retrying has nothing to flush: stop it rather than wait for a server that is not there.
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}
