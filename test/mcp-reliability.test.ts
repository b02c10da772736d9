/**
 * Reliability under the simulator's fault knobs, observed through the MCP surface: REST retries, listen
 * drops and rejected handshakes, malformed frames, an unusable recordings directory.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { follow, startHarness, VALID_NUMBER, type Harness } from './helpers/harness.js';
import { readWav } from './helpers/wav.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const place = async (args: Record<string, unknown> = {}) =>
  (await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER }, ...args })).callId;
const blockAligned = (bytes: number) => Math.ceil(bytes / 4) * 4;

describe('REST faults', () => {
  it('retries idempotent reads through 5xx and 429 with Retry-After', async () => {
    h = await startHarness();
    const callId = await place({ listen: false });
    const gets = () => h.sim.requests.filter((r) => r.method === 'GET' && r.path === `/call/${callId}`).length;

    h.sim.faults.failNext(2, 503);
    await h.ok('get_call', { callId });
    expect(gets()).toBe(3);

    h.sim.faults.failNext(1, 429, { retryAfterSeconds: 1 });
    const started = Date.now();
    await h.ok('get_call', { callId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(gets()).toBe(5);
  });

  it('gives up within a bounded time and says retrying later can help', async () => {
    h = await startHarness();
    h.sim.faults.failNext(20, 503);
    const started = Date.now();
    const failure = await h.err('list_calls', {});
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(failure.code).toBe('vapi-unavailable');
    expect(failure.retryable).toBe(true);
  });
});

describe('listen faults', () => {
  it('reconnects after a mid-call drop, continues the same WAV and records the gap', async () => {
    h = await startHarness({ sim: { speed: 30 } });
    const callId = await place();
    await follow(h, callId, (_r, lines) => lines.length >= 1);
    h.sim.faults.dropListen(callId);
    const { last } = await follow(h, callId, (read) => read.ended);
    expect(last.status).toBe('ended');

    const listener = h.server.core.listeners.get(callId)!;
    await listener.whenEnded();
    const state = listener.state();
    expect(state.reconnects).toBeGreaterThanOrEqual(1);
    const events = readFileSync(state.transcriptPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.meta === 'gap')).toBe(true);
    // A drop may tear a sample: the listener zero-fills that block so later samples stay channel-aligned,
    // and says so on the JSONL 'closed' line. Every received byte is on disk, plus only that padding.
    const padding = events.filter((e) => e.meta === 'closed').reduce((sum, e) => sum + (e.alignmentPaddingBytes ?? 0), 0);
    const wav = readWav(state.audioPath!);
    expect(wav.dataBytes).toBe(blockAligned(state.audioBytes + padding));
    expect(state.audioBytes).toBeLessThanOrEqual(h.sim.audioBytesSent(callId));
    expect(state.audioBytes).toBeGreaterThan(0);
  });

  it('gets through rejected handshakes', async () => {
    h = await startHarness({ sim: { speed: 60 } });
    h.sim.faults.rejectListenUpgrades(2, 500);
    const callId = await place();
    const { lines } = await follow(h, callId, (read) => read.ended);
    expect(lines.length).toBeGreaterThan(2);
    expect(h.server.core.listeners.get(callId)!.state().audioBytes).toBeGreaterThan(0);
  });

  it("falls back to Vapi's record when listening was refused and the call is over", async () => {
    h = await startHarness({ sim: { speed: 200 } });
    h.sim.faults.rejectListenUpgrades(1, 403);
    const created = await h.ok<{ callId: string }>('create_call', { customer: { number: VALID_NUMBER } });
    const listener = h.server.core.listeners.get(created.callId)!;
    await listener.whenEnded();
    expect(listener.state().listenError).toMatch(/403/);
    const { last, lines } = await follow(h, created.callId, (read) => read.ended);
    expect(last.source).toBe('vapi');
    expect(lines.length).toBeGreaterThan(2);
  });

  it('counts malformed frames and keeps going; every audio byte still lands on disk', async () => {
    h = await startHarness({ sim: { speed: 40 } });
    const callId = await place();
    await follow(h, callId, (_r, lines) => lines.length >= 1);
    for (const kind of ['bad-json', 'truncated-binary', 'giant-frame', 'unknown-event'] as const) h.sim.faults.sendMalformed(callId, kind);
    await follow(h, callId, (read) => read.ended);
    const listener = h.server.core.listeners.get(callId)!;
    await listener.whenEnded();
    const state = listener.state();
    expect(state.malformedFrames).toBeGreaterThanOrEqual(1);
    expect(state.audioBytes).toBe(h.sim.audioBytesSent(callId));
    expect(readWav(state.audioPath!).dataBytes).toBe(blockAligned(state.audioBytes));
  });
});

describe('disk faults', () => {
  it('reports an unusable recordings directory on the listen result and keeps the live transcript', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'vapi-call-mcp-blocked-'));
    const blocked = join(scratch, 'blocked');
    writeFileSync(blocked, 'a file where the directory should be');
    onTestFinished(() => rmSync(scratch, { recursive: true, force: true }));
    h = await startHarness({ sim: { speed: 60 }, config: { recordingsDir: join(blocked, 'recordings') } });
    const created = await h.ok<{ callId: string; listening: { diskError?: string } }>('create_call', { customer: { number: VALID_NUMBER } });
    const { lines } = await follow(h, created.callId, (read) => read.ended);
    expect(lines.length).toBeGreaterThan(2);
    const listened = await h.ok<{ listening: { diskError?: string } }>('get_call', { callId: created.callId });
    expect(listened.listening.diskError).toMatch(/ENOTDIR|EEXIST|not a directory/i);
    expect(h.logLines.join('\n')).toMatch(/ENOTDIR|EEXIST|not a directory/i);
  });
});

describe('isolation', () => {
  it('one broken call does not disturb another, and tools answer while calls stream', async () => {
    h = await startHarness({ sim: { speed: 30, answerMs: 30_000 } });
    const healthy = await place();
    const broken = await place();
    await follow(h, broken, (_r, lines) => lines.length >= 1);
    h.sim.faults.sendMalformed(broken, 'giant-frame');
    h.sim.faults.sendMalformed(broken, 'bad-json');
    h.sim.faults.dropListen(broken);

    const started = Date.now();
    for (let i = 0; i < 10; i++) await h.ok('list_calls', { limit: 5 });
    expect(Date.now() - started).toBeLessThan(5_000);

    await Promise.all([healthy, broken].map((id) => follow(h, id, (read) => read.ended)));
    const listener = h.server.core.listeners.get(healthy)!;
    await listener.whenEnded();
    expect(listener.state()).toMatchObject({ reconnects: 0, malformedFrames: 0 });
    expect(listener.state().audioBytes).toBe(h.sim.audioBytesSent(healthy));
    expect(h.server.core.listeners.get(broken)!.state().reconnects).toBeGreaterThanOrEqual(1);
  });
});
