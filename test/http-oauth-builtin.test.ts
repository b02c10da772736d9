/**
 * The built-in authorization server, driven the way claude.ai and ChatGPT drive it: the MCP SDK client's own OAuth
 * support (a 401, discovery, dynamic registration, PKCE), the operator signing in and consenting through the real
 * pages over HTTP, then tokens: exactly the granted tools, a simulated call placed and read, refresh with rotation,
 * revocation, and a restart that signs nobody out.
 */
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VALID_NUMBER } from './helpers/harness.js';
import { initializeBody, MCP_HEADERS, ok, raw, startHttpHarness, type HttpHarness } from './helpers/http.js';
import { consentInBrowser, Jar, LOOPBACK_CALLBACK, MemoryOAuthProvider } from './helpers/oauth.js';

const PASSWORD = 'operator-passphrase-42';
let h: HttpHarness | undefined;
const dirs: string[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await h?.close();
  h = undefined;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-oauth-'));
  dirs.push(dir);
  return join(dir, 'oauth');
}

async function startBuiltin(dir: string, env: Record<string, string> = {}, port = '0'): Promise<HttpHarness> {
  h = await startHttpHarness({ env: { VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_DATA_DIR: dir, VAPI_MCP_OPERATOR_PASSWORD: PASSWORD, ...env }, http: { port: Number(port) } });
  return h;
}

async function connectWith(provider: MemoryOAuthProvider): Promise<Client> {
  const client = new Client({ name: 'oauth-flow-test', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(h!.url), { authProvider: provider }));
  clients.push(client);
  return client;
}

/** The SDK's way in: a 401 sends it through discovery and registration to the authorization URL. */
async function authorize(provider: MemoryOAuthProvider, grant: string[]): Promise<URL> {
  const transport = new StreamableHTTPClientTransport(new URL(h!.url), { authProvider: provider });
  await expect(new Client({ name: 'oauth-flow-test', version: '0' }).connect(transport)).rejects.toThrow(UnauthorizedError);
  expect(provider.authorizationUrl).toBeDefined();
  const consent = await consentInBrowser(provider.authorizationUrl!, { password: PASSWORD, grant });
  const code = consent.callback.searchParams.get('code');
  expect(code, consent.callback.href).toBeTruthy();
  await transport.finishAuth(code!);
  return consent.callback;
}

