/**
 * One part that cannot be computed degrades alone, and the server never blames the caller for its own faults:
 * - metrics that cannot be computed become `audio: {source: "error", reason}` (logged once) while the lines still
 *   come back, on every read path;
 * - a result that does not match its tool's output schema is `internal-error` for every tool, telling the model
 *   its arguments were right;
 * - a refused listen handshake is visible wherever a call is read, with the HTTP status, and listen_call tries again.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createCallCore } from '../src/core/call-core.js';
import { CallAudioAnalyzer, type AudioMetrics } from '../src/live/audio-analysis.js';
import { silentLogger } from '../src/log.js';
import { consoleApp } from '../src/mcp/app/index.js';
import { ALL_TOOLS, registerTools } from '../src/mcp/tools/index.js';
import { startHarness, until, VALID_NUMBER, type Harness, type TranscriptRead } from './helpers/harness.js';

/** An analyzer whose metrics come out as NaN and Infinity, as a fault in the analysis would make them. */
class BrokenAnalyzer extends CallAudioAnalyzer {
  override metrics(): AudioMetrics {
    const metrics = super.metrics();
    return { ...metrics, talkSeconds: { customer: Number.NaN, assistant: Number.POSITIVE_INFINITY } };
  }
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Read = TranscriptRead & { audio?: { source: string; reason?: string }; listenState?: string; listenError?: string; listenHttpStatus?: number };

describe('metrics that cannot be computed', () => {
  it('degrade to a stated error on every read path while the transcript comes back, logged once', async () => {
    // The call stays up until the test ends it, so every read below is of a live call.
    h = await startHarness({ sim: { hangupAfterScript: false }, core: { createAnalyzer: (options) => new BrokenAnalyzer(options) } });
    const { callId } = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });

    let read: Read | undefined;
    let sinceSeq = 0;
    const lines: Read['lines'] = [];
    while (lines.length < 3) {
      read = await h.ok<Read>('read_transcript', { callId, sinceSeq, waitSeconds: 10 });
      lines.push(...read.lines);
      sinceSeq = read.nextSeq;
      expect(read.ended && lines.length < 3).toBe(false);
    }
    expect(read!.audio).toEqual({ source: 'error', reason: expect.stringMatching(/audio metrics could not be computed \(audio\.talkSeconds\.customer is not a finite number\)/) });

    const many = await h.ok<{ calls: Read[] }>('read_transcripts', { calls: [{ callId, sinceSeq: 0 }] });
    expect(many.calls[0].lines.length).toBeGreaterThanOrEqual(3);
    expect(many.calls[0].audio?.source).toBe('error');

    const detail = await h.ok<{ listening: { audio: { source: string } } }>('get_call', { callId });
    expect(detail.listening.audio.source).toBe('error');
    const listened = await h.ok<{ listening: { audio: { source: string } } }>('listen_call', { callId });
    expect(listened.listening.audio.source).toBe('error');
    const update = await h.ok<{ lines: unknown[]; levels?: unknown }>('console_updates', { callId });
    expect(update.lines.length).toBeGreaterThanOrEqual(3);
    expect(update.levels).toBeUndefined();

    const resource = await h.client.readResource({ uri: `vapi://calls/${callId}/transcript` });
    const text = (resource.contents[0] as { text: string }).text;
    expect(text).toMatch(/Audio: the audio metrics could not be computed/);
    expect(text).toContain(lines[0].text);

    const stopped = await h.ok<{ listening: { audio: { source: string }; filesFinal: boolean } }>('stop_listening', { callId });
    expect(stopped.listening).toMatchObject({ filesFinal: true, audio: { source: 'error' } });
    const after = await h.ok<Read>('read_transcript', { callId });
    expect(after.lines.length).toBeGreaterThanOrEqual(3);
    expect(after).toMatchObject({ source: 'live', status: 'in-progress', audio: { source: 'error' } });
    h.sim.hangup(callId);

    const logged = h.logLines.filter((line) => line.includes('audio metrics could not be computed'));
    expect(logged).toHaveLength(1);
  });
});

