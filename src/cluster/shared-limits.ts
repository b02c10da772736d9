/**
 * The call limits shared by every instance of a cluster: the concurrency and hourly caps are checked and a slot
 * taken in one Lua script, so 30 requests spread over 3 instances at a limit of 3 place exactly 3 calls. The rules
 * are CallLimits' own (src/guard/limits.ts): a reservation is given back only on proof that nothing was placed, an
 * ended call frees its slot (whichever instance learns it ended), and a call that cannot be followed holds its slot
 * for UNTRACKED_CALL_HOLD_MS.
 *
 * Two sorted sets, timed by the Redis server's own clock (TIME) so the instances' clocks do not matter:
 *   vcm:{limits}:slots  member → when the slot frees itself (ms): `r:<uuid>` a reservation, `c:<callId>` a live call
 *   vcm:{limits}:hour   member → when it was placed (ms), for the sliding hour
 * Every slot expires, so an instance that dies mid-request cannot leak one for ever: a reservation after
 * UNTRACKED_CALL_HOLD_MS (the request is long over by then), a live call after the longest a call can last.
 */
import { randomUUID } from 'node:crypto';
import {
  CALLS_WINDOW_MS,
  UNTRACKED_CALL_HOLD_MS,
  concurrencyRefusal,
  hourlyRefusal,
  requireCount,
  zeroLimitRefusal,
  type CallLimitsStore,
  type LimitVerdict,
  type ReserveVerdict,
} from '../guard/limits.js';
import type { Logger } from '../log.js';
import { KEY_PREFIX, type ClusterStore } from './store.js';

/** Vapi's longest call (maxDurationSeconds at most 43200): a live call's slot frees itself after this at the latest. */
export const LONGEST_CALL_MS = 12 * 60 * 60_000;

const SLOTS_KEY = `${KEY_PREFIX}{limits}:slots`;
const HOUR_KEY = `${KEY_PREFIX}{limits}:hour`;

/**
 * KEYS: slots, hour. ARGV[1] the operation, then:
 *   check|reserve  member, maxConcurrent, maxPerHour, holdMs → {'ok'} | {'hourly-rate', placed, msUntilOldestLeaves}
 *                  | {'concurrency', held, callId...}
 *   placed         reservation member, call member, liveMs (the reservation becomes the live call; its stamp stays)
 *   release        member (gone from both sets)
 *   untracked      member, holdMs
 *   record         call member, liveMs (a call placed without a reservation; ignored when already live)
 *   ended          call member
 *   live           → the live call members
 */
export const LIMITS_SCRIPT = `
local slots, hour = KEYS[1], KEYS[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op = ARGV[1]
redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
redis.call('ZREMRANGEBYSCORE', hour, '-inf', now - ${CALLS_WINDOW_MS})

local function keep()
  local last = redis.call('ZRANGE', slots, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', slots, math.ceil(tonumber(last[2]))) end
  if redis.call('EXISTS', hour) == 1 then redis.call('PEXPIRE', hour, ${CALLS_WINDOW_MS}) end
end

if op == 'check' or op == 'reserve' then
  local placed = redis.call('ZCARD', hour)
  if placed >= tonumber(ARGV[4]) then
    local oldest = redis.call('ZRANGE', hour, 0, 0, 'WITHSCORES')
    return {'hourly-rate', placed, tonumber(oldest[2]) + ${CALLS_WINDOW_MS} - now}
  end
  if redis.call('ZCARD', slots) >= tonumber(ARGV[3]) then
    local reply = {'concurrency', 0}
    for _, member in ipairs(redis.call('ZRANGE', slots, 0, -1)) do
      if string.sub(member, 1, 2) == 'c:' then table.insert(reply, string.sub(member, 3))
      else reply[2] = reply[2] + 1 end
    end
    return reply
  end
  if op == 'reserve' then
    redis.call('ZADD', slots, now + tonumber(ARGV[5]), ARGV[2])
    redis.call('ZADD', hour, now, ARGV[2])
    keep()
  end
  return {'ok'}
elseif op == 'placed' then
  redis.call('ZREM', slots, ARGV[2])
  redis.call('ZADD', slots, now + tonumber(ARGV[4]), ARGV[3])
elseif op == 'release' then
  redis.call('ZREM', slots, ARGV[2])
  redis.call('ZREM', hour, ARGV[2])
elseif op == 'untracked' then
  redis.call('ZADD', slots, now + tonumber(ARGV[3]), ARGV[2])
elseif op == 'record' then
  if redis.call('ZSCORE', slots, ARGV[2]) then return {'ok'} end
  redis.call('ZADD', slots, now + tonumber(ARGV[3]), ARGV[2])
  redis.call('ZADD', hour, now, ARGV[2])
elseif op == 'ended' then
  redis.call('ZREM', slots, ARGV[2])
elseif op == 'live' then
  local ids = {}
  for _, member in ipairs(redis.call('ZRANGE', slots, 0, -1)) do
    if string.sub(member, 1, 2) == 'c:' then table.insert(ids, string.sub(member, 3)) end
  end
  return ids
else
  return redis.error_reply('unknown operation')
end
keep()
return {'ok'}
`;

