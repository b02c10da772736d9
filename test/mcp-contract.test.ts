/**
 * The tool catalog is a contract with every agent that uses this server: names, argument names, schemas and
 * annotations must not change by accident. tools/list is compared with test/__toolsnaps__/tools.json;
 * regenerate deliberately with UPDATE_TOOLSNAPS=1.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type Harness } from './helpers/harness.js';

const SNAPSHOT = new URL('./__toolsnaps__/tools.json', import.meta.url);
const CONTRACT_TOOLS = [
  'create_call',
  'list_calls',
  'get_call',
  'listen_call',
  'read_transcript',
  'read_transcripts',
  'stop_listening',
  'inject_say',
  'add_message',
  'set_mute',
  'transfer_call',
  'end_call',
  'end_all_calls',
  'console_updates',
];

let h: Harness;
let tools: Tool[];
beforeAll(async () => {
  h = await startHarness();
  tools = (await h.client.listTools()).tools;
});
afterAll(async () => {
  await h.close();
});

describe('tools/list', () => {
  it('matches the committed snapshot', () => {
    const current = JSON.stringify(tools, null, 2) + '\n';
    if (process.env.UPDATE_TOOLSNAPS === '1' || !existsSync(SNAPSHOT)) {
      if (process.env.CI && !existsSync(SNAPSHOT)) throw new Error('test/__toolsnaps__/tools.json is missing; run UPDATE_TOOLSNAPS=1 npm test and commit it');
      mkdirSync(new URL('./__toolsnaps__/', import.meta.url), { recursive: true });
      writeFileSync(SNAPSHOT, current);
    }
    expect(current).toBe(readFileSync(SNAPSHOT, 'utf8'));
  });

  it('offers exactly the contract tools', () => {
    expect(tools.map((t) => t.name)).toEqual(CONTRACT_TOOLS);
  });

  it('gives every tool a title, a short description, all four annotations and an output schema', () => {
    for (const tool of tools) {
      expect(tool.title, tool.name).toBeTruthy();
      expect(tool.description!.length, tool.name).toBeLessThan(2048);
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
        expect(typeof tool.annotations?.[hint], `${tool.name}.${hint}`).toBe('boolean');
      }
      expect(tool.outputSchema?.type, tool.name).toBe('object');
    }
  });

  it('describes every argument and keeps schemas portable (no top-level unions)', () => {
    for (const tool of tools) {
      const schema = tool.inputSchema as { type: string; properties: Record<string, { description?: string }>; anyOf?: unknown; oneOf?: unknown };
      expect(schema.type).toBe('object');
      expect(schema.anyOf ?? schema.oneOf, tool.name).toBeUndefined();
      for (const [name, property] of Object.entries(schema.properties)) {
        expect(property.description, `${tool.name}.${name}`).toBeTruthy();
      }
    }
  });

  it('takes callId in every call-scoped tool', () => {
    // Multi-call tools name their calls otherwise: read_transcripts takes calls[].callId, end_all_calls every live call.
    for (const tool of tools.filter((t) => !['create_call', 'list_calls', 'read_transcripts', 'end_all_calls'].includes(t.name))) {
      expect((tool.inputSchema as { required?: string[] }).required, tool.name).toContain('callId');
    }
  });

  it('is what the documentation of the tools documents', () => {
    const toolsPage = readFileSync(new URL('../docs/tools.md', import.meta.url), 'utf8');
    const documented = [...toolsPage.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(documented)).toEqual(new Set(CONTRACT_TOOLS));
  });
});
