/**
 * What the shared guards need of the cluster store: commands that fail as one error while the store cannot be
 * reached, and Lua scripts run by their SHA (EVALSHA), loaded on first use or after the server forgot them.
 * Keys all start with `vcm:`; the part in braces is a Redis Cluster hash tag, so the keys one script touches live
 * in one slot.
 */
import { createHash } from 'node:crypto';
import type { ClusterConnection, RedisClient } from './connection.js';

export const KEY_PREFIX = 'vcm:';

/** The shared store could not be asked: a guard that depends on it cannot decide, so it refuses. */
export class ClusterUnavailableError extends Error {
  constructor() {
    super('The cluster store (VAPI_MCP_REDIS_URL) is unreachable.');
    this.name = 'ClusterUnavailableError';
  }
}

export class ClusterStore {
  constructor(readonly connection: ClusterConnection) {}

  get ready(): boolean {
    return this.connection.ready;
  }

  /**
   * Runs commands against the store; any failure (down, timeout, an answer that is not what was expected) is a
   * ClusterUnavailableError. The library's own message is dropped: it may name the host.
   */
  async run<T>(commands: (client: RedisClient) => Promise<T>): Promise<T> {
    if (!this.connection.ready) throw new ClusterUnavailableError();
    try {
      return await commands(this.connection.client);
    } catch {
      throw new ClusterUnavailableError();
    }
  }

  /** A script run by SHA, sent whole only when the server answers NOSCRIPT (first use, or after a restart). */
  script(source: string): (keys: string[], args: (string | number)[]) => Promise<unknown> {
    const sha = createHash('sha1').update(source).digest('hex');
    return (keys, args) =>
      this.run(async (client) => {
        const options = { keys, arguments: args.map(String) };
        try {
          return await client.evalSha(sha, options);
        } catch (err) {
          if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
          return client.eval(source, options);
        }
      });
  }
}

/**
 * Compare-and-set: KEYS[1] becomes ARGV[2] (deleted when ARGV[2] is empty, keeping its expiry otherwise) only while
 * it still holds ARGV[1], so an instance settles only the claim it took. Returns 1 when it did.
 */
export const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1])
elseif ARGV[3] and ARGV[3] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') end
return 1
`;
