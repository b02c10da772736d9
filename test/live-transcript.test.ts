import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLine, RollingTranscript } from '../src/live/transcript.js';
import type { ListenEvent } from '../src/vapi/schemas.js';

const T0 = 1_700_000_000_000;
const partial = (role: string, transcript: string, timestamp?: number): ListenEvent => ({
  type: 'transcript',
  role,
  transcriptType: 'partial',
  transcript,
  ...(timestamp !== undefined && { timestamp }),
});
const final = (role: string, transcript: string, timestamp?: number): ListenEvent => ({
  type: 'transcript',
  role,
  transcriptType: 'final',
  transcript,
  ...(timestamp !== undefined && { timestamp }),
});

describe('RollingTranscript: partials and finals', () => {
  it('replaces a partial with the next partial of the same role and clears it when the final arrives', () => {
    const t = new RollingTranscript();
    expect(t.apply(partial('user', 'I would'), T0)).toBe(true);
    expect(t.apply(partial('user', 'I would like to bo'), T0)).toBe(true);
    expect(t.apply(partial('user', 'I would like to bo'), T0)).toBe(false);
    expect(t.partials()).toEqual([{ role: 'customer', text: 'I would like to bo' }]);
    expect(t.apply(final('user', 'I would like to book a table.'), T0)).toBe(true);
    expect(t.partials()).toEqual([]);
    expect(t.lines()).toEqual([{ seq: 1, role: 'customer', text: 'I would like to book a table.', secondsFromStart: 0 }]);
  });

  it('keeps one partial per role independently, customer first', () => {
    const t = new RollingTranscript();
    t.apply(partial('assistant', 'Sure'), T0);
    t.apply(partial('user', 'Hel'), T0);
    expect(t.partials()).toEqual([
      { role: 'customer', text: 'Hel' },
      { role: 'assistant', text: 'Sure' },
    ]);
    t.apply(final('bot', 'Sure, which day?'), T0);
    expect(t.partials()).toEqual([{ role: 'customer', text: 'Hel' }]);
    expect(t.lines().map((l) => l.role)).toEqual(['assistant']);
  });

  it('normalises transcript type variants and roles, ignoring unknown roles and empty text', () => {
    const t = new RollingTranscript();
    t.apply({ type: 'transcript[transcriptType="final"]', role: 'user', transcript: 'one' }, T0);
    t.apply({ type: 'transcript[transcriptType="partial"]', role: 'assistant', transcript: 'tw' }, T0);
    t.apply({ type: 'transcript', role: 'assistant', transcript: 'two' }, T0); // no transcriptType: final
    t.apply(final('system', 'not a speaker'), T0);
    t.apply(final('user', '   '), T0);
    t.apply({ type: 'conversation-update', messagesOpenAIFormatted: [] }, T0);
    expect(t.lines().map((l) => [l.seq, l.role, l.text])).toEqual([
      [1, 'customer', 'one'],
      [2, 'assistant', 'two'],
    ]);
    expect(t.partials()).toEqual([]);
  });

  it('times lines from the first in-progress status-update using the event timestamp, one decimal', () => {
    const t = new RollingTranscript();
    t.apply({ type: 'status-update', status: 'ringing', timestamp: T0 }, T0);
    t.apply({ type: 'status-update', status: 'in-progress', timestamp: T0 + 5000 }, T0 + 5000);
    t.apply(final('assistant', 'Hello!', T0 + 6240), T0 + 9999);
    t.apply(final('user', 'Hi.'), T0 + 7260); // no timestamp: receive time
    expect(t.lines().map((l) => l.secondsFromStart)).toEqual([1.2, 2.3]);
    expect(t.status).toBe('in-progress');
  });

  it('uses a given startedAt over anything else, and the first event when nothing better is known', () => {
    const given = new RollingTranscript({ startedAt: T0 });
    given.apply({ type: 'status-update', status: 'in-progress' }, T0 + 3000);
    given.apply(final('user', 'a'), T0 + 4000);
    expect(given.lines()[0].secondsFromStart).toBe(4);

    const first = new RollingTranscript();
    first.apply({ type: 'status-update', status: 'in-progress' }, T0 + 500);
    first.apply({ type: 'speech-update', status: 'started', role: 'user' }, T0 + 1000);
    first.apply(final('user', 'a'), T0 + 3500);
    expect(first.lines()[0].secondsFromStart).toBe(0.5); // a line is timed from when its utterance began
  });

  it('infers in-progress from speech when the listener joined after the answer', () => {
    const late = new RollingTranscript();
    late.apply({ type: 'status-update', status: 'ringing' }, T0);
    expect(late.status).toBe('ringing');
    expect(late.apply(partial('user', 'hel'), T0 + 2000)).toBe(true);
    expect(late.status).toBe('in-progress');
    late.apply(final('user', 'hello'), T0 + 3000);
    late.apply(partial('assistant', 'hi'), T0 + 4000);
    late.apply(final('assistant', 'hi there'), T0 + 5000);
    expect(late.lines().map((l) => l.secondsFromStart)).toEqual([0, 2]);
    late.apply({ type: 'status-update', status: 'ended' }, T0 + 6000);
    late.apply({ type: 'speech-update', status: 'started', role: 'user' }, T0 + 6500);
    expect(late.status).toBe('ended');
  });

  it('tracks status and endedReason; nothing moves a call back out of ended', () => {
    const t = new RollingTranscript();
    expect(t.status).toBe('unknown');
    expect(t.apply({ type: 'status-update', status: 'in-progress' }, T0)).toBe(true);
    expect(t.apply({ type: 'status-update', status: 'in-progress' }, T0)).toBe(false);
    expect(t.apply({ type: 'status-update', status: 'ended', endedReason: 'customer-ended-call' }, T0)).toBe(true);
    expect(t.apply({ type: 'status-update', status: 'in-progress' }, T0)).toBe(false);
    expect(t.status).toBe('ended');
    expect(t.endedReason).toBe('customer-ended-call');
    expect(t.ended).toBe(true);
  });

  it('tracks speech state and shows it in render', () => {
    const t = new RollingTranscript();
    expect(t.apply({ type: 'speech-update', status: 'started', role: 'user' }, T0)).toBe(true);
    expect(t.apply({ type: 'speech-update', status: 'started', role: 'user' }, T0)).toBe(false);
    expect(t.render({ callId: 'c', status: 'in-progress' })).toContain('Customer (speaking): …');
    expect(t.apply({ type: 'speech-update', status: 'stopped', role: 'user' }, T0)).toBe(true);
    expect(t.speakingRoles()).toEqual([]);
  });
});

