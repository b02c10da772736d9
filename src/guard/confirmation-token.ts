/**
 * Confirmation tokens: proof that a human saw one exact request and agreed to it.
 *
 * A token is issued for a normalised request (for create_call: the exact POST /call body) and is accepted once,
 * for that same request, within its lifetime (5 minutes). It is bound to the request by an HMAC under a secret
 * made fresh for each process, so a token cannot be forged, carried over to another request, or survive a
 * restart. Tokens are bearer secrets: they must never be logged.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CONFIRMATION_TOKEN_TTL_MS = 5 * 60_000;
/** Outstanding tokens kept at most; the oldest are forgotten first (they then read as wrong). */
const MAX_OUTSTANDING = 1000;

export type TokenRefusal = {
  ok: false;
  code: 'confirmation-token-wrong' | 'confirmation-token-reused' | 'confirmation-token-expired' | 'confirmation-token-mismatch';
  reason: string;
};
export type TokenVerdict = { ok: true } | TokenRefusal;

export interface ConfirmationTokensOptions {
  ttlMs?: number;
  now?: () => number;
  /** Tests only; a real server always draws a fresh secret. */
  secret?: Buffer;
}

type Awaitable<T> = T | Promise<T>;

/** Confirmation tokens held in this process (ConfirmationTokens) or shared by a cluster's instances (src/cluster). */
export interface ConfirmationStore {
  issue(request: unknown): Awaitable<{ token: string; expiresAt: string }>;
  redeem(token: string, request: unknown): Awaitable<TokenVerdict>;
}

export const WRONG: TokenRefusal = {
  ok: false,
  code: 'confirmation-token-wrong',
  reason: 'The confirmation token is not one this server issued (or the server restarted since).',
};
export const EXPIRED: TokenRefusal = { ok: false, code: 'confirmation-token-expired', reason: 'The confirmation token expired (tokens last 5 minutes).' };

interface Outstanding {
  expiresAt: number;
  used: boolean;
}

export class ConfirmationTokens implements ConfirmationStore {
  private readonly secret: Buffer;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** By nonce. Used tokens stay until they expire so a second use reads as "reused", not "wrong". */
  private readonly outstanding = new Map<string, Outstanding>();

  constructor(options: ConfirmationTokensOptions = {}) {
    this.secret = options.secret ?? randomBytes(32);
    this.ttlMs = options.ttlMs ?? CONFIRMATION_TOKEN_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** A token for exactly this request, and when it expires. */
  issue(request: unknown): { token: string; expiresAt: string } {
    this.prune();
    const nonce = newNonce();
    const expiresAt = this.now() + this.ttlMs;
    this.outstanding.set(nonce, { expiresAt, used: false });
    while (this.outstanding.size > MAX_OUTSTANDING) this.outstanding.delete(this.outstanding.keys().next().value as string);
    return formatToken(this.secret, nonce, expiresAt, request);
  }

  /** Accepts the token once for exactly the request it was issued for; says which way it is wrong otherwise. */
  redeem(token: string, request: unknown): TokenVerdict {
    const parsed = parseToken(token);
    if (!parsed) return WRONG;
    const { nonce, expiresAt, signature } = parsed;
    const entry = this.outstanding.get(nonce);
    if (!entry) {
      // Forgotten after expiry: a genuine signature still tells an expired token from a wrong one.
      const genuine = signatureFits(this.secret, signature, nonce, expiresAt, request);
      return genuine && this.now() >= expiresAt ? EXPIRED : WRONG;
    }
    if (entry.expiresAt !== expiresAt) return WRONG;
    if (entry.used) return REUSED;
    if (this.now() >= entry.expiresAt) return EXPIRED;
    if (!signatureFits(this.secret, signature, nonce, expiresAt, request)) return MISMATCH;
    entry.used = true;
    return { ok: true };
  }

  private prune(): void {
    const now = this.now();
    for (const [nonce, entry] of this.outstanding) if (entry.expiresAt <= now) this.outstanding.delete(nonce);
  }
}

/** JSON with object keys sorted at every level, so equal requests sign equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const REUSED: TokenRefusal = { ok: false, code: 'confirmation-token-reused', reason: 'The confirmation token was already used; each token confirms one request once.' };
export const MISMATCH: TokenRefusal = { ok: false, code: 'confirmation-token-mismatch', reason: 'The request differs from the one the confirmation token was issued for.' };

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The token for `request`: nonce, expiry and an HMAC binding both to the request under `secret`. */
export function formatToken(secret: Buffer, nonce: string, expiresAt: number, request: unknown): { token: string; expiresAt: string } {
  return { token: `${nonce}.${expiresAt.toString(36)}.${signToken(secret, nonce, expiresAt, request)}`, expiresAt: new Date(expiresAt).toISOString() };
}

/** A token's parts, or undefined when it is not shaped like one. */
export function parseToken(token: string): { nonce: string; expiresAt: number; signature: string } | undefined {
  const [nonce, expiry, signature, extra] = token.split('.');
  const expiresAt = expiry ? parseInt(expiry, 36) : NaN;
  if (extra !== undefined || !nonce || !signature || Number.isNaN(expiresAt)) return undefined;
  return { nonce, expiresAt, signature };
}

/** Whether `signature` is this request's HMAC under `secret`, compared in constant time. */
export function signatureFits(secret: Buffer, signature: string, nonce: string, expiresAt: number, request: unknown): boolean {
  return safeEqual(signature, signToken(secret, nonce, expiresAt, request));
}

function signToken(secret: Buffer, nonce: string, expiresAt: number, request: unknown): string {
  return createHmac('sha256', secret).update(`${nonce}\n${expiresAt}\n${canonicalJson(request)}`).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