describe('the built-in authorization server through the SDK client', () => {
  it('401 → discovery → DCR → PKCE → sign-in and consent → exactly the granted tools → a call → refresh → revoke → 401', async () => {
    await startBuiltin(await dataDir());
    const issuer = new URL(h!.url).origin;
    const provider = new MemoryOAuthProvider('Flow test client');

    const transport = new StreamableHTTPClientTransport(new URL(h!.url), { authProvider: provider });
    await expect(new Client({ name: 'oauth-flow-test', version: '0' }).connect(transport)).rejects.toThrow(UnauthorizedError);
    // The SDK registered itself and was sent to authorize with PKCE S256, for this resource, with our scopes.
    const registered = await provider.clientInformation();
    expect(registered?.client_id).toBeTruthy();
    const authorizationUrl = provider.authorizationUrl!;
    expect(authorizationUrl.origin).toBe(issuer);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('resource')).toBe(h!.server.resource);
    expect(authorizationUrl.searchParams.get('scope')).toBe('calls:read calls:steer calls:dial');

    // The operator sees who asks, where it goes back to and what for, and grants read and dial, not steer.
    const consent = await consentInBrowser(authorizationUrl, { password: PASSWORD, grant: ['calls:read', 'calls:dial'] });
    expect(consent.html).toContain('Flow test client');
    expect(consent.html).toContain('127.0.0.1:9');
    for (const scope of ['calls:read', 'calls:steer', 'calls:dial']) expect(consent.html).toContain(scope);
    expect(consent.callback.origin + consent.callback.pathname).toBe(LOOPBACK_CALLBACK);
    expect(consent.callback.searchParams.get('iss')).toBe(issuer); // RFC 9207
    await transport.finishAuth(consent.callback.searchParams.get('code')!);
    const tokens = (await provider.tokens())!;
    expect(tokens.scope?.split(' ').sort()).toEqual(['calls:dial', 'calls:read']);
    expect(tokens.refresh_token).toBeTruthy();

    const client = await connectWith(provider);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['console_updates', 'create_call', 'get_call', 'list_calls', 'listen_call', 'read_transcript', 'read_transcripts', 'stop_listening', 'transfer_call']);
    const { callId } = await ok<{ callId: string }>(client, 'create_call', { customer: { number: VALID_NUMBER } });
    const read = await ok<{ callId: string }>(client, 'get_call', { callId });
    expect(read.callId).toBe(callId);
    const steer = (await client.callTool({ name: 'end_call', arguments: { callId } })) as CallToolResult;
    expect(JSON.parse((steer.content[0] as { text: string }).text)).toMatchObject({ code: 'insufficient-scope' });

    // Refresh: a new pair (rotation), with the same scopes.
    await auth(provider, { serverUrl: h!.url });
    const refreshed = (await provider.tokens())!;
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.scope?.split(' ').sort()).toEqual(['calls:dial', 'calls:read']);
    expect((await initialize(refreshed.access_token)).status).toBe(200);

    // Another client cannot revoke this one's tokens.
    const other = await raw(`${issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [LOOPBACK_CALLBACK], token_endpoint_auth_method: 'none' }) });
    await postForm(`${issuer}/oauth/revoke`, { token: refreshed.refresh_token!, client_id: JSON.parse(other.body).client_id });
    expect((await initialize(refreshed.access_token)).status).toBe(200);

    // Revoking the refresh token revokes the grant: its still-unexpired access token stops working at once.
    const revoked = await postForm(`${issuer}/oauth/revoke`, { token: refreshed.refresh_token!, client_id: registered!.client_id });
    expect(revoked.status).toBe(200);
    const after = await initialize(refreshed.access_token);
    expect(after.status).toBe(401);
    expect(String(after.headers['www-authenticate'])).toContain('error="invalid_token"');
  });

  it('keeps keys, clients and grants across a restart, in files only the owner can read', async () => {
    const dir = await dataDir();
    await startBuiltin(dir);
    const provider = new MemoryOAuthProvider();
    await authorize(provider, ['calls:read']);
    const port = String(new URL(h!.url).port);
    await h!.close();
    h = undefined;

    await startBuiltin(dir, {}, port);
    const client = await connectWith(provider);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('list_calls');
    const before = (await provider.tokens())!;
    await auth(provider, { serverUrl: h!.url }); // the refresh token (and the client) survived too
    const after = (await provider.tokens())!;
    expect((await initialize(after.access_token)).status).toBe(200);

    // A spent refresh token used again is refused, and (a sign of theft) ends the whole grant.
    const issuer = new URL(h!.url).origin;
    const reuse = await postForm(`${issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: before.refresh_token!, client_id: (await provider.clientInformation())!.client_id });
    expect(reuse.status).toBe(400);
    expect(JSON.parse(reuse.body).error).toBe('invalid_grant');
    expect((await initialize(after.access_token)).status).toBe(401);
    for (const file of ['keys.json', 'records.json']) expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });
});

describe('the operator without a passphrase', () => {
  it('signs in once through the link printed on stderr; the link then is spent and a fresh one printed', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_DATA_DIR: await dataDir() } });
    const links = () => h!.logLines.flatMap((line) => /Operator sign-in \(one use\): (\S+)/.exec(line)?.[1] ?? []);
    expect(links()).toHaveLength(1);
    const provider = new MemoryOAuthProvider();
    const transport = new StreamableHTTPClientTransport(new URL(h.url), { authProvider: provider });
    await expect(new Client({ name: 'link', version: '0' }).connect(transport)).rejects.toThrow(UnauthorizedError);

    // Before signing in, the page asks for the link and offers no way to allow.
    const jar = new Jar();
    await expect(consentInBrowser(provider.authorizationUrl!, { grant: ['calls:read'], jar })).rejects.toThrow(/HTTP 401/);
    const signIn = await raw(links()[0]!);
    expect(signIn.status).toBe(200);
    jar.take(signIn);
    expect((await raw(links()[0]!)).status).toBe(403);
    expect(links()).toHaveLength(2);

    // A consent form posted from another site is refused at the door.
    const fromElsewhere = await raw(`${new URL(h.url).origin}/oauth/interaction/x`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() }, body: 'action=allow&scope=calls:read' });
    expect(fromElsewhere.status).toBe(403);

    const consent = await consentInBrowser(provider.authorizationUrl!, { grant: ['calls:read'], jar });
    await transport.finishAuth(consent.callback.searchParams.get('code')!);
    expect((await provider.tokens())!.scope).toBe('calls:read');
    expect(h.logLines.some((line) => line.includes('vapi_mcp_operator='))).toBe(false);
  });
});

