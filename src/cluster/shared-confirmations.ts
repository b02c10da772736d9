/**
 * Confirmation tokens shared by a cluster's instances: a token minted on one instance redeems on any other, once.
 * The HMAC secret lives in the store, created by whichever instance needs it first (SET NX) and read by the rest;
 * each issued token's nonce is recorded until it expires, and redeeming claims the nonce with SET NX, so a token
 * confirms one request once across the cluster. The secret never leaves the process's memory except to the store.
 */
import { randomBytes } from 'node:crypto';
import {
  CONFIRMATION_TOKEN_TTL_MS,
  EXPIRED,
  MISMATCH,
  REUSED,
  WRONG,
  formatToken,
  newNonce,
  parseToken,
  signatureFits,
  type ConfirmationStore,
  type TokenVerdict,
} from '../guard/confirmation-token.js';
import { KEY_PREFIX, type ClusterStore } from './store.js';

const SECRET_KEY = `${KEY_PREFIX}{confirm}:secret`;
const nonceKey = (state: 'issued' | 'used', nonce: string) => `${KEY_PREFIX}{confirm}:${state}:${nonce}`;

export class SharedConfirmationTokens implements ConfirmationStore {
  constructor(private readonly store: ClusterStore, private readonly ttlMs = CONFIRMATION_TOKEN_TTL_MS) {}

  async issue(request: unknown): Promise<{ token: string; expiresAt: string }> {
    const secret = await this.sharedSecret();
    const nonce = newNonce();
    const expiresAt = Date.now() + this.ttlMs;
    await this.store.run((client) => client.set(nonceKey('issued', nonce), '1', { expiration: { type: 'PXAT', value: expiresAt } }));
    return formatToken(secret, nonce, expiresAt, request);
  }

  async redeem(token: string, request: unknown): Promise<TokenVerdict> {
    const parsed = parseToken(token);
    if (!parsed) return WRONG;
    const { nonce, expiresAt, signature } = parsed;
    const secret = await this.sharedSecret();
    const fits = signatureFits(secret, signature, nonce, expiresAt, request);
    if (Date.now() >= expiresAt) return fits ? EXPIRED : WRONG;
    const [issued, used] = await this.store.run((client) => Promise.all([client.exists(nonceKey('issued', nonce)), client.exists(nonceKey('used', nonce))]));
    if (issued === 0) return WRONG;
    if (used === 1) return REUSED;
    if (!fits) return MISMATCH;
    const claimed = await this.store.run((client) =>
      client.set(nonceKey('used', nonce), '1', { condition: 'NX', expiration: { type: 'PXAT', value: expiresAt } }),
    );
    return claimed === null ? REUSED : { ok: true };
  }

  /**
   * The cluster's secret: made by the first instance that needs it, then the same for all. Read each time (tokens
   * are rare), so every instance agrees on it even after a Redis without persistence restarted empty.
   */
  private sharedSecret(): Promise<Buffer> {
    return this.store.run(async (client) => {
      let value = await client.get(SECRET_KEY);
      if (!value) {
        await client.set(SECRET_KEY, randomBytes(32).toString('base64'), { condition: 'NX' });
        value = await client.get(SECRET_KEY);
      }
      if (!value) throw new Error('no secret');
      return Buffer.from(value, 'base64');
    });
  }
}
