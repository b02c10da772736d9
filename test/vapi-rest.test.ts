import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, MockAgent, type Dispatcher } from 'undici';
import { backoffDelay, parseRetryAfter } from '../src/vapi/http.js';
import { DEFAULT_RETRY, InvalidCallIdError, VapiRestClient, type RestClientOptions } from '../src/vapi/rest.js';
import { vapiFailure } from './helpers/errors.js';
import { captureLogger, startScriptedServer, type Reply, type ScriptedServer } from './helpers/scripted-http.js';
import { EVENTUALLY } from './helpers/wait.js';

const KEY = 'sk-private-4f1b9c2e-test-key';
const CALL_ID = '7420f27a-0000-4000-8000-000000000001';
const OTHER_ID = '7420f27a-0000-4000-8000-000000000002';
const FAST_RETRY = { baseDelayMs: 2, maxDelayMs: 20, maxTotalMs: 5000 };

function callJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: CALL_ID,
    orgId: 'org-1',
    createdAt: '2024-09-10T11:14:12.339Z',
    updatedAt: '2024-09-10T11:14:12.339Z',
    status: 'queued',
    ...overrides,
  };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
const text =
  (status: number, body: string): Reply =>
  (res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  };
const resetConnection: Reply = (_res, req) => req.socket.destroy();
const hang: Reply = () => {};

/** Counts dispatches, i.e. attempts, even those that never reach a server. */
class CountingAgent extends Agent {
  dispatches = 0;
  override dispatch(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.dispatches++;
    return super.dispatch(options, handler);
  }
}

let agent: CountingAgent;
let log: ReturnType<typeof captureLogger>;
beforeEach(() => {
  agent = new CountingAgent();
  log = captureLogger();
});
afterEach(async () => {
  await agent.destroy();
});

function client(server: ScriptedServer, options: Partial<RestClientOptions> = {}): VapiRestClient {
  return new VapiRestClient({
    baseUrl: server.url,
    apiKey: KEY,
    dispatcher: agent,
    logger: log.logger,
    retry: FAST_RETRY,
    ...options,
  });
}


