/**
 * Cluster mode, the store goes away mid-call: the owner goes on listening and recording locally, its stream catches
 * up when the store returns (every line it missed, in one entry; the whole call when the store came back empty),
 * and readers elsewhere end with the whole transcript, seqs without a gap or a repeat. The owner keeps the call:
 * no second listen socket is opened.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCluster, longScript, readAll, type ClusterHarness } from './helpers/cluster.js';
import { VALID_NUMBER } from './helpers/harness.js';
import { ok } from './helpers/http.js';
import { EVENTUALLY } from './helpers/wait.js';

let cluster: ClusterHarness | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('cluster mode: Redis outage', () => {
  it('stop Redis mid-call and start it again: nothing lost, the transcript is complete everywhere', async () => {
    const turns = 30;
    cluster = await startCluster({
      env: { VAPI_MCP_LEASE_MS: '1500' },
      sim: { speed: 10, script: longScript(turns, 300), waitForListener: true, ringMs: 1000, answerMs: 500 },
    });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => cluster!.start(name)));
    const [clientA, clientB, clientC] = await Promise.all([a.connect(), b.connect(), c.connect()]);
    const { callId } = await ok<{ callId: string }>(clientA, 'create_call', { customer: { number: VALID_NUMBER } });

    let outage: Promise<void> | undefined;
    const onB = readAll(clientB, callId, (line) => {
      if (line.seq === 4 && !outage) outage = cluster!.redis.stop();
    });
    await vi.waitFor(() => expect(outage).toBeDefined(), { ...EVENTUALLY, timeout: 30_000 });
    await outage;
    // The owner hears lines meanwhile; its own reads serve them.
    let cursor = 5;
    while (cursor < 8) {
      const read = await ok<{ nextSeq: number; ended: boolean }>(clientA, 'read_transcript', { callId, sinceSeq: cursor, waitSeconds: 5 });
      expect(read.ended).toBe(false);
      cursor = read.nextSeq;
    }
    await cluster.redis.start();

    const [{ lines: linesB }, { lines: linesA }] = await Promise.all([onB, readAll(clientA, callId)]);
    expect(linesA.map((l) => l.seq)).toEqual(Array.from({ length: turns + 1 }, (_, i) => i + 1));
    expect(linesB).toEqual(linesA);
    // The restarted store kept nothing (no persistence): the owner wrote the call again whole, so an instance that
    // first reads the call now gets every line too.
    const { lines: linesC } = await readAll(clientC, callId);
    expect(linesC).toEqual(linesA);
    const fromStream = await ok<{ source: string }>(clientC, 'read_transcript', { callId });
    expect(fromStream.source).toBe('live');
    expect(cluster.maxListenSockets.get(callId)).toBe(1);
  });
});
