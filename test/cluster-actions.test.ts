/**
 * Cluster mode, cluster-wide actions: end_all_calls on any instance ends every live call in the cluster, whichever
 * instance placed or listens to it, and every reader sees each call end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, longScript, readAll, type ClusterHarness } from './helpers/cluster.js';
import { VALID_NUMBER } from './helpers/harness.js';
import { ok } from './helpers/http.js';

let cluster: ClusterHarness | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('cluster mode: cluster-wide actions', () => {
  it('end_all_calls on B ends the calls A placed and listens to', async () => {
    cluster = await startCluster({ sim: { speed: 5, script: longScript(200, 500), waitForListener: true, ringMs: 1000, answerMs: 500 } });
    const [a, b] = await Promise.all(['a', 'b'].map((name) => cluster!.start(name)));
    const [clientA, clientB] = await Promise.all([a.connect(), b.connect()]);
    const placed = await Promise.all(
      [VALID_NUMBER, '+14155552672'].map((number) => ok<{ callId: string }>(clientA, 'create_call', { customer: { number } })),
    );
    // Both calls are live: a line was heard on each, as B sees them.
    for (const { callId } of placed) {
      const read = await ok<{ lines: unknown[]; ended: boolean }>(clientB, 'read_transcript', { callId, waitSeconds: 20 });
      expect(read.ended).toBe(false);
    }

    const result = await ok<{ ended: number; failed: number; calls: { callId: string; outcome: string }[] }>(clientB, 'end_all_calls', { reason: 'cluster test' });
    expect(result.failed).toBe(0);
    expect(result.calls.map((c) => c.callId).sort()).toEqual(placed.map((p) => p.callId).sort());
    expect(result.ended).toBe(2);

    for (const { callId } of placed) {
      const [onA, onB] = await Promise.all([readAll(clientA, callId), readAll(clientB, callId)]);
      expect(onB.lines).toEqual(onA.lines);
      expect(onA.lines.length).toBeLessThan(200);
    }
  });
});