describe('VapiRestClient requests', () => {
  it('createCall POSTs the body as JSON to /call with the exact headers and returns the call with unknown fields kept', async () => {
    const server = await startScriptedServer(json(201, callJson({ subscriptionLimits: { concurrencyLimit: 10 } })));
    const body = {
      assistantId: 'asst-1',
      phoneNumberId: 'pn-1',
      customer: { number: '+15550100' },
      assistantOverrides: { metadata: { ticket: 42 } },
    };
    const call = await client(server).createCall(body);

    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/call');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.accept).toBe('application/json');
    const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
    expect(request.headers['user-agent']).toBe(`vapi-call-mcp/${version}`);
    expect(JSON.parse(request.body)).toEqual(body);
    expect(call.id).toBe(CALL_ID);
    expect((call as Record<string, unknown>).subscriptionLimits).toEqual({ concurrencyLimit: 10 });
  });

  it('getCall uses GET on /call/{id}', async () => {
    const server = await startScriptedServer(json(200, callJson()));
    const vapi = client(server, { userAgent: 'custom-agent/1' });

    await vapi.getCall(CALL_ID);

    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([`GET /call/${CALL_ID} `]);
    expect(server.requests[0].headers['content-type']).toBeUndefined();
    for (const request of server.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(request.headers['user-agent']).toBe('custom-agent/1');
    }
  });

  it('listCalls sends every filter as a query parameter with its value unchanged, and nothing else', async () => {
    const server = await startScriptedServer(json(200, [callJson(), callJson({ id: OTHER_ID })]));
    const filters = {
      id: CALL_ID,
      assistantId: 'asst-1',
      phoneNumberId: 'pn-1',
      limit: 25,
      createdAtGt: '2024-01-01T00:00:00.000Z',
      createdAtLt: '2024-02-01T00:00:00+02:00',
      createdAtGe: '2024-01-02',
      createdAtLe: '2024-01-03T10:00:00Z',
      updatedAtGt: '2024-03-01T00:00:00.000Z',
      updatedAtLt: '2024-03-02T00:00:00.000Z',
      updatedAtGe: '2024-03-03T00:00:00-05:00',
      updatedAtLe: '2024-03-04T00:00:00.123Z',
    };
    const calls = await client(server).listCalls(filters);

    expect(calls.map((c) => c.id)).toEqual([CALL_ID, OTHER_ID]);
    const url = new URL(server.requests[0].url, server.url);
    expect(url.pathname).toBe('/call');
    expect(Object.fromEntries(url.searchParams)).toEqual({ ...filters, limit: '25' });
    expect([...url.searchParams.keys()]).toHaveLength(12);
  });

  it('listCalls skips undefined filters and ignores keys Vapi does not know', async () => {
    const server = await startScriptedServer(json(200, []));
    const vapi = client(server);
    await vapi.listCalls();
    await vapi.listCalls({ limit: 5, assistantId: undefined, page: '2' } as never);
    expect(server.requests.map((r) => r.url)).toEqual(['/call', '/call?limit=5']);
  });

  it('tolerates a trailing slash on the base URL', async () => {
    const server = await startScriptedServer(json(200, []));
    await new VapiRestClient({ baseUrl: `${server.url}/`, apiKey: KEY, dispatcher: agent }).listCalls();
    expect(server.requests[0].url).toBe('/call');
  });

  it('refuses a non-uuid call id before any request', async () => {
    const server = await startScriptedServer(json(200, callJson()));
    const vapi = client(server);
    await expect(vapi.getCall('../assistant')).rejects.toBeInstanceOf(InvalidCallIdError);
    await expect(vapi.getCall(`${CALL_ID}/x`)).rejects.toBeInstanceOf(InvalidCallIdError);
    await expect(vapi.getCall('')).rejects.toBeInstanceOf(InvalidCallIdError);
    await expect(vapi.getCall(`${CALL_ID}?id=1`)).rejects.toThrow(/UUID/);
    expect(server.requests).toHaveLength(0);
    expect(agent.dispatches).toBe(0);
  });

  it('maps a 2xx body that is not a Call, or not an array for listCalls, to invalid-response', async () => {
    const server = await startScriptedServer(json(200, { nope: true }), json(200, { calls: [] }), text(200, 'ok'));
    const vapi = client(server);
    expect((await vapiFailure(vapi.getCall(CALL_ID))).kind).toBe('invalid-response');
    expect((await vapiFailure(vapi.listCalls())).kind).toBe('invalid-response');
    const created = await vapiFailure(vapi.createCall({}));
    expect(created.kind).toBe('invalid-response');
    expect(created.operation).toBe('POST /call');
    expect(server.requests).toHaveLength(3);
  });

  it('does not follow redirects, so the key never reaches another host', async () => {
    const elsewhere = await startScriptedServer(json(200, callJson()));
    const server = await startScriptedServer((res) => {
      res.writeHead(302, { location: `${elsewhere.url}/call/${CALL_ID}` });
      res.end();
    });
    const error = await vapiFailure(client(server).getCall(CALL_ID));
    expect(error.status).toBe(302);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('works through an injected MockAgent dispatcher with the network disabled', async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    const pool = mock.get('https://api.vapi.ai');
    pool
      .intercept({
        path: '/call',
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ assistantId: 'asst-1', customer: { number: '+15550100' } }),
      })
      .reply(201, callJson());
    pool.intercept({ path: `/call/${CALL_ID}`, method: 'GET' }).replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    pool.intercept({ path: `/call/${CALL_ID}`, method: 'GET' }).reply(200, callJson({ status: 'ringing' }));

    const vapi = new VapiRestClient({ baseUrl: 'https://api.vapi.ai', apiKey: KEY, dispatcher: mock, retry: FAST_RETRY });
    expect((await vapi.createCall({ assistantId: 'asst-1', customer: { number: '+15550100' } })).id).toBe(CALL_ID);
    expect((await vapi.getCall(CALL_ID)).status).toBe('ringing');
    mock.assertNoPendingInterceptors();
    await mock.close();
  });

  it('rejects a base URL that is not http(s) and an empty key', () => {
    expect(() => new VapiRestClient({ baseUrl: 'ftp://api.vapi.ai', apiKey: KEY })).toThrow(TypeError);
    expect(() => new VapiRestClient({ baseUrl: 'not a url', apiKey: KEY })).toThrow(TypeError);
    expect(() => new VapiRestClient({ baseUrl: 'https://api.vapi.ai', apiKey: '' })).toThrow(TypeError);
  });
});

