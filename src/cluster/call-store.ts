/**
 * The shared keys of the live part of cluster mode, and the few commands on them. Per call:
 *
 * - `vcm:call:{id}`   hash: the directory entry (listen and control URLs, status, start, number). Bearer
 *                     capabilities: Redis is a trusted store, and nothing read from it is logged.
 * - `vcm:lease:{id}`  string: the id of the instance that holds the listen socket, with a TTL (SET NX PX).
 * - `vcm:lines:{id}`  list: every final line, JSON with its seq (a reader catching up reads it whole).
 * - `vcm:events:{id}` stream: one entry per visible change (new lines, partials, status, the metrics snapshot),
 *                     at most one per call per flush (owned-calls.ts).
 * - `vcm:live`        set: ids of calls not yet over, for the cluster-wide sweep and end_all_calls.
 *
 * Keys of an ended call expire a day later.
 */
import type { KnownCall } from '../vapi/call-directory.js';
import type { RedisClient } from './connection.js';

export const keys = {
  call: (id: string) => `vcm:call:${id}`,
  lease: (id: string) => `vcm:lease:${id}`,
  lines: (id: string) => `vcm:lines:${id}`,
  events: (id: string) => `vcm:events:${id}`,
  live: 'vcm:live',
};

/** How long the keys of an ended call stay readable. */
export const ENDED_TTL_SECONDS = 24 * 3600;

const DIRECTORY_FIELDS = ['listenUrl', 'controlUrl', 'status', 'endedReason', 'startedAt', 'customerNumber'] as const;
const TERMINAL = new Set(['ended']);

export async function putEntry(client: RedisClient, known: KnownCall): Promise<void> {
  const fields: string[] = [];
  for (const name of DIRECTORY_FIELDS) {
    const value = known[name];
    if (value !== undefined) fields.push(name, value);
  }
  if (fields.length === 0) return;
  const multi = client.multi().addCommand(['HSET', keys.call(known.id), ...fields]);
  if (known.status && TERMINAL.has(known.status)) multi.addCommand(['SREM', keys.live, known.id]);
  else multi.addCommand(['SADD', keys.live, known.id]);
  await multi.exec();
}

export async function getEntry(client: RedisClient, id: string): Promise<KnownCall | undefined> {
  const raw = (await client.sendCommand(['HGETALL', keys.call(id)])) as string[] | Record<string, string>;
  const pairs = Array.isArray(raw) ? raw : Object.entries(raw).flat();
  if (pairs.length === 0) return undefined;
  const known: KnownCall = { id };
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = pairs[i] as (typeof DIRECTORY_FIELDS)[number];
    if ((DIRECTORY_FIELDS as readonly string[]).includes(name)) known[name] = pairs[i + 1];
  }
  return known;
}

/** The call is over: out of the live set, its keys expire in a day (the lease goes at once). */
export async function markEnded(client: RedisClient, id: string, endedReason: string | undefined): Promise<void> {
  await client
    .multi()
    .addCommand(['HSET', keys.call(id), 'status', 'ended', ...(endedReason ? ['endedReason', endedReason] : [])])
    .addCommand(['SREM', keys.live, id])
    .addCommand(['EXPIRE', keys.call(id), String(ENDED_TTL_SECONDS)])
    .addCommand(['EXPIRE', keys.lines(id), String(ENDED_TTL_SECONDS)])
    .addCommand(['EXPIRE', keys.events(id), String(ENDED_TTL_SECONDS)])
    .exec();
}

export async function liveIds(client: RedisClient): Promise<string[]> {
  return (await client.sendCommand(['SMEMBERS', keys.live])) as string[];
}

/**
 * The live calls nobody holds the lease of, in one round trip: a sweep asks this every second on every instance,
 * and an EXISTS per live call would cost each instance a command per call per second.
 */
const UNLEASED = `local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then out[#out + 1] = id end
end
return out`;

export async function unleasedLiveIds(client: RedisClient): Promise<string[]> {
  return (await client.sendCommand(['EVAL', UNLEASED, '1', keys.live, keys.lease('')])) as string[];
}

// ---- the lease --------------------------------------------------------------------------------------------

export async function acquireLease(client: RedisClient, id: string, owner: string, ttlMs: number): Promise<boolean> {
  return (await client.sendCommand<string | null>(['SET', keys.lease(id), owner, 'NX', 'PX', String(ttlMs)])) === 'OK';
}

/**
 * Renews every lease this instance holds, in one step. KEYS: per call its lease then its directory entry; ARGV:
 * owner, TTL. Answers per call: 1 extended; 2 it had lapsed (an outage of the store) and is this instance's again;
 * 3 the same, and the store lost the call's directory entry meanwhile (it restarted empty); 0 another instance
 * holds it.
 */
export const RENEW_LEASES = `local out = {}
for i = 1, #KEYS, 2 do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    out[#out + 1] = 1
  elseif not v then
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
    out[#out + 1] = redis.call('EXISTS', KEYS[i + 1]) == 1 and 2 or 3
  else
    out[#out + 1] = 0
  end
end
return out`;

export type LeaseRenewal = 'held' | 'retaken' | 'retaken-entry-lost' | 'lost';
export const LEASE_RENEWALS: LeaseRenewal[] = ['lost', 'held', 'retaken', 'retaken-entry-lost'];

/**
 * Publishes the changes of many calls in one step. KEYS: per call its stream, its line list and its lease. ARGV:
 * the stream's approximate cap, the line list's cap, this instance's id, then per call: '1' when the line list is
 * to be written anew (the store lost it) else '0', the number of new lines n, the stream entry, the n lines. Per
 * call the lines and the entry land together, so a reader's catch-up (list + newest entry) never splits them.
 * A call whose lease is not this instance's is left untouched (fenced: an instance cut off for longer than the
 * lease must not write after the call's new owner); the answer lists those calls (1-based, in KEYS order).
 */
export const PUBLISH_CHANGES = `local fenced = {}
local a = 4
local call = 0
for i = 1, #KEYS, 3 do
  call = call + 1
  local n = tonumber(ARGV[a + 1])
  if redis.call('GET', KEYS[i + 2]) ~= ARGV[3] then
    fenced[#fenced + 1] = call
  else
    if ARGV[a] == '1' then redis.call('DEL', KEYS[i + 1]) end
    local first = a + 3
    while first < a + 3 + n do
      local last = math.min(first + 999, a + 2 + n)
      redis.call('RPUSH', KEYS[i + 1], unpack(ARGV, first, last))
      first = last + 1
    end
    if n > 0 then redis.call('LTRIM', KEYS[i + 1], -tonumber(ARGV[2]), -1) end
    redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'd', ARGV[a + 2])
  end
  a = a + 3 + n
end
return fenced`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export async function releaseLease(client: RedisClient, id: string, owner: string): Promise<void> {
  await client.sendCommand(['EVAL', RELEASE, '1', keys.lease(id), owner]);
}

export async function leaseHolder(client: RedisClient, id: string): Promise<string | null> {
  return (await client.sendCommand(['GET', keys.lease(id)])) as string | null;
}
