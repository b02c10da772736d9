/**
 * Guardrails and secrets through the MCP surface: limits, allow-lists, confirmation by elicitation, and keys
 * that never leave the server even when Vapi echoes them back.
 */
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { follow, startHarness, VALID_NUMBER, type Harness } from './helpers/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const place = (args: Record<string, unknown> = {}) => h.callTool('create_call', { customer: { number: VALID_NUMBER }, ...args });
const postCount = () => h.sim.requests.filter((r) => r.method === 'POST').length;

describe('call limits', () => {
  it('refuses a call over the concurrency limit until a live call ends', async () => {
    h = await startHarness({ env: { VAPI_MAX_CONCURRENT_CALLS: '1' }, sim: { speed: 40, hangupAfterScript: false } });
    const first = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    const refused = await h.err('create_call', { customer: { number: VALID_NUMBER } });
    expect(refused.code).toBe('concurrency');
    expect(refused.retryable).toBe(true);
    expect(refused.suggestion).toContain(first.callId);
    expect(postCount()).toBe(1);

    await follow(h, first.callId, (read) => read.status === 'in-progress');
    await h.ok('end_call', { callId: first.callId });
    await follow(h, first.callId, (read) => read.ended);
    await h.ok('create_call', { customer: { number: VALID_NUMBER } });
    expect(postCount()).toBe(2);
  });

  it('frees slots of calls placed without listening by asking Vapi when the limit bites', async () => {
    h = await startHarness({ env: { VAPI_MAX_CONCURRENT_CALLS: '1' }, sim: { speed: 400 } });
    const first = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    h.sim.hangup(first.callId);
    await h.ok('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(postCount()).toBe(2);
  });

  it('refuses over the hourly limit, saying when a retry can succeed', async () => {
    h = await startHarness({ env: { VAPI_MAX_CALLS_PER_HOUR: '2' } });
    await h.ok('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    await h.ok('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    const refused = await h.err('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(refused.code).toBe('hourly-rate');
    expect(refused.retryAfterSeconds).toBeGreaterThan(3500);
    expect(postCount()).toBe(2);
    // A dry run reports the same refusal: it runs every check.
    expect((await h.err('create_call', { customer: { number: VALID_NUMBER }, dryRun: true })).code).toBe('hourly-rate');
  });
});

describe('dialing policy', () => {
  it('dials nothing when VAPI_ALLOWED_NUMBERS is set but empty', async () => {
    h = await startHarness({ env: { VAPI_ALLOWED_NUMBERS: '' } });
    const refused = await h.err('create_call', { customer: { number: VALID_NUMBER } });
    expect(refused.code).toBe('dialing-disabled');
    expect(refused.retryable).toBe(false);
    expect(h.sim.requests).toHaveLength(0);
  });

  it('dials only allowed numbers and countries', async () => {
    h = await startHarness({ env: { VAPI_ALLOWED_NUMBERS: '+1415*', VAPI_ALLOWED_COUNTRIES: 'US' } });
    expect((await place({ listen: false })).isError).toBeFalsy();
    expect((await h.err('create_call', { customer: { number: '+12015550123' } })).code).toBe('not-allowed');
    expect((await h.err('create_call', { customer: { number: '+442071838750' } })).code).toBe('country-not-allowed');
    expect((await h.err('create_call', { customer: { number: '+19005551234' } })).code).toBe('premium-rate');
    expect((await h.err('create_call', { customer: { number: '4155552671' } })).code).toBe('invalid-format');
    expect(postCount()).toBe(1);
  });
});

describe('confirmation by the human (VAPI_CONFIRM_CALLS)', () => {
  it('asks before placing and before hanging up, and respects a no', async () => {
    const answers: boolean[] = [];
    const questions: string[] = [];
    h = await startHarness({
      env: { VAPI_CONFIRM_CALLS: '1' },
      sim: { hangupAfterScript: false },
      clientCapabilities: { capabilities: { elicitation: {} } },
    });
    h.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      questions.push(request.params.message);
      const yes = answers.shift() ?? false;
      return { action: 'accept', content: { confirm: yes } };
    });

    answers.push(false);
    expect((await h.err('create_call', { customer: { number: VALID_NUMBER } })).code).toBe('declined-by-user');
    expect(postCount()).toBe(0);

    answers.push(true);
    const created = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    expect(questions[1]).toContain(VALID_NUMBER);
    await follow(h, created.callId, (read) => read.status === 'in-progress');

    answers.push(false);
    expect((await h.err('end_call', { callId: created.callId })).code).toBe('declined-by-user');
    expect(h.sim.controlLog).toHaveLength(0);
    answers.push(true);
    await h.ok('end_call', { callId: created.callId });
    expect(h.sim.controlLog.map((c) => c.body)).toEqual([{ type: 'end-call' }]);
  });

  it('places nothing without the token when the client cannot ask: it returns a preview to confirm instead', async () => {
    h = await startHarness({ env: { VAPI_CONFIRM_CALLS: '1' } });
    const pending = await h.ok<{ status: string; confirmationToken: string }>('create_call', { customer: { number: VALID_NUMBER } });
    expect(pending.status).toBe('confirmation-required');
    expect(pending.confirmationToken).toBeTruthy();
    expect(postCount()).toBe(0);
  });
});

describe('secrets', () => {
  let echo: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (echo ? echo.close(resolve) : resolve(undefined)));
    echo = undefined;
  });

  it('masks the key even when Vapi echoes it back in an error', async () => {
    // A Vapi stand-in that quotes the Authorization header in its 400 message.
    echo = createHttpServer((req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: [`bad token ${req.headers.authorization}`], error: 'Bad Request', statusCode: 400 }));
    });
    await new Promise<void>((resolve) => echo!.listen(0, '127.0.0.1', resolve));
    h = await startHarness({ config: { baseUrl: `http://127.0.0.1:${(echo.address() as AddressInfo).port}` } });
    const failure = await h.err('list_calls', {});
    expect(failure.reason).toContain('bad token Bearer [redacted]');
    expect(JSON.stringify(failure)).not.toContain(h.apiKey);
    // h.close() in afterEach also asserts the canary key appears nowhere in traffic or logs.
  });

  it('never shows monitor URLs or keys in results, resources or logs over a whole call', async () => {
    h = await startHarness({ sim: { speed: 100 } });
    const created = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    await follow(h, created.callId, (read) => read.ended);
    await h.ok('get_call', { callId: created.callId });
    await h.ok('list_calls', {});
    await h.client.readResource({ uri: `vapi://calls/${created.callId}/transcript` });
    const everything = [...h.wire, ...h.logLines].join('\n');
    expect(everything).not.toMatch(/\/[0-9a-f-]{36}\/(listen|control)/);
    expect(everything).not.toContain(h.apiKey);
    expect(everything).not.toContain(h.publicKey);
  });
});
