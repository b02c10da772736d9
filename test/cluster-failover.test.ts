/**
 * Cluster mode, failover: the instance that listens to a call is killed (SIGKILL) mid-call. Another instance takes
 * the lapsed lease within the lease TTL plus a sweep and one reconnect, listens again, continues the transcript from
 * the shared lines (seqs go on), writes its audio to `<id>-2.wav` next to a continued JSONL that records the gap,
 * and every reader sees each line exactly once, seqs without a gap or a repeat.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCluster, longScript, readAll, type ClusterHarness, type Line } from './helpers/cluster.js';
import { VALID_NUMBER } from './helpers/harness.js';
import { ok } from './helpers/http.js';
import { EVENTUALLY } from './helpers/wait.js';

const LEASE_MS = 1500;

let cluster: ClusterHarness | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

function expectContiguous(lines: Line[]): void {
  expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: lines.length }, (_, i) => i + 1));
  expect(new Set(lines.map((l) => l.text)).size).toBe(lines.length);
}

describe('cluster mode: failover', () => {
  it('SIGKILL the owner mid-call: another instance takes the call, readers see every line once, the gap is recorded', async () => {
    const turns = 40;
    cluster = await startCluster({
      sharedRecordings: true,
      env: { VAPI_MCP_LEASE_MS: String(LEASE_MS) },
      sim: { speed: 10, script: longScript(turns, 300), waitForListener: true, ringMs: 1000, answerMs: 500 },
    });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => cluster!.start(name)));
    const [clientA, clientB, clientC] = await Promise.all([a.connect(), b.connect(), c.connect()]);
    const { callId } = await ok<{ callId: string }>(clientA, 'create_call', { customer: { number: VALID_NUMBER } });

    let killedAt = 0;
    const readers = Promise.all([
      readAll(clientB, callId, (line) => {
        if (line.seq === 6 && killedAt === 0) {
          killedAt = Date.now();
          a.child.kill('SIGKILL');
        }
      }),
      readAll(clientC, callId),
    ]);
    const [onB, onC] = await readers;
    expect(killedAt).toBeGreaterThan(0);
    expect((await a.exited).signal).toBe('SIGKILL');

    // Every reader: seqs 1..n, each once, the same lines on both; lines went on after the kill.
    expectContiguous(onB.lines);
    expect(onC.lines).toEqual(onB.lines);
    expect(onB.lines.length).toBeGreaterThan(8);
    expect(onB.lines.at(-1)?.text).toBe(`Line number ${turns} of the conversation.`);

    // The gap is visible to every reader: in the structured read and in the transcript text.
    for (const client of [clientB, clientC]) {
      const read = await ok<{ failovers?: number }>(client, 'read_transcript', { callId });
      expect(read.failovers).toBe(1);
      const text = await client.readResource({ uri: `vapi://calls/${callId}/transcript` });
      expect(JSON.stringify(text.contents)).toMatch(/Listening moved to another instance once/);
    }

    // The new owner's files: a second WAV, and the same JSONL continued with the gap recorded.
    const dir = join(cluster.dir, 'recordings');
    await vi.waitFor(() => expect(existsSync(join(dir, `${callId}-2.wav`))).toBe(true), EVENTUALLY);
    const records = readFileSync(join(dir, `${callId}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { meta?: string; receivedAt: number; audioPath?: string }];
        } catch {
          return []; // the line the killed owner was writing
        }
      });
    const failover = records.find((r) => r.meta === 'failover');
    expect(failover?.audioPath).toBe(join(dir, `${callId}-2.wav`));
    // Taken over within the lease, a sweep (at most 1 s) and one reconnect.
    const failoverMs = failover!.receivedAt - killedAt;
    expect(failoverMs).toBeLessThan(LEASE_MS + 1000 + 3000);
    console.log(`failover took ${failoverMs} ms (lease ${LEASE_MS} ms)`);
  });

  it('an owner whose lease another instance holds writes nothing more to the call (fenced), and stops listening', async () => {
    // A long lease: the owner flushes many times (every 250 ms) before its next renewal (every 2 s) finds it lost.
    cluster = await startCluster({
      env: { VAPI_MCP_LEASE_MS: '6000' },
      sim: { speed: 10, script: longScript(60, 300), waitForListener: true, ringMs: 500, answerMs: 300 },
    });
    const a = await cluster.start('a');
    const client = await a.connect();
    const { callId } = await ok<{ callId: string }>(client, 'create_call', { customer: { number: VALID_NUMBER } });
    await vi.waitFor(async () => expect((await ok<{ lines: unknown[] }>(client, 'read_transcript', { callId })).lines.length).toBeGreaterThan(2), EVENTUALLY);

    const redis = createClient({ url: cluster.redis.url });
    await redis.connect();
    try {
      // As if another instance had taken the call while this one was cut off: in one step, so every entry after
      // `last` was written after the lease changed hands.
      const [, newest] = (await redis
        .multi()
        .addCommand(['SET', `vcm:lease:${callId}`, 'another-instance', 'PX', '60000'])
        .addCommand(['XREVRANGE', `vcm:events:${callId}`, '+', '-', 'COUNT', '1'])
        .exec()) as [unknown, [string, string[]][]];
      const last = newest[0][0];
      await vi.waitFor(() => expect(a.stderr()).toMatch(/another instance took over the call; this one stops listening/), EVENTUALLY);
      const after = (await redis.sendCommand(['XRANGE', `vcm:events:${callId}`, `(${last}`, '+'])) as unknown[];
      expect(after).toEqual([]);
    } finally {
      await redis.close();
    }
  });
});
