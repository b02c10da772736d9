/**
 * The HTTP face as an OAuth resource server, against a stand-in external issuer whose keys the test holds: the
 * Protected Resource Metadata, the 401 and 403 challenges, every way a token can be wrong, rights by scope in
 * tools/list and tools/call, key rotation, and the static token beside OAuth.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT, base64url, type JWTPayload } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../src/config.js';
import { loadHttpOptions } from '../src/transports/http-options.js';
import { VALID_NUMBER } from './helpers/harness.js';
import { initializeBody, MCP_HEADERS, ok, raw, startHttpHarness, type HttpHarness } from './helpers/http.js';
import { startFakeIssuer, type FakeIssuer } from './helpers/oauth.js';

const ALL = 'calls:read calls:steer calls:dial';
const STATIC_TOKEN = 'static-token-0123456789abcdef';
let h: HttpHarness | undefined;
let issuer: FakeIssuer | undefined;
const clients: Client[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await h?.close();
  await issuer?.close();
  h = undefined;
  issuer = undefined;
});

async function start(env: Record<string, string> = {}): Promise<{ h: HttpHarness; issuer: FakeIssuer }> {
  issuer = await startFakeIssuer();
  h = await startHttpHarness({ env: { VAPI_MCP_OAUTH_ISSUER: issuer.issuer, ...env } });
  return { h, issuer };
}

function claims(overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer!.issuer, aud: h!.server.resource, sub: 'person-1', client_id: 'client-1', scope: ALL, iat: now, exp: now + 300, ...overrides };
}

function initialize(token?: string) {
  return raw(h!.url, { method: 'POST', headers: { ...MCP_HEADERS, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: initializeBody() });
}

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'oauth-resource-test', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(h!.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  clients.push(client);
  return client;
}

describe('Protected Resource Metadata', () => {
  it('is served at the path form and the root form, naming this resource, its issuer and scopes', async () => {
    await start();
    const origin = new URL(h!.url).origin;
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await raw(`${origin}${path}`, { headers: { origin: 'https://claude.ai' } });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({
        resource: h!.server.resource,
        authorization_servers: [issuer!.issuer],
        scopes_supported: ['calls:read', 'calls:steer', 'calls:dial'],
        bearer_methods_supported: ['header'],
        resource_name: expect.any(String),
      });
    }
    // Other paths under the origin are not metadata, and MCP keeps refusing a foreign Origin.
    expect((await raw(`${origin}/.well-known/oauth-protected-resource/other`)).status).toBe(404);
    expect((await raw(h!.url, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'https://evil.example' }, body: initializeBody() })).status).toBe(403);
  });
});

describe('tokens at the door', () => {
  it('answers no token with 401 pointing at the resource metadata and naming the scopes', async () => {
    await start();
    const res = await initialize();
    expect(res.status).toBe(401);
    const challenge = String(res.headers['www-authenticate']);
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`resource_metadata="${new URL(h!.url).origin}/.well-known/oauth-protected-resource/mcp"`);
    expect(challenge).toContain(`scope="${ALL}"`);
  });

  it('accepts a token from the issuer for this resource, and refuses each wrong one with 401 invalid_token', async () => {
    const { issuer: idp } = await start();
    expect((await initialize(await idp.sign(claims()))).status).toBe(200);

    const now = Math.floor(Date.now() / 1000);
    const good = await idp.sign(claims());
    const [header, payload, signature] = good.split('.');
    const tampered = `${header}.${base64url.encode(JSON.stringify({ ...claims(), sub: 'someone-else' }))}.${signature}`;
    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${payload}.`;
    const hmacWithPublicKey = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).sign(new TextEncoder().encode(JSON.stringify(await (await fetch(`${idp.issuer}/jwks`)).json())));
    const wrong: Record<string, string> = {
      'wrong audience': await idp.sign(claims({ aud: 'https://other.example/mcp' })),
      'a token for another resource on this host': await idp.sign(claims({ aud: new URL('/other', h!.url).href })),
      'no audience': await idp.sign(claims({ aud: undefined })),
      'wrong issuer': await idp.sign(claims({ iss: 'https://idp.example' })),
      expired: await idp.sign(claims({ iat: now - 600, exp: now - 120 })),
      'not yet valid': await idp.sign(claims({ nbf: now + 300 })),
      'tampered payload': tampered,
      'alg none': unsigned,
      'HS256 keyed with the public key': hmacWithPublicKey,
      'not a JWT': 'opaque-token-that-is-not-a-jwt',
    };
    for (const [what, token] of Object.entries(wrong)) {
      const res = await initialize(token);
      expect(res.status, what).toBe(401);
      expect(String(res.headers['www-authenticate']), what).toContain('error="invalid_token"');
      expect(res.body, what).not.toContain(token);
    }
    expect(h!.logLines.some((line) => line.includes(good) || line.includes(tampered))).toBe(false);
  });

  it('accepts a small clock skew but not more', async () => {
    const { issuer: idp } = await start();
    const now = Math.floor(Date.now() / 1000);
    expect((await initialize(await idp.sign(claims({ exp: now - 5 })))).status).toBe(200);
    expect((await initialize(await idp.sign(claims({ exp: now - 60 })))).status).toBe(401);
  });

  it('answers a token with none of its scopes with 403 insufficient_scope naming the scope', async () => {
    const { issuer: idp } = await start();
    const res = await initialize(await idp.sign(claims({ scope: 'openid profile' })));
    expect(res.status).toBe(403);
    const challenge = String(res.headers['www-authenticate']);
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="calls:read"');
    expect(challenge).toContain('resource_metadata=');
  });

  it('fetches the keys again for a key id it has not seen (a rotation), at most once per cooldown', async () => {
    const { issuer: idp } = await start();
    expect((await initialize(await idp.sign(claims()))).status).toBe(200);
    expect((await initialize(await idp.sign(claims()))).status).toBe(200);
    expect(idp.jwksFetches).toBe(1);
    const kid = await idp.rotate();
    // Right after a fetch, an unknown key id does not make the server fetch again (a flood of made-up kids
    // cannot turn it against the issuer)...
    expect((await initialize(await idp.sign(claims(), { kid }))).status).toBe(401);
    // ...once the 30 s cooldown has passed, it does, and the new key is accepted.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 31_000);
      expect((await initialize(await idp.sign(claims(), { kid }))).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
    expect(idp.jwksFetches).toBe(2);
  });
});

describe('opaque tokens (introspection)', () => {
  it('asks the issuer about a token that is not a JWT, checks its answer like a JWT, and remembers a yes briefly', async () => {
    const { issuer: idp } = await start({ VAPI_MCP_OAUTH_CLIENT_ID: 'rs-client', VAPI_MCP_OAUTH_CLIENT_SECRET: 'rs-secret' });
    const now = Math.floor(Date.now() / 1000);
    const answer = (overrides: Record<string, unknown> = {}) => ({ active: true, iss: idp.issuer, aud: h!.server.resource, sub: 'person-1', client_id: 'c', scope: 'calls:read', exp: now + 300, ...overrides });
    idp.opaque.set('opaque-good', answer());
    idp.opaque.set('opaque-other-audience', answer({ aud: 'https://other.example/mcp' }));
    idp.opaque.set('opaque-other-issuer', answer({ iss: 'https://idp.example' }));
    idp.opaque.set('opaque-expired', answer({ exp: now - 120 }));
    idp.opaque.set('opaque-no-scope', answer({ scope: 'profile' }));

    expect((await initialize('opaque-good')).status).toBe(200);
    expect((await initialize('opaque-good')).status).toBe(200);
    expect(idp.introspections).toBe(1);
    for (const token of ['opaque-other-audience', 'opaque-other-issuer', 'opaque-expired', 'opaque-unknown']) {
      expect((await initialize(token)).status, token).toBe(401);
    }
    expect((await initialize('opaque-no-scope')).status).toBe(403);
    expect(h!.logLines.some((line) => line.includes('rs-secret') || line.includes('opaque-good'))).toBe(false);
  });

  it('refuses an opaque token when this server has no credentials to ask the issuer', async () => {
    const { issuer: idp } = await start();
    idp.opaque.set('opaque-good', { active: true, iss: idp.issuer, aud: h!.server.resource, sub: 'p', scope: 'calls:read' });
    expect((await initialize('opaque-good')).status).toBe(401);
    expect(idp.introspections).toBe(0);
  });
});

describe('rights by scope', () => {
  it('lists only the tools the scopes allow, and answers the others in the envelope naming the missing scope', async () => {
    const { issuer: idp } = await start({ VAPI_MCP_TOKEN: STATIC_TOKEN });
    const reader = await connect(await idp.sign(claims({ scope: 'calls:read' })));
    const readTools = (await reader.listTools()).tools.map((t) => t.name).sort();
    expect(readTools).toEqual(['console_updates', 'get_call', 'list_calls', 'listen_call', 'read_transcript', 'read_transcripts', 'stop_listening']);
    const refused = (await reader.callTool({ name: 'create_call', arguments: { customer: { number: VALID_NUMBER } } })) as CallToolResult;
    expect(refused.isError).toBe(true);
    const envelope = JSON.parse((refused.content[0] as { text: string }).text);
    expect(envelope).toMatchObject({ status: 'error', code: 'insufficient-scope', retryable: false });
    expect(envelope.reason).toContain('calls:dial');
    expect(h!.sim.requests).toHaveLength(0);

    const steerer = await connect(await idp.sign(claims({ scope: 'calls:read calls:steer' })));
    const steerTools = (await steerer.listTools()).tools.map((t) => t.name);
    expect(steerTools).toEqual(expect.arrayContaining(['inject_say', 'end_call', 'end_all_calls', 'set_mute', 'add_message']));
    expect(steerTools).not.toContain('create_call');
    expect(steerTools).not.toContain('transfer_call');

    const dialer = await connect(await idp.sign(claims({ scope: 'calls:dial' })));
    expect((await dialer.listTools()).tools.map((t) => t.name).sort()).toEqual(['create_call', 'transfer_call']);

    // The console shows each connection only the controls its scopes allow.
    const { callId } = await ok<{ callId: string }>(dialer, 'create_call', { customer: { number: VALID_NUMBER } });
    expect((await ok<{ controls: unknown }>(reader, 'console_updates', { callId })).controls).toEqual({ steer: false, transfer: false });
    expect((await ok<{ controls: unknown }>(steerer, 'console_updates', { callId })).controls).toEqual({ steer: true, transfer: false });

    // The static token keeps every right beside OAuth.
    const operator = await connect(STATIC_TOKEN);
    expect((await operator.listTools()).tools).toHaveLength(14);
  });

  it('keeps a session with the principal that opened it, and refuses a token with fewer scopes than the session', async () => {
    const { issuer: idp } = await start();
    const full = await idp.sign(claims());
    const init = await initialize(full);
    const sessionId = String(init.headers['mcp-session-id']);
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });
    const sessionHeaders = (token: string) => ({ ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25', authorization: `Bearer ${token}` });
    const stranger = await idp.sign(claims({ sub: 'person-2' }));
    expect((await raw(h!.url, { method: 'POST', headers: sessionHeaders(stranger), body: ping })).status).toBe(404);
    const narrower = await raw(h!.url, { method: 'POST', headers: sessionHeaders(await idp.sign(claims({ scope: 'calls:read' }))), body: ping });
    expect(narrower.status).toBe(403);
    expect(String(narrower.headers['www-authenticate'])).toContain('scope="calls:steer calls:dial"');
  });
});

describe('OAuth settings', () => {
  it('refuses unsafe or contradictory settings, naming the fix', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ VAPI_MCP_OAUTH: 'sometimes' }, /builtin/],
      [{ VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_OAUTH_ISSUER: 'https://idp.example' }, /not both/],
      [{ VAPI_MCP_OAUTH_ISSUER: 'http://idp.example' }, /https/],
      [{ VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_PUBLIC_URL: 'http://calls.example.com/mcp' }, /https/],
      [{ VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_PUBLIC_URL: 'https://calls.example.com/other' }, /\/mcp/],
      [{ VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_HOST: '0.0.0.0' }, /VAPI_MCP_PUBLIC_URL/],
      [{ VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_OPERATOR_PASSWORD: 'short' }, /12 characters/],
    ];
    for (const [env, message] of cases) {
      expect(() => loadHttpOptions(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadHttpOptions(env)).toThrow(message);
    }
    const open = loadHttpOptions({ VAPI_MCP_OAUTH: 'builtin', VAPI_MCP_HOST: '0.0.0.0', VAPI_MCP_PUBLIC_URL: 'https://calls.example.com' });
    expect(open.oauth?.publicUrl?.href).toBe('https://calls.example.com/mcp');
    expect(open.allowedHosts).toContain('calls.example.com');
    expect(open.allowedOrigins).toContain('https://calls.example.com');
  });
});
