/**
 * MCP over Streamable HTTP against the simulator, over real sockets: several sessions on one server, per-session
 * subscriptions, resumable notification streams, the door (Host/Origin, token, body size, CORS), rate limits,
 * idle expiry, dropped connections and shutdown.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { BoundedEventStore } from '../src/transports/event-store.js';
import { loadHttpOptions } from '../src/transports/http-options.js';
import { until, VALID_NUMBER, type TranscriptRead } from './helpers/harness.js';
import { initializeBody, MCP_HEADERS, ok, openSse, raw, startHttpHarness, type HttpHarness, type SseEvent } from './helpers/http.js';
import { readWav } from './helpers/wav.js';

const TOKEN = 'test-token-0123456789abcdef';
let h: HttpHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function place(client: Client, args: Record<string, unknown> = {}): Promise<string> {
  return (await ok<{ callId: string }>(client, 'create_call', { customer: { number: VALID_NUMBER }, ...args })).callId;
}

async function followToEnd(client: Client, callId: string): Promise<TranscriptRead> {
  let sinceSeq: number | undefined;
  for (;;) {
    const read = await ok<TranscriptRead>(client, 'read_transcript', { callId, waitSeconds: 2, ...(sinceSeq ? { sinceSeq } : {}) });
    sinceSeq = read.nextSeq;
    if (read.ended) return read;
  }
}

/** A session opened by hand: its id and a way to send it JSON-RPC. */
async function rawSession(url: string, headers: Record<string, string> = {}) {
  const init = await raw(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: initializeBody() });
  expect(init.status).toBe(200);
  const sessionId = init.headers['mcp-session-id'] as string;
  const sessionHeaders = { ...MCP_HEADERS, ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  const notified = await raw(url, { method: 'POST', headers: sessionHeaders, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  expect(notified.status).toBe(202);
  let nextId = 10;
  return {
    sessionId,
    headers: sessionHeaders,
    /** One request; the JSON-RPC response from its SSE stream. */
    async request(method: string, params: Record<string, unknown>): Promise<{ result?: any; error?: any }> {
      const id = nextId++;
      const res = await raw(url, { method: 'POST', headers: sessionHeaders, body: JSON.stringify({ jsonrpc: '2.0', id, method, params }) });
      const messages = res.body
        .split('\n')
        .filter((line) => line.startsWith('data: ') && line.length > 7)
        .map((line) => JSON.parse(line.slice(6)));
      const reply = messages.find((m) => m.id === id);
      if (!reply) throw new Error(`no response to ${method}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      return reply;
    },
  };
}

function seqOf(event: SseEvent): number {
  return Number(event.id!.split('_')[0]);
}

describe('HTTP sessions sharing calls', () => {
  it('two sessions watch one call through one listen socket; one ends it and the other sees it end', async () => {
    // The call stays up after its script, so end_call always finds it live, however slowly the test runs.
    h = await startHttpHarness({ sim: { speed: 20, hangupAfterScript: false } });
    const alice = await h.connect();
    const bob = await h.connect();
    const callId = await place(alice);
    await ok(bob, 'listen_call', { callId });
    const bobSees = followToEnd(bob, callId);
    await until(() => (h!.transcriptEvents.get(callId) ?? 0) >= 2, 10_000, 'the conversation to start');

    const ended = await ok<{ callId: string }>(alice, 'end_call', { callId });
    expect(ended.callId).toBe(callId);
    const last = await bobSees;
    expect(last.ended).toBe(true);
    expect(h.maxListenSockets.get(callId)).toBe(1);
    await until(async () => JSON.parse((await raw(h!.url.replace('/mcp', '/healthz'))).body).liveListeners === 0, 10_000, 'the listener to finish');
  });

  it('sends resources/updated only to the sessions subscribed to that call', async () => {
    h = await startHttpHarness({ sim: { speed: 40 } });
    const subscriber = await h.connect();
    const bystander = await h.connect();
    const counts = new Map<Client, number>([
      [subscriber, 0],
      [bystander, 0],
    ]);
    for (const client of [subscriber, bystander]) {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => void counts.set(client, counts.get(client)! + 1));
    }
    const callId = await place(subscriber);
    await subscriber.subscribeResource({ uri: `vapi://calls/${callId}/transcript` });
    // The bystander follows the same call by polling, without subscribing.
    await followToEnd(bystander, callId);
    await until(() => counts.get(subscriber)! > 2, 10_000, 'updates for the subscriber');
    expect(counts.get(bystander)).toBe(0);
  });

  it('mirrors the server log to each session, but never the sessions\' own comings and goings', async () => {
    h = await startHttpHarness({ sim: { speed: 40 } });
    const watcher = await h.connect();
    const messages: string[] = [];
    watcher.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      const data = n.params.data as { message?: string } | string;
      messages.push(typeof data === 'string' ? data : (data.message ?? ''));
    });
    await watcher.setLoggingLevel('debug');
    const other = await h.connect(); // its "session opened" line, with its address, is for the operator only
    await place(other);
    await until(() => messages.includes('call placed'), 10_000, 'the call-placed log line at the watching session');
    expect(h.logLines.some((line) => line.includes('HTTP session opened'))).toBe(true);
    expect(messages.filter((m) => m.startsWith('HTTP session'))).toEqual([]);
  });

  it('a dropped notification stream resumed with Last-Event-ID misses nothing', async () => {
    h = await startHttpHarness({ sim: { speed: 20 } });
    const owner = await h.connect();
    const callId = await place(owner);
    const session = await rawSession(h.url);
    expect((await session.request('resources/subscribe', { uri: `vapi://calls/${callId}/transcript` })).result).toEqual({});

    const getHeaders = { accept: 'text/event-stream', 'mcp-session-id': session.sessionId, 'mcp-protocol-version': '2025-11-25' };
    const first = await openSse(h.url, getHeaders);
    expect(first.status).toBe(200);
    const before = [await first.next(), await first.next()];
    first.drop();
    // The call goes on while the client is away: enough transcript events that updates were due meanwhile.
    const eventsAtDrop = h.transcriptEvents.get(callId) ?? 0;
    await until(() => (h!.transcriptEvents.get(callId) ?? 0) >= eventsAtDrop + 3, 10_000, 'transcript events during the gap');

    const resumed = await openSse(h.url, { ...getHeaders, 'last-event-id': before.at(-1)!.id! });
    expect(resumed.status).toBe(200);
    const after = [await resumed.next(), await resumed.next(), await resumed.next()];
    resumed.drop();

    // The session sent nothing but this stream's notifications, so its event numbers run without a gap.
    const seqs = [...before, ...after].map(seqOf);
    expect(seqs).toEqual(seqs.map((_s, i) => seqs[0]! + i));
    for (const event of after) expect(JSON.parse(event.data).method).toMatch(/^notifications\//);
    await ok(owner, 'end_call', { callId });
  });

  it('a client killing its connections mid-stream leaves the recording untouched', async () => {
    h = await startHttpHarness({ sim: { speed: 20 } });
    const session = await rawSession(h.url);
    const placed = await session.request('tools/call', { name: 'create_call', arguments: { customer: { number: VALID_NUMBER } } });
    const callId = placed.result.structuredContent.callId as string;
    await until(() => (h!.transcriptEvents.get(callId) ?? 0) >= 1, 10_000, 'the call to start talking');

    // Kill the notification stream and a long-poll in flight.
    const stream = await openSse(h.url, { accept: 'text/event-stream', 'mcp-session-id': session.sessionId });
    await stream.next();
    stream.drop();
    const poll = await openSse(h.url, session.headers, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'read_transcript', arguments: { callId, waitSeconds: 20, sinceSeq: 10_000 } } }),
    });
    expect(poll.status).toBe(200);
    poll.drop();

    const wavPath = join(h.recordingsDir, `${callId}.wav`);
    await until(() => h!.sim.getCall(callId)?.status === 'ended' || undefined, 20_000, 'the call to end');
    await until(() => {
      const sent = h!.sim.audioBytesSent(callId);
      return sent > 0 && readWav(wavPath).dataSize === sent;
    }, 10_000, 'every audio byte on disk');
    expect(readWav(wavPath).dataIsLast).toBe(true);
  });

  it('shutdown finalises the recordings of live calls and closes every session', async () => {
    h = await startHttpHarness({ sim: { speed: 1, ringMs: 0, answerMs: 0 } });
    const client = await h.connect();
    const ids = [await place(client), await place(client)];
    const paths = ids.map((id) => join(h!.recordingsDir, `${id}.wav`));
    await until(() => paths.every((p) => (readWavSafe(p)?.fileSize ?? 0) > 44 + 3200), 10_000, 'audio on disk');
    // What SIGTERM does (src/transports/http-main.ts): stop the HTTP side, then close the core.
    await h.server.close();
    expect(h.server.sessionCount()).toBe(0);
    await h.core.close();
    for (const path of paths) {
      const wav = readWav(path);
      expect(wav.dataIsLast).toBe(true);
      expect(wav.dataSize).toBeGreaterThan(3200);
      expect(wav.fileSize).toBe(44 + wav.dataSize);
    }
    await expect(raw(h.url.replace('/mcp', '/healthz'))).rejects.toThrow();
  });
});

