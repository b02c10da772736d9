/**
 * endAllCalls, the kill switch: ends every live call this server placed or listens to, in parallel, with one
 * outcome per call. The reason, when given, goes into each listened call's JSONL before the end is sent. A face
 * running in its own process (the terminal) knows no calls of its own, so it can widen the sweep to the live calls
 * on the account that any vapi-call-mcp placed (they carry its idempotency key in assistantOverrides.metadata).
 */
import { CallError } from '../errors.js';
import type { CoreParts, OperationContext } from '../parts.js';
import { idempotencyKeyOf } from '../../vapi/idempotency.js';
import { TERMINAL_STATUSES } from '../../vapi/schemas.js';
import { askVapi, sendControl } from './vapi-calls.js';

export interface EndAllCallsRequest {
  /** Why (recorded in each call's JSONL). */
  reason?: string;
  /** Also the live calls among the account's latest 100 that a vapi-call-mcp placed (default false). */
  includePlacedElsewhere?: boolean;
}

export interface EndCallOutcome {
  callId: string;
  /** ended: Vapi accepted the hang-up; already-over: the call had ended; failed: see reason. */
  outcome: 'ended' | 'already-over' | 'failed';
  code?: string;
  reason?: string;
}

export interface EndAllCallsResult {
  calls: EndCallOutcome[];
  ended: number;
  alreadyOver: number;
  failed: number;
  note: string;
}

const ALREADY_OVER_CODES = new Set(['call-ended']);

export async function endAllCalls(parts: CoreParts, request: EndAllCallsRequest, context: OperationContext): Promise<EndAllCallsResult> {
  const listened = parts.listeners.list().filter((listener) => !listener.lifecycle().ended);
  const placedElsewhere = request.includePlacedElsewhere ? await livePlacedByThisTool(parts, context) : [];
  // Cluster mode: every live call in the shared directory, whichever instance listens to it.
  const inCluster = (await parts.clusterCalls?.liveCallIds().catch(() => [])) ?? [];
  const ids = [...new Set([...listened.map((listener) => listener.callId), ...(await knownLiveCalls(parts)), ...placedElsewhere, ...inCluster])];
  parts.logger.warn('ending every live call', { calls: ids.length });

  const calls = await Promise.all(
    ids.map(async (callId): Promise<EndCallOutcome> => {
      const listener = parts.listeners.get(callId);
      listener?.note('end-all-calls', { ...(request.reason !== undefined ? { reason: request.reason } : {}) });
      try {
        await sendControl(parts, callId, 'Ending the call', (url) => parts.control.endCall(url, { signal: context.signal }), context.signal);
        return { callId, outcome: 'ended' };
      } catch (err) {
        if (!(err instanceof CallError)) throw err;
        const { code, reason } = err.failure;
        if (ALREADY_OVER_CODES.has(code)) {
          await Promise.resolve(parts.limits.recordEnded(callId)).catch(() => undefined);
          return { callId, outcome: 'already-over', reason };
        }
        listener?.note('end-all-calls-failed', { code, reason });
        return { callId, outcome: 'failed', code, reason };
      }
    }),
  );
  const count = (outcome: EndCallOutcome['outcome']) => calls.filter((c) => c.outcome === outcome).length;
  const result = { calls, ended: count('ended'), alreadyOver: count('already-over'), failed: count('failed') };
  const note =
    calls.length === 0
      ? 'No live calls: nothing to end.'
      : result.failed > 0
        ? `${result.failed} call(s) could not be ended; see each reason, and end them in the Vapi dashboard if they are still live.`
        : 'Every live call is ending; get_call shows each outcome.';
  return { ...result, note };
}

/** The calls the limits count as live; with the cluster store unreachable, the kill switch goes on with the rest. */
async function knownLiveCalls(parts: CoreParts): Promise<string[]> {
  return Promise.resolve(parts.limits.liveCallIds()).catch(() => []);
}

async function livePlacedByThisTool(parts: CoreParts, context: OperationContext): Promise<string[]> {
  const calls = await askVapi({ what: 'Listing the live calls to end' }, () => parts.rest.listCalls({ limit: 100 }, { signal: context.signal }));
  return calls.filter((call) => !TERMINAL_STATUSES.has(call.status ?? '') && idempotencyKeyOf(call) !== undefined).map((call) => call.id);
}
