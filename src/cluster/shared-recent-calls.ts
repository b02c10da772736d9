/**
 * The duplicate-call guard's memory shared by a cluster's instances: the last call placed, or being placed, to each
 * number, so a second call to it through another instance is caught. Claiming is one script (read, judge, write),
 * so two instances cannot both claim a number; settling swaps only the value this instance wrote.
 */
import { randomUUID } from 'node:crypto';
import { UNTRACKED_CALL_HOLD_MS } from '../guard/limits.js';
import type { NumberClaim, RecentCall, RecentCallsStore } from '../guard/recent-calls.js';
import type { Logger } from '../log.js';
import { LONGEST_CALL_MS } from './shared-limits.js';
import { COMPARE_AND_SET, KEY_PREFIX, type ClusterStore } from './store.js';

/** KEYS[1] the number's entry; ARGV: the new entry, its key, '1' when exclusive, ttl ms → {busy, previous entry}. */
const CLAIM_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current and ARGV[3] == '1' then
  local entry = cjson.decode(current)
  if entry.key ~= ARGV[2] and entry.callId == nil then return {1, current} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return {0, current or ''}
`;

const numberKey = (e164: string) => `${KEY_PREFIX}{recent}:${e164}`;

export class SharedRecentCalls implements RecentCallsStore {
  private readonly claimScript;
  private readonly compareAndSet;

  constructor(
    readonly options: { windowMs: number | undefined; now: () => number },
    private readonly store: ClusterStore,
    private readonly logger: Logger,
  ) {
    this.claimScript = store.script(CLAIM_SCRIPT);
    this.compareAndSet = store.script(COMPARE_AND_SET);
  }

  get enabled(): boolean {
    return this.options.windowMs !== undefined;
  }

  async latest(e164: string): Promise<RecentCall | undefined> {
    const value = await this.store.run((client) => client.get(numberKey(e164)));
    return value ? toRecentCall(value) : undefined;
  }

  async claim(e164: string, key: string, exclusive: boolean): Promise<NumberClaim | { busy: RecentCall }> {
    const entry = { key, at: this.options.now(), claim: randomUUID() };
    const mine = JSON.stringify(entry);
    // A placement that dies half-way holds the number as long as an untraceable call holds its slot.
    const [busy, other] = (await this.claimScript([numberKey(e164)], [mine, key, exclusive ? '1' : '0', UNTRACKED_CALL_HOLD_MS])) as [number, string];
    if (busy === 1) return { busy: toRecentCall(other) };
    const settle = (value: string, ttlMs: number | '') =>
      void this.compareAndSet([numberKey(e164)], [mine, value, ttlMs]).catch(() =>
        this.logger.warn('cluster store unreachable; the duplicate-call guard forgets this placement when its hold ends'),
      );
    return {
      placed: (callId) => settle(JSON.stringify({ ...entry, callId }), Math.max(LONGEST_CALL_MS, this.options.windowMs ?? 0)),
      release: () => settle(other, ''),
    };
  }
}

function toRecentCall(value: string): RecentCall {
  const entry = JSON.parse(value) as RecentCall;
  return { key: entry.key, at: entry.at, ...(entry.callId ? { callId: entry.callId } : {}) };
}
