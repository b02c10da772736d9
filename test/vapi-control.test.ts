import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent } from 'undici';
import { VapiError } from '../src/vapi/errors.js';
import { InvalidControlUrlError, VapiControlClient, type ControlClientOptions } from '../src/vapi/control.js';
import { vapiFailure } from './helpers/errors.js';
import { captureLogger, startScriptedServer, type Reply, type ScriptedServer } from './helpers/scripted-http.js';

const CALL_ID = '7420f27a-0000-4000-8000-000000000001';
const PUBLIC_KEY = 'pk-public-8d2e61a0-test-key';

const reply =
  (status: number, body?: string, contentType = 'application/json'): Reply =>
  (res) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': contentType });
    res.end(body);
  };
const ok = reply(200, '{"ok":true}');
const hang: Reply = () => {};

/** The scripted server's URL with a control path, as Vapi hands out. */
async function startControlServer(...replies: Reply[]): Promise<ScriptedServer & { controlUrl: string; bodies(): unknown[] }> {
  const server = await startScriptedServer(...(replies.length > 0 ? replies : [ok]));
  return {
    ...server,
    controlUrl: `${server.url}/${CALL_ID}/control`,
    bodies: () => server.requests.map((r) => JSON.parse(r.body) as unknown),
  };
}

let agent: Agent;
let log: ReturnType<typeof captureLogger>;
beforeEach(() => {
  agent = new Agent();
  log = captureLogger();
});
afterEach(async () => {
  await agent.destroy();
});

function client(options: ControlClientOptions = {}): VapiControlClient {
  return new VapiControlClient({ dispatcher: agent, logger: log.logger, ...options });
}


describe('VapiControlClient message bodies', () => {
  it('say sends content only, adding endCallAfterSpoken and interruptAssistantEnabled only when given', async () => {
    const server = await startControlServer();
    const control = client();
    await control.say(server.controlUrl, { content: 'One moment please.' });
    await control.say(server.controlUrl, { content: 'Goodbye.', endCallAfterSpoken: true });
    await control.say(server.controlUrl, { content: 'Actually', endCallAfterSpoken: false, interruptAssistantEnabled: true });
    await control.say(server.controlUrl, { content: 'x', endCallAfterSpoken: undefined, interruptAssistantEnabled: false });

    expect(server.bodies()).toStrictEqual([
      { type: 'say', content: 'One moment please.' },
      { type: 'say', content: 'Goodbye.', endCallAfterSpoken: true },
      { type: 'say', content: 'Actually', endCallAfterSpoken: false, interruptAssistantEnabled: true },
      { type: 'say', content: 'x', interruptAssistantEnabled: false },
    ]);
    expect(server.requests[0].body).toBe('{"type":"say","content":"One moment please."}');
  });

  it('addMessage, control, endCall and transfer send the documented bare bodies', async () => {
    const server = await startControlServer();
    const control = client();
    await control.addMessage(server.controlUrl, { role: 'system', content: 'The customer is a VIP.' }, false);
    await control.addMessage(server.controlUrl, { role: 'user', content: 'hi' }, true);
    await control.control(server.controlUrl, 'mute-assistant');
    await control.endCall(server.controlUrl);
    await control.transfer(server.controlUrl, { type: 'number', number: '+15550100' }, 'Transferring you now.');
    await control.transfer(server.controlUrl, {
      type: 'sip',
      sipUri: 'sip:desk@example.com',
      transferPlan: { mode: 'warm-transfer-say-summary' },
    });

    expect(server.bodies()).toStrictEqual([
      { type: 'add-message', message: { role: 'system', content: 'The customer is a VIP.' }, triggerResponseEnabled: false },
      { type: 'add-message', message: { role: 'user', content: 'hi' }, triggerResponseEnabled: true },
      { type: 'control', control: 'mute-assistant' },
      { type: 'end-call' },
      { type: 'transfer', destination: { type: 'number', number: '+15550100' }, content: 'Transferring you now.' },
      { type: 'transfer', destination: { type: 'sip', sipUri: 'sip:desk@example.com', transferPlan: { mode: 'warm-transfer-say-summary' } } },
    ]);
    for (const request of server.requests) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe(`/${CALL_ID}/control`);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers.accept).toBe('application/json');
    }
  });

  it('builds messages without undefined optional properties', async () => {
    const server = await startControlServer();
    const control = client();
    const send = vi.spyOn(control, 'send');
    await control.say(server.controlUrl, { content: 'hi' });
    await control.transfer(server.controlUrl, { type: 'number', number: '+15550100' });
    // toStrictEqual fails on a property that is present but undefined (JSON would hide it on the wire).
    expect(send.mock.calls.map((call) => call[1])).toStrictEqual([
      { type: 'say', content: 'hi' },
      { type: 'transfer', destination: { type: 'number', number: '+15550100' } },
    ]);
  });

  it('send posts any control message unchanged', async () => {
    const server = await startControlServer();
    await client().send(server.controlUrl, { type: 'control', control: 'unmute-customer' });
    expect(server.bodies()).toStrictEqual([{ type: 'control', control: 'unmute-customer' }]);
  });
});

describe('VapiControlClient authentication', () => {
  it('sends the public key as a bearer token when configured', async () => {
    const server = await startControlServer();
    await client({ publicKey: PUBLIC_KEY }).endCall(server.controlUrl);
    expect(server.requests[0].headers.authorization).toBe(`Bearer ${PUBLIC_KEY}`);
  });

  it('sends no Authorization header without a public key', async () => {
    const server = await startControlServer();
    await client().endCall(server.controlUrl);
    await client({ publicKey: '' }).endCall(server.controlUrl);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, undefined]);
  });
});

