/**
 * An external issuer's authorization-server metadata (RFC 8414, then OpenID discovery), fetched once and kept; its
 * `issuer` must be exactly the configured one (a mix-up defence), and it must publish a JWKS.
 */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint?: string;
}

export async function discoverIssuer(issuerText: string, fetchImpl: typeof fetch = fetch): Promise<IssuerMetadata> {
  const issuer = new URL(issuerText);
  const path = issuer.pathname.replace(/\/$/, '');
  const candidates = [
    new URL(`/.well-known/oauth-authorization-server${path}`, issuer),
    new URL(`${path}/.well-known/openid-configuration`, issuer),
    new URL(`/.well-known/openid-configuration${path}`, issuer),
  ];
  const problems: string[] = [];
  for (const url of candidates) {
    try {
      const res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000), redirect: 'error' });
      if (!res.ok) {
        problems.push(`${url.pathname}: HTTP ${res.status}`);
        continue;
      }
      const body = (await res.json()) as Partial<IssuerMetadata>;
      if (body.issuer !== issuerText) {
        throw new Error(`the metadata at ${url.href} names the issuer "${String(body.issuer)}", not ${issuerText}`);
      }
      if (typeof body.jwks_uri !== 'string') throw new Error(`the metadata at ${url.href} has no jwks_uri`);
      const introspection = typeof body.introspection_endpoint === 'string' ? { introspection_endpoint: body.introspection_endpoint } : {};
      return { issuer: body.issuer, jwks_uri: body.jwks_uri, ...introspection };
    } catch (err) {
      if ((err as Error).message.startsWith('the metadata')) throw err;
      problems.push(`${url.pathname}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no authorization-server metadata found for ${issuer.href} (${problems.join('; ')})`);
}
