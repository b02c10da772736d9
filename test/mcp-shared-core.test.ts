/**
 * One call core, many connections: two MCP clients connected in-process to one core watch the same call. One
 * listener (one listen socket at the simulator) serves both, both read the same transcript, the limits are the
 * process's, and closing one connection leaves the listener and the other connection alone.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ResourceUpdatedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { StderrLogger } from '../src/log.js';
import { createCallCore, createServer, type CallCore, type VapiCallServer } from '../src/lib.js';
import { startSimulator, type Simulator } from '../src/sim/index.js';
import { until, VALID_NUMBER, type TranscriptRead } from './helpers/harness.js';

interface Connection {
  client: Client;
  server: VapiCallServer;
  ok<T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T>;
  err(name: string, args: Record<string, unknown>): Promise<{ code: string }>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connect(core: CallCore): Promise<Connection> {
  const server = createServer({ core });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'shared-core-test', version: '0.0.0' });
  await Promise.all([server.mcp.connect(serverSide), client.connect(clientSide)]);
  await client.listTools();
  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    server,
    async ok(name, args) {
      const result = await call(name, args);
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
      return result.structuredContent as never;
    },
    async err(name, args) {
      const result = await call(name, args);
      if (!result.isError) throw new Error(`${name} was expected to fail`);
      return JSON.parse((result.content[0] as { text: string }).text);
    },
  };
}

async function startCore(sim: Simulator): Promise<CallCore> {
  const baseDir = await mkdtemp(join(tmpdir(), 'vapi-call-mcp-shared-'));
  cleanups.push(() => rm(baseDir, { recursive: true, force: true }));
  const config = loadConfig({
    VAPI_API_KEY: sim.apiKey,
    VAPI_BASE_URL: sim.baseUrl,
    VAPI_RECORDINGS_DIR: join(baseDir, 'recordings'),
    VAPI_ASSISTANT_ID: 'assistant-test',
    VAPI_PHONE_NUMBER_ID: 'phone-test',
    VAPI_MAX_CONCURRENT_CALLS: '1',
  });
  const core = createCallCore({ config, logger: new StderrLogger({ level: 'error', write: () => {} }) });
  cleanups.push(() => core.close());
  return core;
}

describe('two MCP connections on one call core', () => {
  it('share one listener, one transcript and one set of limits; closing one leaves the other undisturbed', async () => {
    const mostListeners = new Map<string, number>();
    const sim = await startSimulator({
      speed: 40,
      seed: 7,
      hangupAfterScript: false,
      onEvent: (callId, _event, listeners) => mostListeners.set(callId, Math.max(mostListeners.get(callId) ?? 0, listeners)),
    });
    cleanups.push(() => sim.close());
    const core = await startCore(sim);
    const first = await connect(core);
    const second = await connect(core);
    cleanups.push(() => first.server.close(), () => second.server.close());

    // The first places and listens; the second listens to the same call and gets the same listener's files.
    const placed = await first.ok<{ callId: string; listening: { audioPath: string } }>('create_call', { customer: { number: VALID_NUMBER } });
    const callId = placed.callId;
    const joined = await second.ok<{ listening: { audioPath: string } }>('listen_call', { callId });
    expect(joined.listening.audioPath).toBe(placed.listening.audioPath);

    // Both read the same transcript.
    const readBoth = async () => {
      const [a, b] = await Promise.all([
        first.ok<TranscriptRead>('read_transcript', { callId, waitSeconds: 1 }),
        second.ok<TranscriptRead>('read_transcript', { callId, waitSeconds: 1 }),
      ]);
      return a.lines.length >= 2 && b.lines.length >= 2 ? [a, b] : undefined;
    };
    const [fromFirst, fromSecond] = await until(readBoth, 15_000, 'two lines for both connections');
    const shared = Math.min(fromFirst.lines.length, fromSecond.lines.length);
    expect(fromSecond.lines.slice(0, shared)).toEqual(fromFirst.lines.slice(0, shared));

    // The call placed by the first counts against the limit the second sees (one live call at most).
    const refused = await second.err('create_call', { customer: { number: '+14155552672' } });
    expect(refused.code).toBe('concurrency');

    // The second subscribes; then the first goes away.
    const uri = `vapi://calls/${callId}/transcript`;
    await second.client.subscribeResource({ uri });
    let updates = 0;
    second.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      if (n.params.uri === uri) updates++;
    });
    const before = core.listeners.get(callId)!.state();
    await first.client.close();
    await first.server.close();

    const listener = core.listeners.get(callId)!;
    expect(listener.state()).toMatchObject({ listening: true, filesFinal: false, reconnects: 0 });

    // The second keeps following the call: new lines arrive, its subscription keeps notifying, its calls work.
    // (It has the assistant say something, so a new line comes even if the script was over by now.)
    await second.ok('inject_say', { callId, content: 'Still here after the first connection left.' });
    const later = await until(
      async () => {
        const read = await second.ok<TranscriptRead>('read_transcript', { callId, sinceSeq: fromSecond.nextSeq, waitSeconds: 2 });
        return read.lines.length > 0 ? read : undefined;
      },
      15_000,
      'a line after the first connection closed',
    );
    expect(later.lines[0].seq).toBe(fromSecond.nextSeq);
    await until(() => updates > 0 || undefined, 10_000, 'a resource update after the first connection closed');
    expect(listener.state().audioBytes).toBeGreaterThan(before.audioBytes);

    await second.ok('end_call', { callId });
    const ended = await until(
      async () => {
        const read = await second.ok<TranscriptRead>('read_transcript', { callId, sinceSeq: later.nextSeq, waitSeconds: 2 });
        return read.ended ? read : undefined;
      },
      15_000,
      'the call to end',
    );
    expect(ended.status).toBe('ended');

    // Exactly one listen socket reached the simulator for this call, for both connections together.
    expect(mostListeners.get(callId)).toBe(1);
    expect(listener.state().reconnects).toBe(0);
  }, 60_000);

  it('a server given a shared core never closes it; one given a config closes its own', async () => {
    const sim = await startSimulator({ speed: 40, seed: 7, hangupAfterScript: false });
    cleanups.push(() => sim.close());
    const core = await startCore(sim);

    // Shared: closing the connection leaves the call's listener running and the core serving the next one.
    const connection = await connect(core);
    const { callId } = await connection.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    await connection.server.close();
    expect(core.listeners.get(callId)!.state().filesFinal).toBe(false);
    const next = await connect(core);
    cleanups.push(() => next.server.close());
    expect((await next.ok<{ listening: { active: boolean } }>('listen_call', { callId })).listening.active).toBe(true);
    await next.ok('end_call', { callId });

    // Private: closing the server closes its core, finalising the recordings of its calls.
    const own = createServer({ config: { ...core.config, maxConcurrentCalls: 5 }, logger: new StderrLogger({ level: 'error', write: () => {} }) });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'private-core-test', version: '0.0.0' });
    await Promise.all([own.mcp.connect(serverSide), client.connect(clientSide)]);
    const placed = (await client.callTool({ name: 'create_call', arguments: { customer: { number: VALID_NUMBER } } })) as CallToolResult;
    const ownCallId = (placed.structuredContent as { callId: string }).callId;
    await client.close();
    await own.close();
    expect(own.core.listeners.get(ownCallId)!.state().filesFinal).toBe(true);
  });
});
