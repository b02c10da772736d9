/**
 * Access tokens checked with jose: a JWT signed by the issuer's key (its JWKS, cached and fetched again when a token
 * names a key id it has not seen), from exactly that issuer, for exactly this resource (RFC 8707 audience), inside
 * its lifetime (a small clock tolerance), with an asymmetric algorithm from an allow-list. Never `none`, never HS*.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { scopesOf, type Scope } from '../../mcp/rights.js';

export const ALLOWED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'];
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface VerifiedToken {
  /** Who holds it: issuer, subject and client, so a session stays with the client that opened it. */
  principal: string;
  rights: Set<Scope>;
  clientId?: string;
  payload: JWTPayload;
}

export type TokenCheck = { ok: true; token: VerifiedToken } | { ok: false; reason: string };

export interface TokenVerifierOptions {
  issuer: string;
  /** The canonical URL of this server's MCP endpoint. */
  audience: string;
  /** The issuer's JWKS: a URL fetched and cached, or a key set held in memory (the built-in server). */
  keys: URL | JSONWebKeySet | (() => JSONWebKeySet);
  /** A final check after the signature (the built-in server: is the grant behind the token still there). */
  stillValid?(payload: JWTPayload): Promise<boolean>;
  /** Checks a token that is not a JWT (RFC 7662 introspection), when the issuer offers it. */
  introspect?(token: string): Promise<TokenCheck>;
}

export class TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;

  constructor(private readonly options: TokenVerifierOptions) {
    const { keys } = options;
    if (keys instanceof URL) {
      this.getKey = createRemoteJWKSet(keys, { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 });
    } else if (typeof keys === 'function') {
      let current = keys();
      let local = createLocalJWKSet(current);
      this.getKey = (header, token) => {
        const latest = keys();
        if (latest !== current) [current, local] = [latest, createLocalJWKSet(latest)];
        return local(header, token);
      };
    } else {
      this.getKey = createLocalJWKSet(keys);
    }
  }

  async verify(token: string): Promise<TokenCheck> {
    if (this.options.introspect && token.split('.').length !== 3) return this.options.introspect(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      return { ok: false, reason: describe(err) };
    }
    if (this.options.stillValid && !(await this.options.stillValid(payload))) return { ok: false, reason: 'the grant behind the token was revoked' };
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
    return {
      ok: true,
      token: { principal: JSON.stringify([payload.iss, payload.sub, clientId ?? '']), rights: rightsOf(payload), clientId, payload },
    };
  }
}

/** `scope` (RFC 9068, a space-separated string) or `scp` (an array or string, as Entra and Okta write it). */
function rightsOf(payload: JWTPayload): Set<Scope> {
  const scp = payload.scp;
  const extra = Array.isArray(scp) ? scp.join(' ') : typeof scp === 'string' ? scp : '';
  return scopesOf(`${typeof payload.scope === 'string' ? payload.scope : ''} ${extra}`);
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `the token's ${err.claim} claim is not accepted here`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm not accepted here';
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token was not signed by a key of the issuer';
  if (err instanceof errors.JWKSTimeout || (err as { code?: string }).code === 'ERR_JOSE_GENERIC') return 'the issuer keys could not be fetched';
  if (err instanceof errors.JOSEError) return 'the token is malformed or not a signed JWT';
  return 'the token could not be checked';
}
