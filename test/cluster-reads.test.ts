/**
 * Cluster mode, any instance serves any call: three built servers share one redis-server and one simulator. A call
 * placed on A is read on B and C through their own read_transcript cursors: the same lines with the same seqs and
 * cursors as on A, and a resource subscription on C is notified as lines arrive.
 */
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
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

describe('cluster mode: any instance serves any call', () => {
  it('place on A, read on B and C: identical lines and cursors; a subscription on C gets updates', async () => {
    const turns = 30;
    cluster = await startCluster({ sim: { speed: 20, script: longScript(turns), waitForListener: true, ringMs: 1000, answerMs: 500 } });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => cluster!.start(name)));
    const [clientA, clientB, clientC] = await Promise.all([a.connect(), b.connect(), c.connect()]);

    const { callId } = await ok<{ callId: string }>(clientA, 'create_call', { customer: { number: VALID_NUMBER } });
    const updates: string[] = [];
    clientC.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    await clientC.subscribeResource({ uri: `vapi://calls/${callId}/transcript` });

    // An instance that first hears of the call mid-call catches up from the stream: the lines so far, and the owner's
    // last published state with its audio metrics (carried by an entry a few back when the newest has none).
    let lateRead: Promise<{ lines: unknown[]; ended?: boolean; audio?: { source: string } }> | undefined;
    const startLate = async () => {
      const late = await (await cluster!.start('d')).connect();
      return ok<{ lines: unknown[]; ended?: boolean; audio?: { source: string } }>(late, 'read_transcript', { callId });
    };
    const [onA, onB, onC] = await Promise.all([
      readAll(clientA, callId, (line) => void (line.seq === 4 && (lateRead = startLate()))),
      readAll(clientB, callId),
      readAll(clientC, callId),
    ]);
    const late = await lateRead!;
    expect(late.lines.length).toBeGreaterThan(3);
    expect(late.ended).toBe(false);
    expect(late.audio?.source).toBe('audio');
    // The first message and every scripted turn, numbered 1..n, in order, once each.
    expect(onA.lines.map((l) => l.seq)).toEqual(Array.from({ length: turns + 1 }, (_, i) => i + 1));
    expect(onA.lines.at(-1)?.text).toBe(`Line number ${turns} of the conversation.`);
    expect(onB.lines).toEqual(onA.lines);
    expect(onC.lines).toEqual(onA.lines);
    expect(onB.cursors.at(-1)).toBe(turns + 2);
    expect(onC.cursors.at(-1)).toBe(turns + 2);
    await vi.waitFor(() => expect(updates.length).toBeGreaterThan(0), EVENTUALLY);

    // A cursor from one instance works on another: B's lines from seq 5 are A's.
    const fromFive = await ok<{ lines: { seq: number; text: string }[]; nextSeq: number }>(clientB, 'read_transcript', { callId, sinceSeq: 5 });
    expect(fromFive.lines.map((l) => l.seq)).toEqual(onA.lines.filter((l) => l.seq >= 5).map((l) => l.seq));
    expect(fromFive.nextSeq).toBe(turns + 2);

    // The live console's data path on C: the same lines, the call's end, from the stream.
    const update = await ok<{ lines: { seq: number; text: string }[]; ended: boolean; nextSeq: number; source: string }>(clientC, 'console_updates', { callId, sinceSeq: 1 });
    expect(update.lines.map((l) => l.text)).toEqual(onA.lines.map((l) => l.text));
    expect(update).toMatchObject({ ended: true, nextSeq: turns + 2, source: 'live' });

    // One listen socket for the call in the whole cluster: B and C served it from the stream.
    expect(cluster.maxListenSockets.get(callId)).toBe(1);
  });
});