function readWavSafe(path: string) {
  try {
    return readWav(path);
  } catch {
    return undefined;
  }
}

describe('the door', () => {
  it('answers 403 to a Host or Origin that is not allowed, before anything else', async () => {
    h = await startHttpHarness();
    const port = new URL(h.url).port;
    const refused: Record<string, string>[] = [
      { host: `evil.example:${port}` },
      { host: `127.0.0.1:${port}`, origin: 'http://evil.example' },
      { host: `127.0.0.1:${port}`, origin: 'null' },
    ];
    for (const headers of refused) {
      const res = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: initializeBody() });
      expect(res.status).toBe(403);
      expect(res.headers['mcp-session-id']).toBeUndefined();
    }
    const health = await raw(h.url.replace('/mcp', '/healthz'), { headers: { host: 'evil.example' } });
    expect(health.status).toBe(403);
    // Loopback names and pages pass.
    const allowed: Record<string, string>[] = [{ host: `localhost:${port}` }, { host: `127.0.0.1:${port}`, origin: 'http://localhost:5173' }];
    for (const headers of allowed) {
      const res = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: initializeBody() });
      expect(res.status).toBe(200);
    }
  });

  it('answers CORS only for configured origins', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_ALLOWED_ORIGINS: 'https://console.example.com', VAPI_MCP_ALLOWED_HOSTS: 'mcp.example.com' } });
    const preflight = await raw(h.url, { method: 'OPTIONS', headers: { origin: 'https://console.example.com', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://console.example.com');
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/mcp-session-id/);
    const post = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, host: 'mcp.example.com', origin: 'https://console.example.com' }, body: initializeBody() });
    expect(post.status).toBe(200);
    expect(post.headers['access-control-allow-origin']).toBe('https://console.example.com');
    expect(post.headers['access-control-expose-headers']).toMatch(/mcp-session-id/);
    const loopbackPage = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'http://localhost:3000' }, body: initializeBody() });
    expect(loopbackPage.status).toBe(200);
    expect(loopbackPage.headers['access-control-allow-origin']).toBeUndefined();
    const other = await raw(h.url, { method: 'OPTIONS', headers: { origin: 'https://other.example.com' } });
    expect(other.status).toBe(403);
  });

  it('believes X-Forwarded-Host only when told to trust the proxy', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_TRUST_PROXY: '1', VAPI_MCP_ALLOWED_HOSTS: 'mcp.example.com' } });
    const forged = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, 'x-forwarded-host': 'evil.example' }, body: initializeBody() });
    expect(forged.status).toBe(403);
    const proxied = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, 'x-forwarded-host': 'mcp.example.com' }, body: initializeBody() });
    expect(proxied.status).toBe(200);
    await h.close();
    h = await startHttpHarness();
    const ignored = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, 'x-forwarded-host': 'evil.example' }, body: initializeBody() });
    expect(ignored.status).toBe(200);
  });

  it('requires the bearer token when one is set: 401 with WWW-Authenticate, never logged', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_TOKEN: TOKEN } });
    const missing = await raw(h.url, { method: 'POST', headers: MCP_HEADERS, body: initializeBody() });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer /);
    const wrong = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}x` }, body: initializeBody() });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    const short = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: 'Bearer x' }, body: initializeBody() });
    expect(short.status).toBe(401);
    for (const res of [missing, wrong, short]) expect(res.body).not.toContain(TOKEN);

    const client = await h.connect({ authorization: `Bearer ${TOKEN}` });
    const calls = await ok<{ calls: unknown[] }>(client, 'list_calls');
    expect(Array.isArray(calls.calls)).toBe(true);
    expect(h.logLines.some((line) => line.includes('missing or wrong bearer token'))).toBe(true);
    // close() checks that the token never reached the log.
  });

  it('refuses to start on an address that is not loopback without a token', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
      expect(() => loadHttpOptions({ VAPI_MCP_HOST: host })).toThrow(ConfigError);
    }
    expect(() => loadHttpOptions({ VAPI_MCP_HOST: '0.0.0.0', VAPI_MCP_TOKEN: 'short' })).toThrow(/at least 16/);
    expect(loadHttpOptions({ VAPI_MCP_HOST: '0.0.0.0', VAPI_MCP_TOKEN: TOKEN }).token).toBe(TOKEN);
    expect(loadHttpOptions({ VAPI_MCP_HOST: '127.0.0.2' }).token).toBeUndefined();
  });

  it('refuses an oversized body with 413, with or without Content-Length', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_MAX_BODY_BYTES: '65536' } });
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { padding: 'x'.repeat(200_000) } });
    const declared = await raw(h.url, { method: 'POST', headers: MCP_HEADERS, body: big });
    expect(declared.status).toBe(413);
    const chunked = await raw(h.url, { method: 'POST', headers: MCP_HEADERS, body: big, chunked: true });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error.message).toMatch(/65536 bytes/);
    expect(h.server.sessionCount()).toBe(0);
  });

  it('limits tool calls per session with the failure envelope the model can act on', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_TOOL_CALLS_PER_MINUTE: '3' } });
    const busy = await h.connect();
    const other = await h.connect();
    for (let i = 0; i < 3; i++) await ok(busy, 'list_calls');
    const refused = (await busy.callTool({ name: 'list_calls', arguments: {} })) as CallToolResult;
    expect(refused.isError).toBe(true);
    const failure = JSON.parse((refused.content[0] as { text: string }).text);
    expect(failure).toMatchObject({ status: 'error', code: 'rate-limited', retryable: true });
    expect(failure.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await ok(other, 'list_calls'); // the limit is per session
  });
});

describe('session lifecycle', () => {
  it('expires idle sessions; their id then gets 404', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_SESSION_IDLE_SECONDS: '1' } });
    const session = await rawSession(h.url);
    expect(h.server.sessionCount()).toBe(1);
    await until(() => h!.server.sessionCount() === 0, 10_000, 'the idle session to expire');
    const res = await raw(h.url, { method: 'POST', headers: session.headers, body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }) });
    expect(res.status).toBe(404);
  });

  it('refuses sessions beyond the cap with 503 and Retry-After', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_MAX_SESSIONS: '1' } });
    await rawSession(h.url);
    const second = await raw(h.url, { method: 'POST', headers: MCP_HEADERS, body: initializeBody() });
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('30');
    expect(h.server.sessionCount()).toBe(1);
  });

  it('GET /healthz reports counts and nothing secret', async () => {
    h = await startHttpHarness({ env: { VAPI_MCP_TOKEN: TOKEN } });
    await h.connect({ authorization: `Bearer ${TOKEN}` });
    const res = await raw(h.url.replace('/mcp', '/healthz'));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ status: 'ok', sessions: 1, liveListeners: 0, simulated: false });
    expect(Object.keys(body).sort()).toEqual(['liveListeners', 'sessions', 'simulated', 'status', 'version']);
    const stray = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
    expect(stray.status).toBe(400);
    const unknown = await raw(h.url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}`, 'mcp-session-id': 'nope' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
    expect(unknown.status).toBe(404);
  });
});

describe('BoundedEventStore', () => {
  const note = (n: number) => ({ jsonrpc: '2.0' as const, method: 'notifications/message', params: { n } });

  it('replays what followed a cursor on the same stream only, and forgets the oldest beyond its bound', async () => {
    const store = new BoundedEventStore(3);
    const a1 = await store.storeEvent('a', note(1));
    await store.storeEvent('b', note(2));
    await store.storeEvent('a', note(3));
    await store.storeEvent('a', note(4));
    const replayed: number[] = [];
    expect(await store.replayEventsAfter(a1, { send: async (_id, m) => void replayed.push((m as any).params.n) })).toBe('a');
    expect(replayed).toEqual([3, 4]);
    await store.storeEvent('a', note(5)); // evicts 2 (b)
    expect(store.size).toBe(3);
    expect(await store.getStreamIdForEventId('99_a')).toBeUndefined(); // never issued
    expect(await store.getStreamIdForEventId('garbage')).toBeUndefined();
  });
});