describe('a client named by its Client ID Metadata Document', () => {
  it('needs no registration: the server fetches the document the test serves, and the flow completes', async () => {
    const clientId = 'https://client.test/oauth/client.json';
    const documentServer = createServer((req, res) => {
      if (req.url !== '/oauth/client.json') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        client_id: clientId,
        client_name: 'Metadata document client',
        redirect_uris: [LOOPBACK_CALLBACK],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }));
    });
    await new Promise<void>((resolve) => documentServer.listen(0, '127.0.0.1', resolve));
    const local = `http://127.0.0.1:${(documentServer.address() as AddressInfo).port}`;
    const fetched: string[] = [];
    // https://client.test is this local server; everything else oidc-provider asked for would be a surprise.
    const oauthFetch = ((url: string | URL, init: RequestInit & { dispatcher?: unknown }) => {
      const target = new URL(String(url));
      fetched.push(target.href);
      if (target.origin !== 'https://client.test') return Promise.reject(new Error(`unexpected fetch of ${target.href}`));
      const { dispatcher: _ssrfGuard, ...rest } = init;
      return fetch(`${local}${target.pathname}`, rest);
    }) as typeof fetch;
    try {
      h = await startHttpHarness({ env: { VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_DATA_DIR: await dataDir(), VAPI_MCP_OPERATOR_PASSWORD: PASSWORD }, oauthFetch });
      const discovery = JSON.parse((await raw(`${new URL(h.url).origin}/.well-known/oauth-authorization-server`)).body);
      expect(discovery.client_id_metadata_document_supported).toBe(true);
      expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
      expect(discovery.authorization_response_iss_parameter_supported).toBe(true);

      const provider = new MemoryOAuthProvider('ignored: the document names the client', LOOPBACK_CALLBACK, clientId);
      const transport = new StreamableHTTPClientTransport(new URL(h.url), { authProvider: provider });
      await expect(new Client({ name: 'cimd', version: '0' }).connect(transport)).rejects.toThrow(UnauthorizedError);
      expect(provider.authorizationUrl!.searchParams.get('client_id')).toBe(clientId);
      const consent = await consentInBrowser(provider.authorizationUrl!, { password: PASSWORD, grant: ['calls:read'] });
      expect(consent.html).toContain('Metadata document client');
      await transport.finishAuth(consent.callback.searchParams.get('code')!);
      expect(fetched).toContain(clientId);

      const client = await connectWith(provider);
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['console_updates', 'get_call', 'list_calls', 'listen_call', 'read_transcript', 'read_transcripts', 'stop_listening']);
    } finally {
      await new Promise<void>((resolve) => documentServer.close(() => resolve()));
    }
  });
});

