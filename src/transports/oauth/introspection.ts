/**
 * Opaque (non-JWT) access tokens of an external issuer, checked by token introspection (RFC 7662) when the issuer
 * offers it and this server has credentials there (VAPI_MCP_OAUTH_CLIENT_ID / _SECRET). The answer must say the
 * token is active, was issued by the issuer, for this server (aud), and has not expired. Positive answers are kept
 * for up to a minute (never past the token's expiry), keyed by a hash of the token, so a busy session costs the
 * issuer one request a minute, not one per MCP message.
 */
import { createHash } from 'node:crypto';
import { scopesOf } from '../../mcp/rights.js';
import { CLOCK_TOLERANCE_SECONDS, type TokenCheck } from './token-verifier.js';

const CACHE_SECONDS = 60;
const MAX_CACHED = 1000;

export interface IntrospectionOptions {
  endpoint: string;
  issuer: string;
  audience: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
}

export function introspector(options: IntrospectionOptions): (token: string) => Promise<TokenCheck> {
  const cache = new Map<string, { check: TokenCheck; until: number }>();
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;

  return async (token) => {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = cache.get(key);
    if (cached && cached.until > Date.now()) return cached.check;
    cache.delete(key);

    let answer: Record<string, unknown>;
    try {
      const res = await (options.fetch ?? fetch)(options.endpoint, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(5_000),
        redirect: 'error',
      });
      if (!res.ok) return { ok: false, reason: `the issuer's introspection answered HTTP ${res.status}` };
      answer = (await res.json()) as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'the issuer could not be asked about the token' };
    }
    const check = judge(answer, options);
    if (check.ok) {
      const exp = typeof answer.exp === 'number' ? answer.exp * 1000 : Infinity;
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
      cache.set(key, { check, until: Math.min(Date.now() + CACHE_SECONDS * 1000, exp) });
    }
    return check;
  };
}

function judge(answer: Record<string, unknown>, { issuer, audience }: IntrospectionOptions): TokenCheck {
  if (answer.active !== true) return { ok: false, reason: 'the issuer says the token is not active' };
  if (answer.iss !== undefined && answer.iss !== issuer) return { ok: false, reason: "the token's iss claim is not accepted here" };
  const aud = Array.isArray(answer.aud) ? answer.aud : [answer.aud];
  if (!aud.includes(audience)) return { ok: false, reason: "the token's aud claim is not accepted here" };
  if (typeof answer.exp === 'number' && answer.exp + CLOCK_TOLERANCE_SECONDS < Date.now() / 1000) return { ok: false, reason: 'the token has expired' };
  const clientId = typeof answer.client_id === 'string' ? answer.client_id : undefined;
  const scp = Array.isArray(answer.scp) ? answer.scp.join(' ') : '';
  return {
    ok: true,
    token: {
      principal: JSON.stringify([issuer, String(answer.sub ?? ''), clientId ?? '']),
      rights: scopesOf(`${typeof answer.scope === 'string' ? answer.scope : ''} ${scp}`),
      clientId,
      payload: answer,
    },
  };
}
