/**
 * External-issuer mode, end to end: a second process (the built dist/index.js) runs the built-in authorization
 * server as "another issuer", allowed to issue tokens for this server's URL; this server trusts it through
 * VAPI_MCP_OAUTH_ISSUER alone. The SDK client finds the issuer through this server's resource metadata, registers
 * and signs in there, and comes back with a token this server checks against the issuer's published keys.
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until, VALID_NUMBER } from './helpers/harness.js';
import { ok, startHttpHarness, type HttpHarness } from './helpers/http.js';
import { consentInBrowser, MemoryOAuthProvider } from './helpers/oauth.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn.js';

const PASSWORD = 'other-issuer-passphrase';
let h: HttpHarness | undefined;
let issuerProcess: SpawnedServer | undefined;
let dir: string | undefined;
const clients: Client[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await h?.close();
  if (issuerProcess) {
    issuerProcess.child.kill('SIGTERM');
    await issuerProcess.exit();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  h = issuerProcess = dir = undefined;
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('an external issuer (the built-in server of another process)', () => {
  it('is found through the resource metadata, and its tokens for this server open exactly the granted tools', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-oauth-external-'));
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/mcp`;
    issuerProcess = spawnServer(['--http', '--port', '0', '--oauth', 'builtin', '--simulate'], {
      VAPI_RECORDINGS_DIR: join(dir, 'issuer-recordings'),
      VAPI_MCP_DATA_DIR: join(dir, 'issuer-oauth'),
      VAPI_MCP_OPERATOR_PASSWORD: PASSWORD,
      VAPI_MCP_OAUTH_OTHER_RESOURCES: resource,
    }, dir);
    let issuer = '';
    await until(() => Boolean((issuer = /ready on (http:\/\/[^/\s]+)\/mcp/.exec(issuerProcess!.stderr())?.[1] ?? '')), 15_000, 'the issuer process to be ready');

    h = await startHttpHarness({ env: { VAPI_MCP_OAUTH_ISSUER: issuer }, http: { port } });
    expect(h.server.resource).toBe(resource);
    const provider = new MemoryOAuthProvider('External flow client');
    const transport = new StreamableHTTPClientTransport(new URL(h.url), { authProvider: provider });
    await expect(new Client({ name: 'external-flow', version: '0' }).connect(transport)).rejects.toThrow(UnauthorizedError);
    expect(provider.authorizationUrl!.origin).toBe(issuer);
    expect(provider.authorizationUrl!.searchParams.get('resource')).toBe(resource);

    const consent = await consentInBrowser(provider.authorizationUrl!, { password: PASSWORD, grant: ['calls:read', 'calls:dial'] });
    expect(consent.html).toContain(resource);
    expect(consent.callback.searchParams.get('iss')).toBe(issuer);
    await transport.finishAuth(consent.callback.searchParams.get('code')!);

    const client = new Client({ name: 'external-flow', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(h.url), { authProvider: provider }));
    clients.push(client);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('create_call');
    expect(names).not.toContain('end_call');
    const { callId } = await ok<{ callId: string }>(client, 'create_call', { customer: { number: VALID_NUMBER } });
    expect((await ok<{ callId: string }>(client, 'get_call', { callId })).callId).toBe(callId);

    // The issuer's token is for this server only: the issuer's own MCP endpoint refuses it.
    const token = (await provider.tokens())!.access_token;
    const atIssuer = await fetch(`${issuer}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(atIssuer.status).toBe(401);
  });
});
