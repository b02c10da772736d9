/**
 * What OAuth adds to every HTTP request: checking one access token (signature against the issuer's JWKS, which is
 * fetched once and then cached; issuer, audience, lifetime, scopes). Measured on the very verifier the server uses
 * (dist/), against a local issuer serving its JWKS over HTTP, one check at a time after a warm-up.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TokenVerifier } from '../../src/transports/oauth/token-verifier.js';
import { distribution, type Distribution } from '../lib/stats.js';

export interface TokenCheckResult {
  iterations: number;
  /** Milliseconds per check. */
  latency: Distribution;
  /** Times the verifier fetched the JWKS over the whole run (1 when the cache holds). */
  jwksFetches: number;
}

export async function measureTokenCheck(iterations: number): Promise<TokenCheckResult> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-key', alg: 'ES256', use: 'sig' };
  let jwksFetches = 0;
  const issuerServer = createServer((_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  const audience = 'https://calls.example.com/mcp';
  try {
    const verifier = new TokenVerifier({ issuer, audience, keys: new URL(`${issuer}/jwks`) });
    const token = await new SignJWT({ scope: 'calls:read calls:steer calls:dial', client_id: 'bench' })
      .setProtectedHeader({ alg: 'ES256', kid: 'bench-key', typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject('operator')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const warmUp = Math.min(200, iterations);
    for (let i = 0; i < warmUp; i++) await check(verifier, token);
    const samples: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const started = performance.now();
      await check(verifier, token);
      samples.push(performance.now() - started);
    }
    return { iterations, latency: distribution(samples), jwksFetches };
  } finally {
    await new Promise<void>((resolve) => issuerServer.close(() => resolve()));
  }
}

async function check(verifier: TokenVerifier, token: string): Promise<void> {
  const result = await verifier.verify(token);
  if (!result.ok) throw new Error(`the benchmark token was refused: ${result.reason}`);
}
