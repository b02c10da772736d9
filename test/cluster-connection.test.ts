import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectCluster, type ClusterConnection } from '../src/cluster/connection.js';
import { StderrLogger } from '../src/log.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { EVENTUALLY } from './helpers/wait.js';

describe('cluster store connection', () => {
  let redis: RedisServer;
  let connection: ClusterConnection;
  const lines: string[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    connection = await connectCluster({ url: redis.url, logger: new StderrLogger({ level: 'debug', write: (line) => lines.push(line) }) });
  });
  afterAll(async () => {
    await connection?.close();
    await redis?.stop();
  });

  it('is ready, refuses commands at once while the server is down, and comes back on its own', async () => {
    expect(connection.ready).toBe(true);
    await connection.client.set('k', 'v');
    expect(await connection.client.get('k')).toBe('v');

    await redis.stop();
    await vi.waitFor(() => expect(connection.ready).toBe(false), EVENTUALLY);
    await expect(connection.client.get('k')).rejects.toThrow();

    await redis.start();
    await vi.waitFor(() => expect(connection.ready).toBe(true), EVENTUALLY);
    await connection.client.set('k', 'again');
    expect(await connection.client.get('k')).toBe('again');
    expect(lines.join('')).toMatch(/unreachable/);
    expect(lines.join('')).not.toContain(redis.url);
  });
});
