/**
 * Idempotency keys shared by a cluster's instances: the first instance to claim a key (SET NX with a TTL) places
 * the call; the same key sent to another instance meanwhile waits for that placement and gets its call, or, after
 * it, gets the call at once. A placement whose outcome is unknown leaves the key marked uncertain, so a retry on
 * any instance asks Vapi before placing.
 */
import { randomUUID } from 'node:crypto';
import { UNTRACKED_CALL_HOLD_MS } from '../guard/limits.js';
import type { Logger } from '../log.js';
import { COMPARE_AND_SET, KEY_PREFIX, type ClusterStore } from './store.js';

/** How long a key names its call: as long as IdempotencyKeys remembers one. */
export const KEY_TTL_MS = 24 * 60 * 60_000;

export type SharedKeyState =
  | { state: 'placed'; callId: string }
  /** Another request (maybe on another instance) is placing with this key now. */
  | { state: 'placing' }
  | { state: 'uncertain'; since: number };

/** A claim on a key, settled once with what became of the placement. */
export interface KeyClaim {
  placed(callId: string): Promise<void>;
  /** Nothing was placed: the key is free again. */
  release(): Promise<void>;
  /** A call may exist: a retry with the key asks Vapi first (requests started at `since`, epoch ms). */
  uncertain(since: number): Promise<void>;
}

const keyOf = (key: string) => `${KEY_PREFIX}{idem}:${key}`;

export class SharedIdempotencyKeys {
  private readonly compareAndSet;

  constructor(private readonly store: ClusterStore, private readonly logger: Logger) {
    this.compareAndSet = store.script(COMPARE_AND_SET);
  }

  async lookup(key: string): Promise<SharedKeyState | undefined> {
    const value = await this.store.run((client) => client.get(keyOf(key)));
    return value ? parseState(value) : undefined;
  }

  /** Takes the key for one placement; undefined when it is already taken (placing, placed or uncertain). */
  async claim(key: string): Promise<KeyClaim | undefined> {
    const mine = `placing:${randomUUID()}`;
    // An instance that dies mid-placement leaves the key claimed as long as an untraceable call holds its slot.
    const taken = await this.store.run((client) =>
      client.set(keyOf(key), mine, { condition: 'NX', expiration: { type: 'PX', value: UNTRACKED_CALL_HOLD_MS } }),
    );
    if (taken === null) return undefined;
    const settle = (value: string) =>
      this.compareAndSet([keyOf(key)], [mine, value, value ? KEY_TTL_MS : '']).then(
        () => undefined,
        () => this.logger.warn('cluster store unreachable; an idempotency key is settled when its claim expires'),
      );
    return {
      placed: (callId) => settle(`placed:${callId}`),
      release: () => settle(''),
      uncertain: (since) => settle(`uncertain:${since}`),
    };
  }

  /** Replaces an uncertain mark once Vapi was asked: the call found, or nothing placed (deleted). */
  async resolveUncertain(key: string, since: number, callId: string | undefined): Promise<void> {
    await this.compareAndSet([keyOf(key)], [`uncertain:${since}`, callId ? `placed:${callId}` : '', callId ? KEY_TTL_MS : '']);
  }
}

function parseState(value: string): SharedKeyState {
  if (value.startsWith('placed:')) return { state: 'placed', callId: value.slice('placed:'.length) };
  if (value.startsWith('uncertain:')) return { state: 'uncertain', since: Number(value.slice('uncertain:'.length)) };
  return { state: 'placing' };
}
