/** Strict at the door: unknown arguments refused with the nearest valid name, and every failure in the one envelope. */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, VALID_NUMBER, type Harness } from './helpers/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const ANY_CALL_ID = '7420f27a-0000-4000-8000-000000000001';
const ENVELOPE_KEYS = ['code', 'reason', 'retryable', 'status', 'suggestion'];

describe('unknown arguments', () => {
  it('refuses misspelt dryRun instead of placing a real call, naming the right argument', async () => {
    h = await startHarness();
    for (const key of ['dryrun', 'dry_run', 'DryRun', 'dryRn']) {
      const refused = await h.err('create_call', { customer: { number: VALID_NUMBER }, [key]: true });
      expect(refused.code).toBe('unknown-argument');
      expect(refused.reason).toContain(`"${key}" → did you mean "dryRun"?`);
      expect(refused.retryable).toBe(false);
    }
    const nested = await h.err('create_call', { customer: { numbr: VALID_NUMBER, number: VALID_NUMBER } });
    expect(nested.reason).toMatch(/"numbr" → did you mean "number"\? in customer/);
    expect(nested.suggestion).toContain('number, name, extension');
    const inline = await h.err('create_call', { customer: { number: VALID_NUMBER }, assistantOverrides: { firstmessage: 'Hi' } });
    expect(inline.reason).toContain('did you mean "firstMessage"?');
    expect(h.sim.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('refuses an unknown argument in every tool', async () => {
    h = await startHarness();
    const { tools } = await h.client.listTools();
    expect(tools.length).toBeGreaterThan(5);
    for (const tool of tools) {
      const refused = await h.err(tool.name, { callId: ANY_CALL_ID, surpriseArgument: 1 });
      expect({ tool: tool.name, code: refused.code }).toEqual({ tool: tool.name, code: 'unknown-argument' });
    }
    expect(h.sim.requests).toHaveLength(0);
  });

  it('lists input schemas the strictest converters take: typed, closed shapes, no keyword they reject', async () => {
    h = await startHarness();
    const { tools } = await h.client.listTools();
    const problems: string[] = [];
    const visit = (schema: unknown, path: string, isSchema: boolean) => {
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      if (isSchema) {
        for (const keyword of ['additionalProperties', 'propertyNames', 'patternProperties', 'oneOf', 'allOf', 'not', 'if', '$ref']) {
          if (node[keyword] !== undefined) problems.push(`${path}: ${keyword}`);
        }
        // A typeless schema is an open one: OpenAI strict mode cannot take it.
        if (node.type === undefined && node.anyOf === undefined) problems.push(`${path}: no type`);
        if (node.type === 'object' && !node.properties) problems.push(`${path}: object without properties`);
      }
      for (const [key, child] of Object.entries(node)) {
        if (key === 'properties') for (const [name, property] of Object.entries(child as object)) visit(property, `${path}.${name}`, true);
        else if (key === 'items') visit(child, `${path}[]`, true);
        else if (key === 'anyOf') (child as unknown[]).forEach((branch, i) => visit(branch, `${path}|${i}`, true));
      }
    };
    for (const tool of tools) visit(tool.inputSchema, tool.name, true);
    expect(problems).toEqual([]);
  });
});

describe('arguments as strict-mode clients send them', () => {
  it('reads null for an optional argument as absent, at every level, and still refuses null where a value is required', async () => {
    h = await startHarness();
    const dry = await h.ok<{ request: { body: Record<string, unknown> } }>('create_call', {
      customer: { number: VALID_NUMBER, name: null, extension: null },
      assistantId: null,
      assistant: null,
      assistantOverrides: null,
      phoneNumberId: null,
      firstMessage: null,
      variableValues: null,
      name: null,
      scheduledAt: null,
      listen: null,
      monitor: null,
      dryRun: true,
      confirmationToken: null,
      idempotencyKey: null,
    });
    expect(dry.request.body).toMatchObject({ assistantId: 'assistant-test', phoneNumberId: 'phone-test', customer: { number: VALID_NUMBER } });
    expect(dry.request.body.customer).toEqual({ number: VALID_NUMBER });
    expect((dry.request.body.assistantOverrides as Record<string, unknown>).monitorPlan).toEqual({ listenEnabled: true, controlEnabled: true });
    const read = await h.ok<{ nextSeq: number }>('list_calls', { limit: null, status: null, createdAtLt: null });
    expect(read).toBeDefined();
    const required = await h.err('create_call', { customer: null, dryRun: true });
    expect(required.code).toBe('invalid-arguments');
    expect(required.reason).toMatch(/customer/);
    expect(h.sim.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('takes variableValues as a list of {name, value} (and the map form), inline configuration as JSON text (and as an object)', async () => {
    h = await startHarness();
    type Dry = { request: { body: { assistant?: Record<string, unknown>; assistantOverrides: Record<string, unknown> } } };
    const listed = await h.ok<Dry>('create_call', {
      customer: { number: VALID_NUMBER },
      dryRun: true,
      variableValues: [{ name: 'slot', value: '3pm' }, { name: 'doctor', value: 'Patel' }],
      assistantOverrides: JSON.stringify({ firstMessage: 'Hi {{doctor}}' }),
    });
    expect(listed.request.body.assistantOverrides).toMatchObject({ variableValues: { slot: '3pm', doctor: 'Patel' }, firstMessage: 'Hi {{doctor}}' });
    const mapped = await h.ok<Dry>('create_call', {
      customer: { number: VALID_NUMBER },
      dryRun: true,
      variableValues: { slot: '3pm', doctor: 'Patel' },
      assistantOverrides: { firstMessage: 'Hi {{doctor}}' },
    });
    expect(mapped.request.body.assistantOverrides).toMatchObject({ variableValues: { slot: '3pm', doctor: 'Patel' }, firstMessage: 'Hi {{doctor}}' });
    const inline = await h.ok<Dry>('create_call', { customer: { number: VALID_NUMBER }, dryRun: true, assistant: JSON.stringify({ name: 'Riley', firstMessage: 'Hello' }) });
    expect(inline.request.body.assistant).toEqual({ name: 'Riley', firstMessage: 'Hello' });

    const misspelt = await h.err('create_call', { customer: { number: VALID_NUMBER }, assistantOverrides: JSON.stringify({ firstmessage: 'Hi' }) });
    expect(misspelt.code).toBe('unknown-argument');
    expect(misspelt.reason).toContain('did you mean "firstMessage"?');
    const notJson = await h.err('create_call', { customer: { number: VALID_NUMBER }, assistant: '{"name": ' });
    expect(notJson).toMatchObject({ code: 'invalid-arguments' });
    expect(notJson.reason).toMatch(/assistant: is not valid JSON/);
    const twice = await h.err('create_call', { customer: { number: VALID_NUMBER }, variableValues: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }] });
    expect(twice.reason).toMatch(/once/);
    // The limits stay on the server whatever the client's converter kept.
    const long = await h.err('create_call', { customer: { number: VALID_NUMBER }, variableValues: [{ name: 'a', value: 'x'.repeat(2001) }] });
    expect(long.reason).toMatch(/variableValues\[0\]\.value/);
    const badName = await h.err('create_call', { customer: { number: VALID_NUMBER }, variableValues: [{ name: '{{a}}', value: '1' }] });
    expect(badName.code).toBe('invalid-arguments');
    const tooLong = await h.err('create_call', { customer: { number: VALID_NUMBER, name: 'x'.repeat(41) } });
    expect(tooLong.reason).toMatch(/customer\.name/);
    expect(h.sim.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});

describe('one failure envelope', () => {
  it('reports schema violations as the documented envelope, not a protocol error', async () => {
    h = await startHarness();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['create_call', { customer: {} }, /customer\.number/],
      ['set_mute', { callId: ANY_CALL_ID, party: 'both', muted: true }, /party/],
      ['read_transcript', { callId: ANY_CALL_ID, waitSeconds: 60 }, /waitSeconds/],
      ['create_call', { customer: { number: VALID_NUMBER }, variableValues: { when: { nested: true } } }, /variableValues/],
    ];
    for (const [tool, args, field] of cases) {
      const result = await h.callTool(tool, args);
      expect(result.isError).toBe(true);
      const text = (result.content[0] as { text: string }).text;
      expect(text).not.toMatch(/MCP error|-32602/);
      const envelope = JSON.parse(text);
      expect(Object.keys(envelope).filter((k) => k !== 'simulated').sort()).toEqual(ENVELOPE_KEYS);
      expect(envelope).toMatchObject({ status: 'error', code: 'invalid-arguments', retryable: false });
      expect(envelope.reason).toMatch(field);
    }
  });

  it('answers an unknown tool in the envelope, naming the nearest tool', async () => {
    h = await startHarness({ config: { readOnly: true } });
    const misspelt = await h.err('readTranscript', {});
    expect(misspelt).toMatchObject({ status: 'error', code: 'unknown-tool', retryable: false });
    expect(misspelt.reason).toContain('did you mean "read_transcript"?');
    // Read-only mode does not offer tools that change calls, and says why in the same shape.
    const withheld = await h.err('create_call', { customer: { number: VALID_NUMBER } });
    expect(withheld).toMatchObject({ code: 'read-only', retryable: false });
    expect(withheld.reason).toContain('read-only mode');
    expect(h.sim.requests).toHaveLength(0);
  });

  it('accepts sinceSeq 0 as "from the start"', async () => {
    h = await startHarness({ sim: { speed: 200 } });
    const created = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    const read = await h.ok<{ nextSeq: number }>('read_transcript', { callId: created.callId, sinceSeq: 0 });
    expect(read.nextSeq).toBeGreaterThanOrEqual(1);
  });

  it('answers a malformed resource URI as a client mistake', async () => {
    h = await startHarness();
    for (const uri of ['vapi://calls/%E0%A4%A/transcript']) {
      for (const request of [() => h.client.subscribeResource({ uri }), () => h.client.readResource({ uri })]) {
        const error = await request().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(McpError);
        expect((error as McpError).code).toBe(ErrorCode.InvalidParams);
        expect((error as McpError).message).not.toMatch(/URI malformed/);
      }
    }
  });
});
