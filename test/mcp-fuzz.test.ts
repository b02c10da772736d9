/**
 * Hostile arguments at every tool: wrong types, huge strings, unicode, path separators in ids, nested junk.
 * Each call must come back as an isError result or a valid result (the client validates structuredContent
 * against the outputSchema), the server must stay up, and nothing may be written outside the recordings dir.
 */
import fc from 'fast-check';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { speed: 200 }, env: { VAPI_MAX_CONCURRENT_CALLS: '3', VAPI_MAX_CALLS_PER_HOUR: '20' } });
});
afterAll(async () => {
  await h.close();
});

const hostileString = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.constantFrom('../../etc/passwd', '..\\..\\windows', '/tmp/x', 'a/b', '%2e%2e%2f', '\u0000', '911', '+1 911', '+19005551234', '${VAPI_API_KEY}'),
  fc.uuid().map((id) => `${id}/../../x`),
  fc.uuid(),
  fc.string({ minLength: 5000, maxLength: 20000 }),
);
const junk = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(hostileString, { maxLength: 3 }), fc.object({ maxDepth: 3 }));

const toolArgs = fc.record(
  {
    callId: junk,
    customer: fc.oneof(junk, fc.record({ number: junk, name: junk, extension: junk }, { requiredKeys: [] })),
    content: junk,
    role: junk,
    party: junk,
    muted: junk,
    number: junk,
    sipUri: junk,
    sinceSeq: junk,
    waitSeconds: fc.oneof(fc.constant(0), fc.double({ min: -5, max: 0.05, noNaN: true }), junk.filter((v) => typeof v !== 'number')),
    maxChars: junk,
    limit: junk,
    createdAtGt: junk,
    status: junk,
    assistantOverrides: junk,
    dryRun: junk,
    listen: junk,
  },
  { requiredKeys: [] },
);

describe('hostile arguments', () => {
  it('never crash the server, never produce invalid results, never write outside the recordings dir', async () => {
    const { tools } = await h.client.listTools();
    const names = tools.map((t) => t.name);
    let errors = 0;
    let successes = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), toolArgs, fc.constantFrom('all', 'own', 'none'), async (name, args, keys) => {
        // Unknown keys are refused outright, so a third of the runs keep only the tool's own keys to reach deeper,
        // and a third send none (tools without required arguments then succeed, whatever the seed draws).
        const own = new Set(Object.keys(tools.find((t) => t.name === name)!.inputSchema.properties ?? {}));
        const sent = keys === 'all' ? args : keys === 'own' ? Object.fromEntries(Object.entries(args as object).filter(([k]) => own.has(k))) : {};
        const result = await h.client.callTool({ name, arguments: sent as Record<string, unknown> });
        if (result.isError) {
          errors++;
          const text = (result.content as { type: string; text: string }[])[0].text;
          expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack traces
        } else {
          successes++;
          expect(result.structuredContent).toBeTypeOf('object');
        }
      }),
      { numRuns: 1500, seed: 20261121 },
    );
    expect(errors).toBeGreaterThan(0);
    // Still serving.
    expect((await h.client.listTools()).tools).toHaveLength(names.length);
    const entries = await readdir(h.recordingsDir).catch(() => []);
    for (const entry of entries) expect(entry).toMatch(/^[0-9a-f-]{36}\.(wav|jsonl)$/);
    expect((await readdir(h.baseDir)).filter((e) => e !== 'recordings')).toEqual([]);
    expect(successes).toBeGreaterThan(0);
  }, 120_000);
});
