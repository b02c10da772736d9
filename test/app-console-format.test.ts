/** The console view's pure helpers (formatting, reading tool results), outside the browser. */
import { describe, expect, it } from 'vitest';
import { clock, failureOf, formatCost, meterPercent, resultJson } from '../src/mcp/app/view/format.js';

describe('console view helpers', () => {
  it('formats call time, cost and meter fill', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(75.9)).toBe('1:15');
    expect(clock(3725)).toBe('1:02:05');
    expect(formatCost(0.0421)).toBe('$0.0421');
    expect(formatCost(12.5)).toBe('$12.50');
    expect(formatCost(undefined)).toBeUndefined();
    expect(meterPercent(0)).toBe(100);
    expect(meterPercent(-30)).toBe(50);
    expect(meterPercent(-90)).toBe(0);
    expect(meterPercent(Number.NEGATIVE_INFINITY)).toBe(0);
  });

  it('reads the error envelope from a text-only isError result, and survives anything else', () => {
    const envelope = { status: 'error', code: 'premium-rate', reason: 'Premium numbers are refused.', suggestion: 'Use another number.', retryable: false };
    expect(failureOf({ isError: true, content: [{ type: 'text', text: JSON.stringify(envelope) }] })).toEqual({
      code: 'premium-rate',
      reason: 'Premium numbers are refused.',
      suggestion: 'Use another number.',
      retryable: false,
    });
    expect(failureOf({ isError: true, content: [{ type: 'text', text: 'plain words' }] }).reason).toBe('plain words');
    expect(failureOf({ isError: true }).reason).toMatch(/without saying why/);
    expect(resultJson({ structuredContent: { callId: 'x' }, content: [] })).toEqual({ callId: 'x' });
  });
});