describe('RollingTranscript: cap and cursor', () => {
  it('drops the oldest lines beyond maxLines, never reusing seqs, and reports missed lines to a stale cursor', () => {
    const t = new RollingTranscript({ maxLines: 3 });
    for (let i = 1; i <= 5; i++) t.apply(final('user', `line ${i}`), T0);
    expect(t.lines().map((l) => l.seq)).toEqual([3, 4, 5]);
    expect(t.droppedLines).toBe(2);
    expect(t.nextSeq).toBe(6);

    const fromStart = t.linesSince(1);
    expect(fromStart.lines.map((l) => l.seq)).toEqual([3, 4, 5]);
    expect(fromStart.missedLines).toBe(2);
    expect(fromStart.nextSeq).toBe(6);

    const current = t.linesSince(4);
    expect(current.lines.map((l) => l.seq)).toEqual([4, 5]);
    expect(current.missedLines).toBe(0);

    const caughtUp = t.linesSince(6);
    expect(caughtUp).toEqual({ lines: [], nextSeq: 6, truncated: false, missedLines: 0 });
  });

  it('pages with maxChars, never over it: a line bigger than the budget comes cut, and the cursor moves on', () => {
    const t = new RollingTranscript();
    t.apply(final('user', 'x'.repeat(50)), T0);
    t.apply(final('assistant', 'short'), T0);
    const first = t.linesSince(undefined, 20);
    expect(first.lines.map((l) => l.seq)).toEqual([1]);
    expect(`Customer: ${first.lines[0].text}\n`.length).toBeLessThanOrEqual(20);
    expect(first.lines[0].text).toMatch(/^x+…$/);
    expect(first.truncated).toBe(true);
    const second = t.linesSince(first.nextSeq, 20);
    expect(second.lines.map((l) => l.text)).toEqual(['short']);
    expect(second.truncated).toBe(false);
    expect(second.nextSeq).toBe(3);
  });

  it('render: header, dropped note naming the event log, lines, then partials', () => {
    const t = new RollingTranscript({ maxLines: 2 });
    t.apply({ type: 'status-update', status: 'in-progress' }, T0);
    t.apply(final('assistant', 'Hello, this is Ada.'), T0);
    t.apply(final('user', 'Hi Ada.'), T0);
    t.apply(final('assistant', 'How can I help?'), T0);
    t.apply(partial('user', 'I need to res'), T0);
    const text = t.render({ callId: 'abc', status: 'in-progress', durationSeconds: 12.34, transcriptPath: '/rec/abc.jsonl' });
    expect(text.split('\n')).toEqual([
      'Call abc (status: in-progress, 12.3 s)',
      '(1 earlier lines were dropped from memory. The full event log is /rec/abc.jsonl.)',
      'Customer: Hi Ada.',
      'Assistant: How can I help?',
      'Customer (speaking): I need to res',
    ]);
  });

  it('render with maxChars keeps the newest lines and stays within the limit', () => {
    const t = new RollingTranscript();
    for (let i = 1; i <= 50; i++) t.apply(final(i % 2 ? 'user' : 'assistant', `utterance number ${i}`), T0);
    t.apply({ type: 'status-update', status: 'ended', endedReason: 'customer-ended-call' }, T0);
    const text = t.render({ callId: 'abc', status: 'ended' }, 300);
    expect(text.length).toBeLessThanOrEqual(300);
    expect(text).toContain('status: ended (customer-ended-call)');
    expect(text).toContain('utterance number 50');
    expect(text).not.toContain('utterance number 1\n');
    expect(text).toMatch(/\(\d+ earlier lines not shown/);
  });

  it('render of an empty call says so', () => {
    expect(new RollingTranscript().render({ callId: 'abc', status: 'queued' })).toBe('Call abc (status: queued)\n(no speech yet)');
  });
});

type Op =
  | { kind: 'partial'; role: 'user' | 'assistant'; text: string }
  | { kind: 'final'; role: 'user' | 'assistant'; text: string }
  | { kind: 'read'; chunk: number; maxChars: number | undefined };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('partial' as const), role: fc.constantFrom('user' as const, 'assistant' as const), text: fc.string({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('final' as const), role: fc.constantFrom('user' as const, 'assistant' as const), text: fc.string({ minLength: 0, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('read' as const), chunk: fc.nat(5), maxChars: fc.option(fc.integer({ min: 1, max: 80 }), { nil: undefined }) }),
);

describe('RollingTranscript: properties', () => {
  it('a cursor reader sees every final exactly once, in order, with gaps only where the cap dropped lines', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), fc.integer({ min: 1, max: 40 }), (ops, maxLines) => {
        const t = new RollingTranscript({ maxLines });
        const committed: { role: string; text: string }[] = [];
        const seen: { seq: number; text: string }[] = [];
        let missed = 0;
        let cursor: number | undefined;
        const read = (maxChars: number | undefined) => {
          const page = t.linesSince(cursor, maxChars);
          if (maxChars !== undefined) {
            const chars = page.lines.reduce((n, l) => n + formatLine(l).length + 1, 0);
            expect(chars).toBeLessThanOrEqual(Math.max(maxChars, 'Assistant: …'.length + 1));
          }
          missed += page.missedLines;
          seen.push(...page.lines.map((l) => ({ seq: l.seq, text: l.text })));
          cursor = page.nextSeq;
          return page;
        };
        for (const op of ops) {
          if (op.kind === 'read') {
            for (let i = 0; i <= op.chunk; i++) read(op.maxChars);
            continue;
          }
          const before = t.partials();
          t.apply(op.kind === 'partial' ? partial(op.role, op.text) : final(op.role, op.text), T0);
          const role = op.role === 'user' ? 'customer' : 'assistant';
          const mine = t.partials().filter((p) => p.role === role);
          if (op.kind === 'final') {
            expect(mine).toEqual([]); // the final clears that role's partial
            if (op.text.trim()) committed.push({ role, text: op.text.trim() });
          } else {
            // A partial replaces that role's partial (a blank one clears it).
            expect(mine).toEqual(op.text.trim() ? [{ role, text: op.text.trim() }] : []);
          }
          // The other role's partial is untouched.
          expect(t.partials().filter((p) => p.role !== role)).toEqual(before.filter((p) => p.role !== role));
          expect(t.partials().length).toBeLessThanOrEqual(2);
        }
        // Drain.
        for (let guard = 0; guard < 1000; guard++) if (!read(7).truncated) break;

        const seqs = seen.map((s) => s.seq);
        expect(new Set(seqs).size).toBe(seqs.length); // no repeats
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs); // in order
        expect(seen.length + missed).toBe(committed.length); // nothing silently lost
        // Whole, or cut to fit a read's maxChars (then it ends in the cut marker).
        for (const s of seen) {
          const full = committed[s.seq - 1].text;
          if (s.text !== full) expect(s.text.endsWith('…') || s.text.includes('[cut:')).toBe(true);
        }
        expect(t.lines().length).toBeLessThanOrEqual(maxLines);
        expect(t.droppedLines).toBe(Math.max(0, committed.length - maxLines));
        if (t.droppedLines === 0) expect(missed).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