describe('VapiRestClient errors', () => {
  it('puts a 400 message array in the error, joined with "; ", verbatim', async () => {
    const messages = ['property customer should not exist', 'property assistantOverride should not exist'];
    const server = await startScriptedServer(json(400, { message: messages, error: 'Bad Request', statusCode: 400 }));
    const error = await vapiFailure(client(server).createCall({ customer: {} }));
    expect(error).toMatchObject({ kind: 'http', status: 400, operation: 'POST /call', mayHaveSucceeded: false });
    expect(error.vapiMessage).toBe(messages.join('; '));
    expect(error.message).toContain(messages.join('; '));
    expect(server.requests).toHaveLength(1);
  });

  it('puts a 400 message string in the error verbatim', async () => {
    const message = "Couldn't Get Phone Number. Need Either `phoneNumberId` Or `phoneNumber`.";
    const server = await startScriptedServer(json(400, { message, error: 'Bad Request', statusCode: 400 }));
    const error = await vapiFailure(client(server).createCall({}));
    expect(error.vapiMessage).toBe(message);
    expect(error.message).toContain(message);
  });

  it('maps 401 and 404 with status and message, without retrying', async () => {
    const invalidKey = 'Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.';
    const server = await startScriptedServer(
      json(401, { message: invalidKey, error: 'Unauthorized', statusCode: 401 }),
      json(404, { message: 'Call not found', error: 'Not Found', statusCode: 404 }),
    );
    const vapi = client(server);
    const unauthorized = await vapiFailure(vapi.listCalls());
    expect(unauthorized).toMatchObject({ kind: 'http', status: 401, vapiMessage: invalidKey, operation: 'GET /call' });
    const notFound = await vapiFailure(vapi.getCall(CALL_ID));
    expect(notFound).toMatchObject({ kind: 'http', status: 404, vapiMessage: 'Call not found', operation: 'GET /call/{id}' });
    expect(notFound.message).toContain('not found');
    expect(server.requests).toHaveLength(2);
  });

  it('never lets the key appear in errors or logs, even when the server echoes it back', async () => {
    const server = await startScriptedServer(
      json(401, { message: [`Invalid key ${KEY}`, `Bearer ${KEY}`], error: 'Unauthorized', statusCode: 401 }),
      text(403, `forbidden for ${KEY}`),
    );
    const vapi = client(server);
    const errors = [await vapiFailure(vapi.listCalls()), await vapiFailure(vapi.getCall(CALL_ID))];
    for (const error of errors) {
      expect(error.vapiMessage).toContain('[redacted]');
      for (const text of [error.message, error.vapiMessage, JSON.stringify(error), String(error.stack)]) {
        expect(text).not.toContain(KEY);
      }
    }
    expect(errors[0].vapiMessage).toBe('Invalid key [redacted]; Bearer [redacted]');
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.lines.join('\n')).not.toContain(KEY);
  });

  it('keeps only the start of a long non-JSON error body', async () => {
    const page = `<html>${'x'.repeat(5000)}</html>`;
    const server = await startScriptedServer(text(502, page));
    const error = await vapiFailure(client(server, { retry: { maxAttempts: 1 } }).getCall(CALL_ID));
    expect(error.status).toBe(502);
    expect(error.vapiMessage?.startsWith('<html>xxx')).toBe(true);
    expect(error.vapiMessage!.length).toBeLessThan(400);
  });
});