export interface SharedCallLimitsOptions {
  store: ClusterStore;
  logger: Logger;
  maxConcurrentCalls: number;
  maxCallsPerHour: number;
  /** How long a reservation in flight, or a call that cannot be followed, holds its slot. */
  reservationHoldMs?: number;
  /** How long a placed call holds its slot when no instance sees it end: the call-length cap, or LONGEST_CALL_MS. */
  liveCallHoldMs?: number;
}

export class SharedCallLimits implements CallLimitsStore {
  private readonly maxConcurrent: number;
  private readonly maxPerHour: number;
  private readonly holdMs: number;
  private readonly liveMs: number;
  private readonly run: (args: (string | number)[]) => Promise<unknown>;

  constructor(private readonly options: SharedCallLimitsOptions) {
    this.maxConcurrent = requireCount('maxConcurrentCalls', options.maxConcurrentCalls);
    this.maxPerHour = requireCount('maxCallsPerHour', options.maxCallsPerHour);
    this.holdMs = options.reservationHoldMs ?? UNTRACKED_CALL_HOLD_MS;
    this.liveMs = options.liveCallHoldMs ?? LONGEST_CALL_MS;
    const script = options.store.script(LIMITS_SCRIPT);
    this.run = (args) => script([SLOTS_KEY, HOUR_KEY], args);
  }

  async check(): Promise<LimitVerdict> {
    return this.judge('check', '');
  }

  async reserve(): Promise<ReserveVerdict> {
    const member = `r:${randomUUID()}`;
    const verdict = await this.judge('reserve', member);
    if (!verdict.ok) return verdict;
    let settled = false;
    const settle = (what: string, args: (string | number)[]) => {
      if (settled) return;
      settled = true;
      // Settling never fails the request: if the store is down now, the slot frees itself when its hold ends.
      this.run(args).catch(() => this.options.logger.warn(`cluster store unreachable; a call slot (${what}) is settled when its hold ends`));
    };
    return {
      ok: true,
      reservation: {
        placed: (callId) => settle('placed', ['placed', member, `c:${callId}`, this.liveMs]),
        release: () => settle('release', ['release', member]),
        untracked: () => settle('untracked', ['untracked', member, this.holdMs]),
      },
    };
  }

  async recordPlaced(callId: string): Promise<void> {
    await this.run(['record', `c:${callId}`, this.liveMs]);
  }

  async recordEnded(callId: string): Promise<void> {
    await this.run(['ended', `c:${callId}`]);
  }

  async liveCallIds(): Promise<string[]> {
    return (await this.run(['live'])) as string[];
  }

  private async judge(op: 'check' | 'reserve', member: string): Promise<ReserveVerdict | LimitVerdict> {
    const disabled = zeroLimitRefusal(this.maxConcurrent, this.maxPerHour);
    if (disabled) return disabled;
    const reply = (await this.run([op, member, this.maxConcurrent, this.maxPerHour, this.holdMs])) as (string | number)[];
    if (reply[0] === 'hourly-rate') return hourlyRefusal(Number(reply[1]), this.maxPerHour, Number(reply[2]));
    if (reply[0] === 'concurrency') return concurrencyRefusal(reply.slice(2).map(String), Number(reply[1]), this.maxConcurrent);
    return { ok: true } as ReserveVerdict;
  }
}
