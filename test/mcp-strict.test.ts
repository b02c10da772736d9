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

  it('lists input schemas that say so: no free-form objects, unknown keys not allowed', async () => {
    h = await startHarness();
    const { tools } = await h.client.listTools();
    const freeForm: string[] = [];
    const visit = (schema: unknown, path: string) => {
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      if (node.type === 'object' && node.properties && node.additionalProperties !== false) freeForm.push(path);
      if (node.type === 'object' && !node.properties && node.additionalProperties && Object.keys(node.additionalProperties).length === 0) freeForm.push(path);
      for (const [key, child] of Object.entries(node)) visit(child, `${path}.${key}`);
    };
    for (const tool of tools) {
      expect(tool.inputSchema.additionalProperties).toBe(false);
      visit(tool.inputSchema, tool.name);
    }
    expect(freeForm).toEqual([]);
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
