/**
 * The MCP server against a Vapi that answers too much: a 30 MB REST body, a Call whose every long field is
 * megabytes, a listen socket sending a 1 MiB line. Every result stays within maxChars (characters, like every
 * cap here) and the process never reads an unbounded answer. Real sockets: a scripted HTTP server stands in for
 * Vapi's REST API, the scripted listen server for the call's listen socket, and the SDK client drives the server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RESOURCE_MAX_CHARS } from '../src/mcp/resources/transcript.js';
import { startHarness, until, type Harness } from './helpers/harness.js';
import { SAMPLE_CALL_ID, startListenServer, type ScriptedListenServer } from './helpers/listen-server.js';
import { startScriptedServer } from './helpers/scripted-http.js';

const CALL_ID = SAMPLE_CALL_ID;
let h: Harness | undefined;
let listenServer: ScriptedListenServer | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await listenServer?.close();
  listenServer = undefined;
});

const json = (body: unknown) => (res: import('node:http').ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

describe('a Vapi that answers too much', () => {
  it('a 30 MB REST answer is not read: get_call fails with a clear error instead of holding it', async () => {
    const vapi = await startScriptedServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: CALL_ID, status: 'ended', summary: 'x'.repeat(30 * 1024 * 1024) }));
    });
    h = await startHarness({ config: { baseUrl: vapi.url } });
    const failure = await h.err('get_call', { callId: CALL_ID });
    expect(failure.code).toBe('response-too-large');
    expect(failure.reason).toMatch(/16 MiB/);
    expect(failure.retryable).toBe(false);
  });

  it('get_call honours maxChars across summary, transcript and messages, and cuts every other long field', async () => {
    const mib = (c: string) => c.repeat(1024 * 1024);
    const vapi = await startScriptedServer(
      json({
        id: CALL_ID,
        status: 'ended',
        endedReason: mib('r'),
        name: mib('n'),
        summary: mib('s'),
        transcript: mib('t'),
        customer: { number: '+14155552671', name: mib('c') },
        costBreakdown: { llm: 0.1, note: mib('b') },
        messages: [
          { role: 'bot', message: mib('a'), secondsFromStart: 1 },
          { role: 'user', message: mib('u'), secondsFromStart: 2 },
        ],
      }),
    );
    h = await startHarness({ config: { baseUrl: vapi.url } });
    const result = await h.ok<any>('get_call', { callId: CALL_ID, maxChars: 8000 });
    const longText = (result.summary?.length ?? 0) + (result.transcript?.length ?? 0) + result.messages.reduce((n: number, m: any) => n + m.text.length, 0);
    expect(longText).toBeLessThanOrEqual(8000);
    expect(result.truncated).toBe(true);
    expect(result.costBreakdown).toBeUndefined();
    for (const value of [result.endedReason, result.name, result.customer.name]) expect(value.length).toBeLessThanOrEqual(2048);
    expect(JSON.stringify(result).length).toBeLessThan(8000 + 4 * 2048 + 2000);
  });

  it('list_calls cuts every text field of its rows', async () => {
    const mib = (c: string) => c.repeat(1024 * 1024);
    const row = (n: number) => ({ id: `${CALL_ID.slice(0, -1)}${n}`, status: 'ended', name: mib('n'), endedReason: mib('r'), customer: { number: '+14155552671', name: mib('c') } });
    const vapi = await startScriptedServer(json([row(1), row(2), row(3)]));
    h = await startHarness({ config: { baseUrl: vapi.url } });
    const result = await h.ok<any>('list_calls', {});
    expect(result.calls).toHaveLength(3);
    for (const call of result.calls) for (const key of ['name', 'endedReason', 'customerName']) expect(call[key].length).toBeLessThanOrEqual(2048);
    expect(JSON.stringify(result).length).toBeLessThan(3 * 3 * 2048 + 2000);
  });

  it('a 1 MiB live line: read_transcript stays within maxChars, the resource within its cap', async () => {
    listenServer = await startListenServer();
    const listenUrl = listenServer.url(CALL_ID);
    const vapi = await startScriptedServer(json({ id: CALL_ID, status: 'in-progress', monitor: { listenUrl } }));
    h = await startHarness({ config: { baseUrl: vapi.url } });
    const first = await h.ok<any>('listen_call', { callId: CALL_ID });
    expect(first.listening.active).toBe(true);
    const conn = await listenServer.nextConnection();
    const huge = 'word '.repeat(210_000);
    await conn.json({ type: 'transcript', role: 'user', transcriptType: 'final', transcript: huge });
    await conn.json({ type: 'transcript', role: 'assistant', transcriptType: 'partial', transcript: huge });
    await conn.json({ type: 'transcript', role: 'assistant', transcriptType: 'final', transcript: 'Noted.' });
    await conn.json({ type: 'transcript', role: 'assistant', transcriptType: 'partial', transcript: huge });
    await until(() => (h!.server.core.listeners.get(CALL_ID)?.transcript.nextSeq === 3 ? true : undefined));

    for (const maxChars of [200, 20_000]) {
      const read = await h.ok<any>('read_transcript', { callId: CALL_ID, maxChars });
      const chars = [...read.lines, ...read.partials].reduce((n: number, l: any) => n + l.text.length, 0);
      expect(chars).toBeLessThanOrEqual(maxChars);
      expect(read.lines[0].seq).toBe(1);
      if (maxChars === 200) expect(read.truncated).toBe(true);
    }
    // The cursor still moves past the cut line.
    const next = await h.ok<any>('read_transcript', { callId: CALL_ID, sinceSeq: 2, maxChars: 200 });
    expect(next.lines.map((l: any) => l.text)).toEqual(['Noted.']);

    const resource = (await h.client.readResource({ uri: `vapi://calls/${CALL_ID}/transcript` })).contents[0] as { text: string };
    expect(resource.text.length).toBeLessThanOrEqual(RESOURCE_MAX_CHARS);
    expect(resource.text).toContain('Assistant: Noted.');
  });

  it('free-form create_call objects have a size limit, stated in the schema', async () => {
    h = await startHarness();
    const tools = await h.client.listTools();
    const properties = (tools.tools.find((t) => t.name === 'create_call')?.inputSchema.properties ?? {}) as Record<string, { maxLength?: number; description?: string }>;
    for (const name of ['assistant', 'assistantOverrides']) {
      expect(properties[name].maxLength, name).toBe(100_000);
      expect(properties[name].description, name).toContain('at most 100000 characters');
    }
    const result = await h.callTool('create_call', {
      customer: { number: '+14155552671' },
      dryRun: true,
      assistantOverrides: { firstMessage: 'x'.repeat(10 * 1024 * 1024) },
    });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result).length).toBeLessThan(10_000);
  });
});