describe('behind a TLS-terminating proxy', () => {
  it('names the public https URL everywhere, whatever the proxy forwards', async () => {
    await startBuiltin(await dataDir(), { VAPI_MCP_PUBLIC_URL: 'https://calls.example.com/mcp' });
    const origin = new URL(h!.url).origin;
    const asProxied = { host: 'calls.example.com', 'x-forwarded-proto': 'http' };
    const resource = JSON.parse((await raw(`${origin}/.well-known/oauth-protected-resource/mcp`, { headers: asProxied })).body);
    expect(resource.resource).toBe('https://calls.example.com/mcp');
    expect(resource.authorization_servers).toEqual(['https://calls.example.com']);
    const metadata = JSON.parse((await raw(`${origin}/.well-known/oauth-authorization-server`, { headers: asProxied })).body);
    expect(metadata.issuer).toBe('https://calls.example.com');
    for (const key of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint', 'jwks_uri']) {
      expect(metadata[key], key).toMatch(/^https:\/\/calls\.example\.com\/oauth\//);
    }
    const challenge = await raw(h!.url, { method: 'POST', headers: { ...MCP_HEADERS, ...asProxied }, body: initializeBody() });
    expect(String(challenge.headers['www-authenticate'])).toContain('resource_metadata="https://calls.example.com/.well-known/oauth-protected-resource/mcp"');
  });
});

describe('what the built-in server refuses', () => {
  it('registration with a redirect URI that is neither https nor loopback http', async () => {
    await startBuiltin(await dataDir());
    const issuer = new URL(h!.url).origin;
    for (const redirect of ['http://calls.example.com/cb', 'myapp://callback', 'javascript:alert(1)']) {
      const res = await raw(`${issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none' }) });
      expect(res.status, redirect).toBe(400);
      expect(JSON.parse(res.body).error, redirect).toMatch(/invalid_redirect_uri|invalid_client_metadata/);
    }
    for (const redirect of ['https://claude.ai/api/mcp/auth_callback', 'https://chatgpt.com/connector_platform_oauth_redirect', 'http://127.0.0.1:33418/callback', 'http://localhost:6274/oauth/callback']) {
      const res = await raw(`${issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'ok', redirect_uris: [redirect], token_endpoint_auth_method: 'none' }) });
      expect(res.status, `${redirect}: ${res.body}`).toBe(201);
    }
  });

  it('authorization without PKCE, or with plain', async () => {
    await startBuiltin(await dataDir());
    const issuer = new URL(h!.url).origin;
    const reg = await raw(`${issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://claude.ai/api/mcp/auth_callback'], token_endpoint_auth_method: 'none' }) });
    const clientId = JSON.parse(reg.body).client_id as string;
    const verifier = randomBytes(32).toString('base64url');
    const base = { client_id: clientId, response_type: 'code', redirect_uri: 'https://claude.ai/api/mcp/auth_callback', scope: 'calls:read', resource: h!.server.resource!, state: 's1' };
    const cases: Record<string, Record<string, string>> = {
      'no PKCE': base,
      plain: { ...base, code_challenge: verifier, code_challenge_method: 'plain' },
    };
    for (const [what, params] of Object.entries(cases)) {
      const res = await raw(`${issuer}/oauth/authorize?${new URLSearchParams(params)}`);
      expect(res.status, what).toBe(303);
      const back = new URL(String(res.headers.location));
      expect(back.origin + back.pathname, what).toBe('https://claude.ai/api/mcp/auth_callback');
      expect(back.searchParams.get('error'), what).toBe('invalid_request');
    }
    // With S256 the same request goes on to the operator's page.
    const s256 = createHash('sha256').update(verifier).digest('base64url');
    const res = await raw(`${issuer}/oauth/authorize?${new URLSearchParams({ ...base, code_challenge: s256, code_challenge_method: 'S256' })}`);
    expect(String(res.headers.location)).toMatch(/^\/oauth\/interaction\//);
  });

  it('a token for another resource, and a consent without the passphrase', async () => {
    await startBuiltin(await dataDir());
    const issuer = new URL(h!.url).origin;
    const provider = new MemoryOAuthProvider();
    const transport = new StreamableHTTPClientTransport(new URL(h!.url), { authProvider: provider });
    await expect(new Client({ name: 't', version: '0' }).connect(transport)).rejects.toThrow(UnauthorizedError);
    const elsewhere = new URL(provider.authorizationUrl!);
    elsewhere.searchParams.set('resource', 'https://other.example/mcp');
    const refused = await raw(elsewhere.href);
    expect(new URL(String(refused.headers.location)).searchParams.get('error')).toBe('invalid_target');

    await expect(consentInBrowser(provider.authorizationUrl!, { password: 'not-the-passphrase', grant: ['calls:read'] })).rejects.toThrow(/HTTP 401/);
    const denied = await consentInBrowser(provider.authorizationUrl!, { password: PASSWORD, grant: ['calls:read'], action: 'deny' });
    expect(denied.callback.searchParams.get('error')).toBe('access_denied');
    expect(issuer).toBeTruthy();
  });
});

function initialize(token: string) {
  return raw(h!.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: initializeBody() });
}

function postForm(url: string, form: Record<string, string>) {
  return raw(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
}