describe('results the server cannot produce', () => {
  it('are internal-error for every tool, telling the caller its arguments were right', async () => {
    const recordingsDir = await mkdtemp(path.join(tmpdir(), 'fail-safe-'));
    const core = createCallCore({ config: loadConfig({ VAPI_API_KEY: 'test-key-not-used', VAPI_RECORDINGS_DIR: recordingsDir }), logger: silentLogger });
    const app = consoleApp();
    const catalog = [...ALL_TOOLS, ...app.tools];
    // Every tool answers with each of its declared fields set to NaN: after JSON, a null where none may be.
    const broken = catalog.map((tool) => ({
      ...tool,
      run: async () => Object.fromEntries(Object.keys(tool.output).map((key) => [key, Number.NaN])) as never,
    }));
    const mcp = new McpServer({ name: 'test', version: '0.0.0' }, { capabilities: { tools: {} } });
    registerTools(mcp, core, { contextFor: (extra) => ({ signal: extra.signal }), tools: broken });
    const client = new Client({ name: 'test', version: '0.0.0' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([mcp.connect(serverSide), client.connect(clientSide)]);
    try {
      for (const tool of catalog) {
        const result = (await client.callTool({ name: tool.name, arguments: {} })) as CallToolResult;
        expect(result.isError, tool.name).toBe(true);
        const envelope = JSON.parse((result.content[0] as { text: string }).text);
        // Arguments come first: a tool whose arguments are required refuses {} before running.
        if (envelope.code === 'invalid-arguments') continue;
        expect(envelope, tool.name).toMatchObject({ status: 'error', code: 'internal-error' });
        expect(envelope.reason).toMatch(new RegExp(`^${tool.name} produced a result that does not match its output schema`));
        expect(envelope.suggestion).toMatch(/Do not change the arguments/);
      }
      // Tools whose arguments {} cannot satisfy are run with valid ones.
      for (const tool of catalog) {
        const args = validArgumentsFor(tool.name);
        if (!args) continue;
        const result = (await client.callTool({ name: tool.name, arguments: args })) as CallToolResult;
        const envelope = JSON.parse((result.content[0] as { text: string }).text);
        expect(envelope, tool.name).toMatchObject({ status: 'error', code: 'internal-error' });
      }
    } finally {
      await client.close();
      await mcp.close();
      await core.close();
      await rm(recordingsDir, { recursive: true, force: true });
    }
  });
});

const CALL_ID = '01939d2c-5f7e-7c1a-9b2e-6f1d2c3b4a59';
function validArgumentsFor(name: string): Record<string, unknown> | undefined {
  const byName: Record<string, Record<string, unknown>> = {
    create_call: { customer: { number: VALID_NUMBER } },
    get_call: { callId: CALL_ID },
    listen_call: { callId: CALL_ID },
    read_transcript: { callId: CALL_ID },
    read_transcripts: { calls: [{ callId: CALL_ID }] },
    stop_listening: { callId: CALL_ID },
    inject_say: { callId: CALL_ID, content: 'Hello' },
    add_message: { callId: CALL_ID, content: 'Note', role: 'system' },
    set_mute: { callId: CALL_ID, party: 'assistant', muted: true },
    transfer_call: { callId: CALL_ID, number: VALID_NUMBER },
    end_call: { callId: CALL_ID },
    console_updates: { callId: CALL_ID },
  };
  return byName[name];
}

describe('a refused listen handshake', () => {
  it('shows on every read path with the HTTP status; listen_call tries again', async () => {
    h = await startHarness({
      sim: { speed: 10, hangupAfterScript: false },
      core: { listenReconnect: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } },
    });
    const { callId } = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    await until(() => h!.sim.getCall(callId)?.status === 'in-progress' || undefined, 10_000, 'the answer');
    // The first try and both retries are refused.
    h.sim.faults.rejectListenUpgrades(3, 400);
    await h.ok('listen_call', { callId });

    let read: Read;
    do read = await h.ok<Read>('read_transcript', { callId, waitSeconds: 5 });
    while (read.listenState !== 'unavailable');
    expect(read).toMatchObject({ status: 'in-progress', ended: false, listenHttpStatus: 400 });
    expect(read.listenError).toMatch(/Vapi kept refusing the listen connection \(last: HTTP 400/);

    const detail = await h.ok<{ listening: Record<string, unknown> }>('get_call', { callId });
    expect(detail.listening).toMatchObject({ listenState: 'unavailable', listenHttpStatus: 400 });
    const update = await h.ok<Record<string, unknown>>('console_updates', { callId });
    expect(update).toMatchObject({ connection: 'closed', listenHttpStatus: 400 });
    const resource = await h.client.readResource({ uri: `vapi://calls/${callId}/transcript` });
    expect((resource.contents[0] as { text: string }).text).toMatch(/Listening unavailable: .*HTTP 400/);

    // Vapi streams again: listen_call starts listening anew, and lines come.
    const again = await h.ok<{ listening: { listenState: string } }>('listen_call', { callId });
    expect(again.listening.listenState).not.toBe('unavailable');
    let sinceSeq = 0;
    do {
      read = await h.ok<Read>('read_transcript', { callId, sinceSeq, waitSeconds: 10 });
      sinceSeq = read.nextSeq;
    } while (read.lines.length === 0 && !read.ended);
    expect(read.lines.length).toBeGreaterThan(0);
    expect(read.listenState).toBe('connected');
    expect(read.listenError).toBeUndefined();
    h.sim.hangup(callId);
  });
});

describe('listening stopped before the call ended', () => {
  it('reads the status from Vapi, ends with Vapi\'s record, and listen_call listens again', async () => {
    h = await startHarness({ sim: { speed: 10, hangupAfterScript: false } });
    const { callId } = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    let read: Read;
    do read = await h.ok<Read>('read_transcript', { callId, waitSeconds: 10 });
    while (read.lines.length === 0);
    await h.ok('stop_listening', { callId });

    const again = await h.ok<{ listening: { listenState: string; active: boolean } }>('listen_call', { callId });
    expect(again.listening).toMatchObject({ active: true });
    expect(again.listening.listenState).not.toBe('stopped');
    await h.ok('stop_listening', { callId });

    h.sim.hangup(callId);
    await until(() => h!.sim.getCall(callId)?.status === 'ended' || undefined, 10_000, 'the end');
    const after = await h.ok<Read>('read_transcript', { callId });
    expect(after).toMatchObject({ status: 'ended', ended: true, source: 'vapi' });
    expect(after.lines.length).toBeGreaterThan(0);
    const update = await h.ok<{ ended: boolean; status: string }>('console_updates', { callId });
    expect(update).toMatchObject({ ended: true, status: 'ended' });
  });
});