describe('VapiControlClient responses and errors', () => {
  it('returns parsed JSON, text, or undefined for an empty 2xx body', async () => {
    const server = await startControlServer(reply(200, '{"status":"accepted"}'), reply(202, 'queued', 'text/plain'), reply(204));
    const control = client();
    expect(await control.endCall(server.controlUrl)).toEqual({ status: 'accepted' });
    expect(await control.endCall(server.controlUrl)).toBe('queued');
    expect(await control.endCall(server.controlUrl)).toBeUndefined();
  });

  it('maps a non-2xx answer to a VapiError with status and message', async () => {
    const server = await startControlServer(
      reply(400, JSON.stringify({ message: ['type must be one of say, end-call'], error: 'Bad Request', statusCode: 400 })),
      reply(404, JSON.stringify({ message: 'Call not found', error: 'Not Found', statusCode: 404 })),
    );
    const control = client();
    const badRequest = await vapiFailure(control.say(server.controlUrl, { content: 'hi' }));
    expect(badRequest).toMatchObject({ kind: 'http', status: 400, vapiMessage: 'type must be one of say, end-call', operation: 'control say' });
    const notFound = await vapiFailure(control.endCall(server.controlUrl));
    expect(notFound).toMatchObject({ kind: 'http', status: 404, vapiMessage: 'Call not found', operation: 'control end-call' });
    expect(notFound.mayHaveSucceeded).toBe(false);
  });

  it('posts exactly once on a 500, marking that it may have taken effect', async () => {
    const server = await startControlServer(reply(500, '{"message":"boom"}'), ok);
    const error = await vapiFailure(client().say(server.controlUrl, { content: 'hi' }));
    expect(error).toMatchObject({ kind: 'http', status: 500, mayHaveSucceeded: true, vapiMessage: 'boom' });
    expect(server.requests).toHaveLength(1);
  });

  it('posts exactly once on a connection reset', async () => {
    const server = await startControlServer((_res, req) => req.socket.destroy(), ok);
    const error = await vapiFailure(client().endCall(server.controlUrl));
    expect(error).toMatchObject({ kind: 'network', mayHaveSucceeded: true, operation: 'control end-call' });
    expect(server.requests).toHaveLength(1);
  });

  it('times out after timeoutMs without retrying', async () => {
    const server = await startControlServer(hang);
    const error = await vapiFailure(client({ timeoutMs: 100 }).endCall(server.controlUrl));
    expect(error).toMatchObject({ kind: 'timeout', operation: 'control end-call' });
    expect(server.requests).toHaveLength(1);
  });

  it('maps a caller abort to kind aborted', async () => {
    const server = await startControlServer(hang);
    const controller = new AbortController();
    const pending = vapiFailure(client().endCall(server.controlUrl, { signal: controller.signal }));
    await server.received(1);
    controller.abort();
    expect((await pending).kind).toBe('aborted');
  });

  it('keeps the public key and the control URL out of errors even when the server echoes them', async () => {
    const server = await startControlServer(
      reply(401, JSON.stringify({ message: `Invalid Key ${PUBLIC_KEY} for ${'http://127.0.0.1'}` })),
    );
    const error = await vapiFailure(client({ publicKey: PUBLIC_KEY }).endCall(server.controlUrl));
    expect(error.status).toBe(401);
    expect(error.vapiMessage).toContain('[redacted]');
    for (const text of [error.message, error.vapiMessage, JSON.stringify(error)]) expect(text).not.toContain(PUBLIC_KEY);

    const echoed = await startControlServer((res, req) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `unknown call at http://${req.headers.host}${req.url}` }));
    });
    const second = await vapiFailure(client().endCall(echoed.controlUrl));
    expect(second.vapiMessage).toMatch(/^unknown call at \[(redacted|monitor-url)\]$/);
    expect(second.message).not.toContain('/control');
  });
});

describe('VapiControlClient logging and URL handling', () => {
  it('logs the message type and call id but never the control URL', async () => {
    const server = await startControlServer(ok, reply(500, '{}'));
    const control = client({ publicKey: PUBLIC_KEY });
    await control.say(server.controlUrl, { content: 'secret words are fine to send' });
    await vapiFailure(control.endCall(server.controlUrl));

    const logged = log.lines.join('\n');
    expect(log.lines[0]).toBe(`debug control say {"callId":"${CALL_ID}"}`);
    expect(logged).toContain('control end-call');
    expect(logged).not.toContain('127.0.0.1');
    expect(logged).not.toContain('/control');
    expect(logged).not.toContain(PUBLIC_KEY);
  });

  it('logs no id when the control path does not end in <uuid>/control', async () => {
    const server = await startControlServer();
    const tokenUrl = server.controlUrl.replace(`/${CALL_ID}/control`, '/capability-token-abc123/control');
    await client().endCall(tokenUrl);
    expect(server.requests[0].url).toBe('/capability-token-abc123/control');
    expect(log.lines).toEqual(['debug control end-call {}']);
  });

  it('refuses a control URL that is not http(s), without repeating it', async () => {
    const control = client();
    for (const bad of ['not a url', 'wss://example.com/abc/listen', 'file:///etc/passwd']) {
      const error = await control.endCall(bad).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(InvalidControlUrlError);
      expect(error?.message).not.toContain(bad);
    }
    expect(log.lines).toEqual([]);
  });
});
