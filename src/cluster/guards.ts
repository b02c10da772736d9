/**
 * The guards a cluster's instances share, built on one connection: call limits (one Lua script), idempotency keys
 * (SET NX), confirmation tokens (a shared secret, SET NX per token) and the duplicate-call guard's memory.
 */
import type { Config } from '../config.js';
import { UNTRACKED_CALL_HOLD_MS } from '../guard/limits.js';
import type { Logger } from '../log.js';
import type { ClusterConnection } from './connection.js';
import { SharedConfirmationTokens } from './shared-confirmations.js';
import { SharedIdempotencyKeys } from './shared-keys.js';
import { LONGEST_CALL_MS, SharedCallLimits } from './shared-limits.js';
import { SharedRecentCalls } from './shared-recent-calls.js';
import { ClusterStore } from './store.js';

export function sharedGuards(
  connection: ClusterConnection,
  options: { config: Config; logger: Logger; recentCalls: { windowMs: number | undefined; now: () => number } },
) {
  const { config, logger } = options;
  const store = new ClusterStore(connection);
  return {
    cluster: connection,
    limits: new SharedCallLimits({
      store,
      logger,
      maxConcurrentCalls: config.maxConcurrentCalls,
      maxCallsPerHour: config.maxCallsPerHour,
      // With a call-length cap, the backstop ends a call by then; the hold adds the time an unfollowed call may take.
      liveCallHoldMs: config.maxCallMinutes !== undefined ? config.maxCallMinutes * 60_000 + UNTRACKED_CALL_HOLD_MS : LONGEST_CALL_MS,
    }),
    confirmations: new SharedConfirmationTokens(store),
    sharedKeys: new SharedIdempotencyKeys(store, logger),
    recentCalls: new SharedRecentCalls(options.recentCalls, store, logger),
  };
}