describe('VapiRestClient retries', () => {
  it('retries GET on 503 and then succeeds, logging a warning with reason and delay', async () => {
    const server = await startScriptedServer(json(503, { message: 'busy' }), json(503, { message: 'busy' }), json(200, callJson()));
    const call = await client(server).getCall(CALL_ID);
    expect(call.id).toBe(CALL_ID);
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
    const warnings = log.lines.filter((line) => line.startsWith('warn'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/retrying GET \/call\/\{id\}.*"reason":"HTTP 503".*"delayMs":\d+/);
  });

  it('gives up after maxAttempts with the last status', async () => {
    const server = await startScriptedServer(json(500, { message: 'boom' }));
    const error = await vapiFailure(client(server, { retry: { ...FAST_RETRY, maxAttempts: 3 } }).listCalls());
    expect(error).toMatchObject({ kind: 'http', status: 500, vapiMessage: 'boom' });
    expect(server.requests).toHaveLength(3);
  });

  it('retries 408 and 429, and connection resets, on GET', async () => {
    const server = await startScriptedServer(json(408, {}), json(429, {}), resetConnection, json(200, []));
    expect(await client(server).listCalls({ limit: 1 })).toEqual([]);
    expect(server.requests).toHaveLength(4);
  });

  it('does not retry other 4xx', async () => {
    const server = await startScriptedServer(json(422, { message: 'nope' }), json(200, callJson()));
    expect((await vapiFailure(client(server).getCall(CALL_ID))).status).toBe(422);
    expect(server.requests).toHaveLength(1);
  });

  it('honours Retry-After in seconds even when the backoff would be shorter', async () => {
    const server = await startScriptedServer(json(429, { message: 'slow down' }, { 'retry-after': '1' }), json(200, callJson()));
    await client(server, { retry: { baseDelayMs: 1, maxDelayMs: 2000, maxTotalMs: 5000 } }).getCall(CALL_ID);
    expect(server.requests).toHaveLength(2);
    // The gap is measured between arrivals at the server, so it also contains the second request's transit.
    expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(1000);
  });

  it('fails at once, carrying retryAfterSeconds, when Retry-After exceeds the remaining budget', async () => {
    const server = await startScriptedServer(json(429, { message: 'slow down' }, { 'retry-after': '30' }), json(200, callJson()));
    // Waiting the 30 s would run into the test's timeout.
    const error = await vapiFailure(client(server, { retry: { baseDelayMs: 1, maxDelayMs: 60000, maxTotalMs: 20000 } }).getCall(CALL_ID));
    expect(error).toMatchObject({ kind: 'http', status: 429, retryAfterSeconds: 30, vapiMessage: 'slow down' });
    expect(server.requests).toHaveLength(1);
  });

  it('fails at once when Retry-After exceeds maxDelayMs (waiting less would only be refused again)', async () => {
    const server = await startScriptedServer(json(503, {}, { 'retry-after': '30' }), json(200, callJson()));
    const error = await vapiFailure(client(server, { retry: { maxDelayMs: 2000, maxTotalMs: 60000 } }).getCall(CALL_ID));
    expect(error.retryAfterSeconds).toBe(30);
    expect(server.requests).toHaveLength(1);
  });

  it('never retries POST /call after a 5xx: one request, mayHaveSucceeded', async () => {
    const server = await startScriptedServer(json(500, { message: 'system failure' }), json(201, callJson()));
    const error = await vapiFailure(client(server).createCall({ assistantId: 'a' }));
    expect(error).toMatchObject({ kind: 'http', status: 500, mayHaveSucceeded: true, vapiMessage: 'system failure' });
    expect(server.requests).toHaveLength(1);
    expect(agent.dispatches).toBe(1);
  });

  it('never retries POST /call after a 503 with Retry-After: 0', async () => {
    const server = await startScriptedServer(json(503, {}, { 'retry-after': '0' }), json(201, callJson()));
    expect((await vapiFailure(client(server).createCall({}))).mayHaveSucceeded).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('never retries POST /call after a connection reset: one attempt, mayHaveSucceeded', async () => {
    const server = await startScriptedServer(resetConnection, json(201, callJson()));
    const error = await vapiFailure(client(server).createCall({ assistantId: 'a' }));
    expect(error).toMatchObject({ kind: 'network', mayHaveSucceeded: true, operation: 'POST /call' });
    expect(server.requests).toHaveLength(1);
    expect(agent.dispatches).toBe(1);
  });

  it('marks a refused connection on POST /call as not having reached Vapi, and does not retry it', async () => {
    const closed = await startScriptedServer(json(201, callJson()));
    const baseUrl = closed.url;
    await closed.close();
    const error = await vapiFailure(
      new VapiRestClient({ baseUrl, apiKey: KEY, dispatcher: agent, logger: log.logger, retry: FAST_RETRY }).createCall({}),
    );
    expect(error).toMatchObject({ kind: 'network', mayHaveSucceeded: false });
    expect(agent.dispatches).toBe(1);
    expect(log.lines.filter((line) => line.startsWith('warn'))).toEqual([]);
  });

  it('retries GET after a refused connection', async () => {
    const closed = await startScriptedServer(json(200, []));
    const baseUrl = closed.url;
    await closed.close();
    const vapi = new VapiRestClient({ baseUrl, apiKey: KEY, dispatcher: agent, retry: { ...FAST_RETRY, maxAttempts: 3 } });
    expect((await vapiFailure(vapi.listCalls())).kind).toBe('network');
    expect(agent.dispatches).toBe(3);
  });

  it('maps a timeout to kind timeout and does not retry POST', async () => {
    const server = await startScriptedServer(hang);
    const started = performance.now();
    const error = await vapiFailure(client(server, { timeoutMs: 100 }).createCall({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(error).toMatchObject({ kind: 'timeout', mayHaveSucceeded: true, operation: 'POST /call' });
    expect(error.message).toContain('timed out');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a GET that timed out', async () => {
    const server = await startScriptedServer(hang, json(200, callJson()));
    expect((await client(server, { timeoutMs: 100 }).getCall(CALL_ID)).id).toBe(CALL_ID);
    expect(server.requests).toHaveLength(2);
  });

  it('keeps all attempts of a GET within maxTotalMs', async () => {
    const server = await startScriptedServer(hang);
    const started = performance.now();
    const error = await vapiFailure(
      client(server, { timeoutMs: 500, retry: { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: 700 } }).getCall(CALL_ID),
    );
    expect(error.kind).toBe('timeout');
    // Two 500 ms attempts fill the 700 ms budget: no third attempt starts (ten were allowed).
    expect(performance.now() - started).toBeGreaterThanOrEqual(690);
    expect(server.requests).toHaveLength(2);
  });

  it('maps a caller abort during the request to kind aborted', async () => {
    const server = await startScriptedServer(hang);
    const controller = new AbortController();
    const pending = vapiFailure(client(server).getCall(CALL_ID, { signal: controller.signal }));
    await server.received(1);
    controller.abort();
    const error = await pending;
    expect(error.kind).toBe('aborted');
    expect(server.requests).toHaveLength(1);
  });

  it('interrupts the wait between retries when the caller aborts', async () => {
    // Waiting out the 60 s Retry-After would run into the test's timeout.
    const server = await startScriptedServer(json(503, {}, { 'retry-after': '60' }), json(200, callJson()));
    const controller = new AbortController();
    const vapi = client(server, { retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 120_000, maxTotalMs: 200_000 } });
    const pending = vapiFailure(vapi.getCall(CALL_ID, { signal: controller.signal }));
    await server.received(1);
    await expect.poll(() => log.lines.some((line) => line.startsWith('warn retrying')), EVENTUALLY).toBe(true);
    controller.abort();
    const error = await pending;
    expect(error.kind).toBe('aborted');
    expect(server.requests).toHaveLength(1);
  });

  it('makes no request when the signal is already aborted', async () => {
    const server = await startScriptedServer(json(200, callJson()));
    const error = await vapiFailure(client(server).getCall(CALL_ID, { signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ kind: 'aborted', mayHaveSucceeded: false });
    expect(agent.dispatches).toBe(0);
  });
});

describe('retry timing helpers', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped by maxDelayMs', () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 10, () => 0)).toBe(500);
  });
});
