/**
 * Oversight through the MCP client against the simulator: confirmation without elicitation, the cap on call
 * length and its backstop, the kill switch, quiet hours, exactly-once dialing.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { follow, startHarness, until, VALID_NUMBER, type Harness } from './helpers/harness.js';
import { postCall } from './helpers/sim.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const posts = () => h!.sim.requests.filter((r) => r.method === 'POST' && r.path === '/call');
const postedBodies = () => posts().map((r) => r.body as Record<string, any>);

async function jsonlRecords(path: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

interface Placed {
  callId: string;
  status: string;
  idempotencyKey: string;
  alreadyPlaced?: boolean;
  note?: string;
  listening?: { transcriptPath?: string };
}

describe('confirmation without elicitation (VAPI_CONFIRM_CALLS, client cannot ask)', () => {
  it('create_call returns the preview and a token; only the same request with it places the call, once', async () => {
    let offset = 0;
    h = await startHarness({ env: { VAPI_CONFIRM_CALLS: '1' }, core: { now: () => Date.now() + offset } });
    const args = { customer: { number: VALID_NUMBER, name: 'Ada' }, firstMessage: 'Hello' };

    const pending = await h.callTool('create_call', args);
    expect(pending.isError).toBeFalsy();
    const required = pending.structuredContent as any;
    expect(required).toMatchObject({
      status: 'confirmation-required',
      dryRun: false,
      preview: {
        number: { e164: VALID_NUMBER, international: '+1 415 555 2671', national: '(415) 555-2671', country: 'US' },
        customerName: 'Ada',
        assistant: 'assistant-test',
        phoneNumberId: 'phone-test',
        caps: { maxDurationSeconds: 600, maxConcurrentCalls: 50, maxCallsPerHour: 500 },
      },
    });
    expect(required.preview.summary).toContain('+1 415 555 2671 ((415) 555-2671, US)');
    expect(required.preview.summary).toContain('at most 10 minutes');
    expect(required.confirmationToken).toMatch(/^[\w-]+\.[0-9a-z]+\.[\w-]+$/);
    expect(required.idempotencyKey).toBeTruthy();
    expect(posts()).toHaveLength(0);

    // Wrong, then the request changed: each refused, saying which, and nothing placed.
    expect((await h.err('create_call', { ...args, confirmationToken: 'abc.def.ghi' })).code).toBe('confirmation-token-wrong');
    const changed = await h.err('create_call', { ...args, firstMessage: 'Hi', confirmationToken: required.confirmationToken });
    expect(changed.code).toBe('confirmation-token-mismatch');
    expect(changed.reason).toContain('Nothing was changed');
    expect(posts()).toHaveLength(0);

    const placed = await h.ok<Placed>('create_call', { ...args, confirmationToken: required.confirmationToken, idempotencyKey: required.idempotencyKey });
    expect(placed.callId).toBeTruthy();
    expect(placed.idempotencyKey).toBe(required.idempotencyKey);
    expect(posts()).toHaveLength(1);
    expect((await h.err('create_call', { ...args, confirmationToken: required.confirmationToken })).code).toBe('confirmation-token-reused');

    // Expired: a fresh token, redeemed after its 5 minutes.
    const fresh = (await h.ok<{ confirmationToken: string }>('create_call', args)).confirmationToken;
    offset = 5 * 60_000 + 1;
    expect((await h.err('create_call', { ...args, confirmationToken: fresh })).code).toBe('confirmation-token-expired');
    expect(posts()).toHaveLength(1);

    const tokens = [required.confirmationToken, fresh];
    expect(h.logLines.filter((line) => tokens.some((t) => line.includes(t)))).toEqual([]);
  });

  it('end_call and transfer_call need the token too; the token is bound to the call and the destination', async () => {
    h = await startHarness({ env: { VAPI_CONFIRM_CALLS: '1' }, sim: { hangupAfterScript: false } });
    const args = { customer: { number: VALID_NUMBER } };
    const token = (await h.ok<{ confirmationToken: string }>('create_call', args)).confirmationToken;
    const { callId } = await h.ok<Placed>('create_call', { ...args, confirmationToken: token });
    await follow(h, callId, (read) => read.status === 'in-progress');

    const transfer = await h.ok<any>('transfer_call', { callId, number: '+14155550100' });
    expect(transfer).toMatchObject({ status: 'confirmation-required', accepted: false, action: 'transfer', preview: { destination: '+14155550100' } });
    const otherDestination = await h.err('transfer_call', { callId, number: '+14155550199', confirmationToken: transfer.confirmationToken });
    expect(otherDestination.code).toBe('confirmation-token-mismatch');

    const hangUp = await h.ok<any>('end_call', { callId });
    expect(hangUp).toMatchObject({ status: 'confirmation-required', accepted: false, action: 'end-call' });
    expect(hangUp.preview.summary).toContain(VALID_NUMBER);
    expect(h.sim.controlLog).toHaveLength(0);

    // A hang-up token does not transfer, and the other way round.
    expect((await h.err('transfer_call', { callId, number: '+14155550100', confirmationToken: hangUp.confirmationToken })).code).toBe(
      'confirmation-token-mismatch',
    );
    const ended = await h.ok<any>('end_call', { callId, confirmationToken: hangUp.confirmationToken });
    expect(ended).toMatchObject({ accepted: true, action: 'end-call' });
    expect(ended.status).toBeUndefined();
    expect(h.sim.controlLog.map((c) => c.body)).toEqual([{ type: 'end-call' }]);
  });
});

describe('maximum call length (VAPI_MAX_CALL_MINUTES)', () => {
  it('caps maxDurationSeconds in the request, lowering a longer value and saying so', async () => {
    h = await startHarness({ env: { VAPI_MAX_CALL_MINUTES: '5' } });
    const plain = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(plain.note ?? '').not.toContain('lowered');
    const longer = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false, assistantOverrides: { maxDurationSeconds: 3600 } });
    expect(longer.note).toContain('maxDurationSeconds 3600 was lowered to 300');
    const shorter = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false, assistantOverrides: { maxDurationSeconds: 120 } });
    expect(shorter.note ?? '').not.toContain('lowered');
    expect(postedBodies().map((b) => b.assistantOverrides.maxDurationSeconds)).toEqual([300, 300, 120]);
  });

  it('off removes the cap', async () => {
    h = await startHarness({ env: { VAPI_MAX_CALL_MINUTES: 'off' } });
    await h.ok('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(postedBodies()[0].assistantOverrides.maxDurationSeconds).toBeUndefined();
  });

  it('ends a listened call still live 30 s after its cap, and records why in the JSONL', async () => {
    // The clock runs at the simulator's speed, so one call minute and the 30 s grace pass in about 2 s.
    const speed = 40;
    const start = Date.now();
    h = await startHarness({
      env: { VAPI_MAX_CALL_MINUTES: '1' },
      sim: { speed, hangupAfterScript: false },
      core: { now: () => start + (Date.now() - start) * speed, durationBackstop: { checkEveryMs: 20 } },
    });
    // Placed elsewhere with a 10-minute limit of its own: only this server's backstop can stop it at 1 minute.
    const call = await postCall(h.sim, {
      customer: { number: VALID_NUMBER },
      assistantId: 'assistant-test',
      phoneNumberId: 'phone-test',
      assistantOverrides: { maxDurationSeconds: 600 },
    });
    const listening = await h.ok<{ listening: { transcriptPath: string } }>('listen_call', { callId: call.id });
    const { last } = await follow(h, call.id, (read) => read.ended, 30_000);
    expect(h.sim.controlLog.map((c) => c.body)).toEqual([{ type: 'end-call' }]);
    expect(last.endedReason).not.toBe('exceeded-max-duration');

    await until(async () => (await h!.ok<any>('get_call', { callId: call.id })).listening?.filesFinal, 10_000, 'files final');
    const records = await jsonlRecords(listening.listening.transcriptPath);
    const why = records.find((r) => r.meta === 'max-duration-backstop');
    expect(why?.reason).toMatch(/30 s after the 1-minute cap \(VAPI_MAX_CALL_MINUTES\)/);
  });
});

describe('end_all_calls', () => {
  it('ends every live call in parallel, one outcome each, and records the reason', async () => {
    h = await startHarness({ sim: { hangupAfterScript: false } });
    const a = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER } });
    const b = await h.ok<Placed>('create_call', { customer: { number: '+14155550123' } });
    const unheard = await h.ok<Placed>('create_call', { customer: { number: '+14155550124' }, listen: false });
    await follow(h, a.callId, (read) => read.status === 'in-progress');
    await follow(h, b.callId, (read) => read.status === 'in-progress');
    h.sim.hangup(unheard.callId); // over already, but this server never heard it end

    const result = await h.ok<any>('end_all_calls', { reason: 'user said stop' });
    const byId = Object.fromEntries(result.calls.map((c: any) => [c.callId, c.outcome]));
    expect(byId).toEqual({ [a.callId]: 'ended', [b.callId]: 'ended', [unheard.callId]: 'already-over' });
    expect(result).toMatchObject({ ended: 2, alreadyOver: 1, failed: 0 });
    const endedAt = (id: string) => h!.sim.controlLog.filter((c) => c.callId === id).map((c) => c.body);
    expect([endedAt(a.callId), endedAt(b.callId)]).toEqual([[{ type: 'end-call' }], [{ type: 'end-call' }]]);

    for (const placed of [a, b]) {
      await follow(h, placed.callId, (read) => read.ended);
      await until(async () => (await h!.ok<any>('get_call', { callId: placed.callId })).listening?.filesFinal, 10_000, 'files final');
      const records = await jsonlRecords(placed.listening!.transcriptPath!);
      expect(records.find((r) => r.meta === 'end-all-calls')).toMatchObject({ reason: 'user said stop' });
    }
    expect((await h.ok<any>('end_all_calls', {})).calls).toEqual([]);
  });

  it('is absent in read-only mode', async () => {
    h = await startHarness({ env: { VAPI_READ_ONLY: '1' } });
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('end_all_calls');
    expect(names).toContain('list_calls');
  });
});

describe('quiet hours (VAPI_QUIET_HOURS), judged in the callee local time', () => {
  // 03:00 UTC: 20:00 in San Francisco (not quiet), 04:00 in London (quiet).
  const at = Date.parse('2026-06-01T03:00:00Z');

  it('refuses a number where it is quiet time and allows one where it is not', async () => {
    h = await startHarness({ env: { VAPI_QUIET_HOURS: '21:00-08:00' }, core: { now: () => at } });
    const refused = await h.err('create_call', { customer: { number: '+442071838750' }, listen: false });
    expect(refused.code).toBe('quiet-hours');
    expect(refused.reason).toContain('04:00');
    expect(refused.retryable).toBe(true);
    expect(refused.retryAfterSeconds).toBe(4 * 3600); // 08:00 London time
    expect(posts()).toHaveLength(0);

    await h.ok('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(posts()).toHaveLength(1);
  });

  it('judges a scheduled call at its scheduled time', async () => {
    h = await startHarness({ env: { VAPI_QUIET_HOURS: '21:00-08:00' }, core: { now: () => at } });
    const later = await h.ok<{ status: string }>('create_call', { customer: { number: '+442071838750' }, scheduledAt: '2026-06-01T10:00:00Z', dryRun: true });
    expect(later.status).toBe('dry-run');
    const night = await h.err('create_call', { customer: { number: VALID_NUMBER }, scheduledAt: '2026-06-01T06:00:00Z', dryRun: true });
    expect(night.code).toBe('quiet-hours');
  });
});

describe('exactly-once dialing (idempotencyKey)', () => {
  it('a lost answer is resolved by the key: exactly one call at Vapi, and the agent told which', async () => {
    h = await startHarness({ core: { placementLookup: { delayMs: 50 } } });
    h.sim.faults.dropAfterCreate(1);
    const placed = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false, idempotencyKey: 'order-42' });
    expect(placed.idempotencyKey).toBe('order-42');
    expect(placed.note).toContain(`it was placed once, as call ${placed.callId}`);
    const atVapi = await h.ok<{ calls: { id: string }[] }>('list_calls', {});
    expect(atVapi.calls.map((c) => c.id)).toEqual([placed.callId]);

    const again = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false, idempotencyKey: 'order-42' });
    expect(again).toMatchObject({ callId: placed.callId, alreadyPlaced: true });
    expect(posts()).toHaveLength(1);
  });

  it('places one call when the same key arrives several times at once', async () => {
    h = await startHarness();
    const args = { customer: { number: VALID_NUMBER }, listen: false, idempotencyKey: 'same-moment' };
    const results = await Promise.all([1, 2, 3].map(() => h!.ok<Placed>('create_call', args)));
    expect(new Set(results.map((r) => r.callId)).size).toBe(1);
    expect(results.filter((r) => r.alreadyPlaced)).toHaveLength(2);
    expect(posts()).toHaveLength(1);
  });

  it('generates a key when none is given, and a new request gets a new key', async () => {
    h = await startHarness();
    const first = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    const second = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER }, listen: false });
    expect(first.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.idempotencyKey).not.toBe(first.idempotencyKey);
    expect(postedBodies().map((b) => b.assistantOverrides.metadata.idempotencyKey)).toEqual([first.idempotencyKey, second.idempotencyKey]);
  });
});

describe('read_transcripts: several calls at once', () => {
  it('returns each call from its own cursor, no gaps, no repeats, and returns early when one ends', async () => {
    h = await startHarness({ sim: { hangupAfterScript: false } });
    const a = await h.ok<Placed>('create_call', { customer: { number: VALID_NUMBER } });
    const b = await h.ok<Placed>('create_call', { customer: { number: '+14155550123' } });
    const cursors: Record<string, number> = { [a.callId]: 0, [b.callId]: 0 };
    const seen: Record<string, number[]> = { [a.callId]: [], [b.callId]: [] };
    const read = (waitSeconds = 20) =>
      h!.ok<{ calls: { callId: string; lines: { seq: number }[]; nextSeq: number; ended: boolean; status: string }[] }>('read_transcripts', {
        calls: Object.entries(cursors).map(([callId, sinceSeq]) => ({ callId, sinceSeq })),
        waitSeconds,
      });
    await until(async () => {
      const result = await read();
      for (const call of result.calls) {
        seen[call.callId].push(...call.lines.map((l) => l.seq));
        cursors[call.callId] = call.nextSeq;
      }
      return seen[a.callId].length >= 3 && seen[b.callId].length >= 3;
    }, 30_000, 'three lines on each call');
    for (const seqs of Object.values(seen)) expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const confirmEnd = h.ok('end_call', { callId: a.callId });
    let ended = false;
    // Each read may wait 50 s, yet returns as soon as either call has news: a line on b, or a's end.
    await until(async () => {
      const started = Date.now();
      const result = await read(50);
      expect(Date.now() - started).toBeLessThan(25_000);
      for (const call of result.calls) cursors[call.callId] = call.nextSeq;
      ended = result.calls.find((c) => c.callId === a.callId)!.ended;
      return ended || undefined;
    }, 40_000, 'call a to end');
    await confirmEnd;
    expect(ended).toBe(true);

    const tooMany = await h.callTool('read_transcripts', { calls: Array.from({ length: 11 }, () => ({ callId: a.callId })) });
    expect(tooMany.isError).toBe(true);
    const repeated = await h.err('read_transcripts', { calls: [{ callId: a.callId }, { callId: a.callId }] });
    expect(repeated.code).toBe('invalid-calls');
  });
});
