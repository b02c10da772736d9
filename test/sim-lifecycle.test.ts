import { describe, expect, it, vi } from 'vitest';
import { createServer } from 'node:net';
import { request } from 'undici';
import WebSocket from 'ws';
import { runSimulatorCli } from '../src/sim/cli.js';
import {
  DEFAULT_FIRST_MESSAGE,
  DEFAULT_SIM_API_KEY,
  startSimulator,
  type ScriptTurn,
  type Simulator,
  type SimulatorOptions,
} from '../src/sim/index.js';
import { silentLogger } from '../src/log.js';
import { simApi, simulatorPool } from './helpers/sim.js';
import { EVENTUALLY } from './helpers/wait.js';

const CALL_BODY = { assistantId: 'asst-1', phoneNumberId: 'pn-1', customer: { number: '+15550100' } };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const start = simulatorPool({ seed: 3 });
const api = (sim: Simulator, method: string, path: string, body?: unknown) => simApi(sim, method, path, body);

async function waitForEnd(sim: Simulator, id: string): Promise<any> {
  let call: any;
  await vi.waitFor(
    async () => {
      call = (await api(sim, 'GET', `/call/${id}`)).body;
      expect(call.status).toBe('ended');
    },
    { timeout: 10_000, interval: 10 },
  );
  return call;
}

describe('call lifecycle', () => {
  it('goes queued → ringing → in-progress → ended with artifacts, costs and legacy fields', async () => {
    // Every status change as the simulator announces it (polling at speed 400 can miss the short ones).
    const announced: string[] = [];
    const sim = await start({
      speed: 400,
      onEvent: (_callId, event) => {
        if (event.type === 'status-update') announced.push(String(event.status));
      },
    });
    const created = (await api(sim, 'POST', '/call', CALL_BODY)).body;
    const seen = new Set<string>([created.status]);
    const updates = new Set<string>([created.updatedAt]);
    let call: any;
    await vi.waitFor(
      async () => {
        call = (await api(sim, 'GET', `/call/${created.id}`)).body;
        seen.add(call.status);
        updates.add(call.updatedAt);
        expect(call.status).toBe('ended');
      },
      { timeout: 10_000, interval: 2 },
    );
    expect(seen.has('queued')).toBe(true);
    expect(announced).toEqual(['ringing', 'in-progress', 'ended']);
    expect(updates.size).toBeGreaterThan(1);
    expect(call.startedAt).toMatch(ISO);
    expect(call.endedAt).toMatch(ISO);
    expect(call.createdAt < call.startedAt && call.startedAt < call.endedAt).toBe(true);
    expect(call.updatedAt).toBe(call.endedAt);
    expect(call.endedReason).toBe('customer-ended-call');
    // The default conversation lasts about a minute and a quarter of call time.
    const seconds = (Date.parse(call.endedAt) - Date.parse(call.startedAt)) / 1000;
    expect(seconds).toBeGreaterThan(60);
    expect(seconds).toBeLessThan(90);

    expect(call.cost).toBeGreaterThan(0);
    expect(call.costBreakdown.total).toBe(call.cost);
    expect(call.costs.map((item: any) => item.type)).toEqual(['transport', 'transcriber', 'model', 'voice', 'vapi']);

    const { artifact } = call;
    const lines = artifact.transcript.split('\n');
    expect(lines[0]).toBe(`AI: ${DEFAULT_FIRST_MESSAGE}`);
    expect(lines.length).toBe(9);
    expect(lines.every((line: string) => /^(AI|User): \S/.test(line))).toBe(true);
    expect(artifact.messages.map((message: any) => message.role)).toEqual(['bot', 'user', 'bot', 'user', 'bot', 'user', 'bot', 'user', 'bot']);
    for (const message of artifact.messages) {
      expect(typeof message.message).toBe('string');
      expect(message.endTime).toBeGreaterThan(message.time);
      expect(message.secondsFromStart).toBeGreaterThanOrEqual(0);
      expect(message.time).toBe(Date.parse(call.startedAt) + Math.round(message.secondsFromStart * 1000));
    }
    expect(artifact.messagesOpenAIFormatted[0]).toEqual({ role: 'assistant', content: DEFAULT_FIRST_MESSAGE });
    expect(artifact.recordingUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+\.wav$/);
    expect(artifact.stereoRecordingUrl).toMatch(/\.wav$/);
    expect(call.analysis.summary).toContain('Thursday');
    // Legacy top-level copies
    expect(call.transcript).toBe(artifact.transcript);
    expect(call.messages).toEqual(artifact.messages);
    expect(call.summary).toBe(call.analysis.summary);
    expect(call.recordingUrl).toBe(artifact.recordingUrl);
    expect(call.stereoRecordingUrl).toBe(artifact.stereoRecordingUrl);
  });

  it('runs a two-minute call at speed 150 in about a second', async () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
    const script: ScriptTurn[] = Array.from({ length: 10 }, (_, i) => ({
      role: i % 2 === 0 ? 'customer' : 'assistant',
      text: words(25),
      pauseMs: 800,
    }));
    const sim = await start({ speed: 150, script });
    const began = Date.now();
    const created = (await api(sim, 'POST', '/call', CALL_BODY)).body;
    const call = await waitForEnd(sim, created.id);
    const wallMs = Date.now() - began;
    const callSeconds = (Date.parse(call.endedAt) - Date.parse(call.createdAt)) / 1000;
    expect(callSeconds).toBeGreaterThan(115);
    expect(callSeconds).toBeLessThan(140);
    expect(wallMs).toBeGreaterThan(600);
    expect(call.artifact.messages).toHaveLength(11);
  });

  it('lets the customer speak first with assistant-waits-for-user and fills template variables', async () => {
    const sim = await start({ speed: 400, script: [] });
    const created = (
      await api(sim, 'POST', '/call', {
        ...CALL_BODY,
        assistantOverrides: {
          firstMessage: 'Hi {{name}}, this is the clinic.',
          firstMessageMode: 'assistant-waits-for-user',
          variableValues: { name: 'Ada' },
        },
      })
    ).body;
    const call = await waitForEnd(sim, created.id);
    expect(call.artifact.messages.map((message: any) => message.role)).toEqual(['user', 'bot']);
    expect(call.artifact.messages[1].message).toBe('Hi Ada, this is the clinic.');
  });

  it('ends at maxDurationSeconds and keeps going past the script when hangupAfterScript is false', async () => {
    const sim = await start({ speed: 1000, hangupAfterScript: false, script: [] });
    const created = (
      await api(sim, 'POST', '/call', { ...CALL_BODY, assistantOverrides: { maxDurationSeconds: 60, firstMessage: 'Hello.' } })
    ).body;
    const call = await waitForEnd(sim, created.id);
    expect(call.endedReason).toBe('exceeded-max-duration');
    expect((Date.parse(call.endedAt) - Date.parse(call.startedAt)) / 1000).toBeCloseTo(60, 0);
  });

  it('hangup() ends a call with customer-ended-call or the given reason', async () => {
    const sim = await start({ ringMs: 1e9 });
    const a = (await api(sim, 'POST', '/call', CALL_BODY)).body;
    const b = (await api(sim, 'POST', '/call', CALL_BODY)).body;
    sim.hangup(a.id);
    sim.hangup(b.id, 'customer-busy');
    expect(sim.getCall(a.id)).toMatchObject({ status: 'ended', endedReason: 'customer-ended-call', cost: 0 });
    expect(sim.getCall(b.id)?.endedReason).toBe('customer-busy');
    sim.hangup(a.id, 'voicemail'); // already ended: no change
    expect(sim.getCall(a.id)?.endedReason).toBe('customer-ended-call');
    sim.hangup('00000000-0000-4000-8000-000000000000'); // unknown: ignored
  });
});

