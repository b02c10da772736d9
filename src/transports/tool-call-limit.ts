/**
 * The per-session rate limit on tool calls: a token bucket holding a minute's worth, refilled continuously. A
 * call over the limit gets the documented failure envelope (rate-limited, retryable, retryAfterSeconds) as its
 * tool result, so the model can wait and retry, instead of an HTTP error its client would surface as a crash.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallFailure } from '../core/errors.js';

export class ToolCallLimit {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perMinute;
    this.last = now();
  }

  /** Takes one call from the bucket; false when it is empty. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole seconds until the next call would be allowed. */
  retryAfterSeconds(): number {
    this.refill();
    return Math.max(1, Math.ceil(((1 - this.tokens) * 60) / this.perMinute));
  }

  refusal(): CallToolResult {
    const retryAfterSeconds = this.retryAfterSeconds();
    const failure: CallFailure = {
      status: 'error',
      code: 'rate-limited',
      reason: `This session made more than ${this.perMinute} tool calls in a minute.`,
      suggestion: `Wait ${retryAfterSeconds} s and call again; for a live call prefer read_transcript with waitSeconds over rapid polling.`,
      retryable: true,
      retryAfterSeconds,
    };
    return { isError: true, content: [{ type: 'text', text: JSON.stringify(failure) }] };
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
  }
}
