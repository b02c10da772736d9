/**
 * OAuth test helpers: an SDK OAuthClientProvider that keeps everything in memory and records where it was sent to
 * authorize; a "browser" that signs in and consents through the built-in server's real pages over HTTP (cookies
 * carried by hand, redirects followed by hand); and a stand-in external issuer (metadata + JWKS) whose keys the
 * test holds, to mint tokens right or wrong on purpose.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { raw, type RawResponse } from './http.js';

export const LOOPBACK_CALLBACK = 'http://127.0.0.1:9/oauth/callback';

export class MemoryOAuthProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  private client: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';

  constructor(
    private readonly name = 'Flow test client',
    readonly redirectUrl = LOOPBACK_CALLBACK,
    readonly clientMetadataUrl?: string,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

export interface ConsentPage {
  html: string;
  /** The code and iss the authorization server sent back to the redirect URI, or the error it sent. */
  callback: URL;
}

/** A browser's cookie jar, as much of one as these pages need. */
class Jar {
  private cookies = new Map<string, string>();
  take(res: RawResponse): void {
    const set = res.headers['set-cookie'] ?? [];
    for (const line of Array.isArray(set) ? set : [set]) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      this.cookies.set(name!.trim(), value.join('='));
    }
  }
  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

/**
 * Opens the authorization URL, follows the server's redirects to its sign-in and consent page, submits the form
 * (passphrase, the scopes to grant, allow or deny) and follows redirects until one leaves for the redirect URI.
 */
export async function consentInBrowser(
  authorizationUrl: URL,
  options: { password?: string; grant: string[]; action?: 'allow' | 'deny'; jar?: Jar },
): Promise<ConsentPage> {
  const jar = options.jar ?? new Jar();
  const origin = authorizationUrl.origin;
  let res = await follow(authorizationUrl.href, jar, origin);
  if (res.status !== 200) throw new Error(`the consent page did not open: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  const html = res.body;
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form on the consent page: ${html.slice(0, 300)}`);
  const form = new URLSearchParams();
  if (options.password !== undefined) form.set('password', options.password);
  for (const scope of options.grant) form.append('scope', scope);
  form.set('action', options.action ?? 'allow');
  res = await raw(new URL(action, origin).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(), origin },
    body: form.toString(),
  });
  jar.take(res);
  if (res.status !== 303 && res.status !== 302) throw new Error(`the consent form was refused: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  const callback = await followOut(new URL(String(res.headers.location), origin).href, jar, origin);
  return { html, callback };
}

/** GETs with the jar, following redirects within the server's origin; the first response that is not a redirect. */
async function follow(url: string, jar: Jar, origin: string): Promise<RawResponse> {
  for (let hops = 0; hops < 10; hops++) {
    const res = await raw(url, { headers: { cookie: jar.header() } });
    jar.take(res);
    if (res.status < 300 || res.status >= 400) return res;
    url = new URL(String(res.headers.location), url).href;
    if (!url.startsWith(origin)) throw new Error(`left the server for ${url} before the consent page`);
  }
  throw new Error('too many redirects');
}

/** Follows redirects until one points away from the server (the client's redirect URI). */
async function followOut(url: string, jar: Jar, origin: string): Promise<URL> {
  for (let hops = 0; hops < 10; hops++) {
    if (!url.startsWith(origin)) return new URL(url);
    const res = await raw(url, { headers: { cookie: jar.header() } });
    jar.take(res);
    if (res.status < 300 || res.status >= 400) throw new Error(`expected a redirect, got HTTP ${res.status} ${res.body.slice(0, 300)}`);
    url = new URL(String(res.headers.location), url).href;
  }
  throw new Error('too many redirects');
}

export { Jar };

/** An external issuer stand-in: RFC 8414 metadata and a JWKS on a loopback port; the test signs tokens with its key. */
export interface FakeIssuer {
  issuer: string;
  jwksFetches: number;
  /** Introspection requests answered (RFC 7662; client rs-client / rs-secret). */
  introspections: number;
  /** Opaque tokens the introspection endpoint knows, with what it answers about them. */
  opaque: Map<string, Record<string, unknown>>;
  sign(claims: JWTPayload, options?: { kid?: string; alg?: string }): Promise<string>;
  /** A new signing key published beside the old one (a rotation): tokens name it by a kid never seen before. */
  rotate(): Promise<string>;
  close(): Promise<void>;
}

export async function startFakeIssuer(): Promise<FakeIssuer> {
  const keys: { kid: string; privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"]; publicJwk: JWK }[] = [];
  const addKey = async (kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    keys.push({ kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } });
    return kid;
  };
  await addKey('key-1');
  let issuer = '';
  const state = { jwksFetches: 0, introspections: 0 };
  const opaque = new Map<string, Record<string, unknown>>();
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/oauth-authorization-server') {
      const metadata = { issuer, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, introspection_endpoint: `${issuer}/introspect` };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata));
    } else if (req.url === '/introspect' && req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        state.introspections++;
        if (req.headers.authorization !== `Basic ${Buffer.from('rs-client:rs-secret').toString('base64')}`) return void res.writeHead(401).end();
        const answer = opaque.get(new URLSearchParams(body).get('token') ?? '') ?? { active: false };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    } else if (req.url === '/jwks') {
      state.jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    get jwksFetches() {
      return state.jwksFetches;
    },
    get introspections() {
      return state.introspections;
    },
    opaque,
    async sign(claims, options = {}) {
      const key = keys.find((k) => k.kid === (options.kid ?? 'key-1'))!;
      return new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? 'ES256', kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
    },
    rotate: () => addKey(`key-${keys.length + 1}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