describe('close()', () => {
  it('is idempotent, frees the port, closes listeners with 1001 and leaves no timers behind', async () => {
    const countResources = () => {
      const resources = process.getActiveResourcesInfo();
      return {
        timers: resources.filter((name) => name === 'Timeout').length,
        servers: resources.filter((name) => name === 'TCPServerWrap').length,
      };
    };
    const before = countResources();
    const sim = await startSimulator({ speed: 50, seed: 1, hangupAfterScript: false });
    const created = (await api(sim, 'POST', '/call', CALL_BODY)).body;
    const ws = new WebSocket(created.monitor.listenUrl);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    sim.faults.delayNext(1, 5_000);
    const delayed = api(sim, 'GET', '/call').catch((error: unknown) => error);
    await vi.waitFor(() => expect(sim.requests).toHaveLength(2), EVENTUALLY);

    const first = sim.close();
    const second = sim.close();
    expect(second).toBe(first);
    await first;
    await sim.close();
    expect(await closed).toBe(1001);
    await delayed;

    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(sim.port, '127.0.0.1', () => resolve());
    });
    await new Promise((resolve) => probe.close(resolve));
    await expect(request(`${sim.baseUrl}/call`)).rejects.toThrow();
    const after = countResources();
    expect(after.servers).toBe(before.servers);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });
});

describe('standalone CLI', () => {
  it('prints the base URL, the key and a curl example, serves requests and stops on abort', async () => {
    let output = '';
    const controller = new AbortController();
    const running = runSimulatorCli(['--port', '0', '--seed', '7', '--speed', '20'], {
      write: (text) => (output += text),
      signal: controller.signal,
      logger: silentLogger,
    });
    await vi.waitFor(() => expect(output).toContain('curl'), EVENTUALLY);
    const baseUrl = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1];
    expect(output).toContain(DEFAULT_SIM_API_KEY);
    const body = /-d '(.+)'/.exec(output)![1];
    const res = await request(`${baseUrl}/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEFAULT_SIM_API_KEY}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.statusCode).toBe(201);
    await res.body.dump();
    controller.abort();
    await running;
    await expect(request(`${baseUrl}/call`)).rejects.toThrow();
  });

  it('rejects unknown arguments with the usage text', async () => {
    await expect(runSimulatorCli(['--bogus'])).rejects.toThrow(/unknown argument --bogus[\s\S]*Usage/);
    await expect(runSimulatorCli(['--speed', '0'])).rejects.toThrow(/--speed/);
    let help = '';
    await runSimulatorCli(['--help'], { write: (text) => (help += text) });
    expect(help).toContain('Usage: vapi-call-mcp simulator');
  });
});

describe('onEvent observer', () => {
  it('sees every event handed to listen sockets, with the number of sockets it reached', async () => {
    const seen: { callId: string; type: string; listeners: number }[] = [];
    const sim = await start({ speed: 400, onEvent: (callId, event, listeners) => seen.push({ callId, type: String(event.type), listeners }) });
    const res = await request(`${sim.baseUrl}/call`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(CALL_BODY),
    });
    const call = (await res.body.json()) as { id: string };
    await vi.waitFor(() => expect(sim.getCall(call.id)?.status).toBe('ended'), { timeout: 10_000, interval: 20 });
    expect(seen.every((e) => e.callId === call.id && e.listeners === 0)).toBe(true);
    expect(seen.map((e) => e.type)).toContain('transcript');
    expect(seen.filter((e) => e.type === 'status-update').length).toBeGreaterThanOrEqual(3);
  });
});
