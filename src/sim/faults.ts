/** Queues of injected failures, consumed one per request or handshake. */
import type { RestFaultStatus } from './types.js';

export interface RestFault {
  fail?: { status: RestFaultStatus; retryAfterSeconds?: number };
  delayMs?: number;
}

const FAULT_STATUSES: readonly number[] = [500, 502, 503, 429];

export class FaultQueues {
  private readonly failures: NonNullable<RestFault['fail']>[] = [];
  private readonly delays: number[] = [];
  private readonly listenRejections: number[] = [];
  private createDrops = 0;

  failNext(count: number, status: RestFaultStatus, retryAfterSeconds?: number): void {
    if (!FAULT_STATUSES.includes(status)) throw new RangeError(`failNext: unsupported status ${status}`);
    for (let i = 0; i < checkCount(count); i++) this.failures.push({ status, retryAfterSeconds });
  }

  delayNext(count: number, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('delayNext: ms must be a non-negative number');
    for (let i = 0; i < checkCount(count); i++) this.delays.push(ms);
  }

  rejectListenUpgrades(count: number, status: number): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError('rejectListenUpgrades: status must be an HTTP error status');
    }
    for (let i = 0; i < checkCount(count); i++) this.listenRejections.push(status);
  }

  dropAfterCreate(count: number): void {
    this.createDrops += checkCount(count);
  }

  /** True when the call just created must have its answer dropped (consumes one). */
  takeCreateDrop(): boolean {
    if (this.createDrops === 0) return false;
    this.createDrops--;
    return true;
  }

  /** The faults the next REST request gets (possibly both a failure and a delay). */
  takeRest(): RestFault {
    return { fail: this.failures.shift(), delayMs: this.delays.shift() };
  }

  takeListenRejection(): number | undefined {
    return this.listenRejections.shift();
  }
}

function checkCount(count: number): number {
  if (!Number.isInteger(count) || count < 0) throw new RangeError('fault count must be a non-negative integer');
  return count;
}
