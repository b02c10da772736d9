/**
 * The one failure envelope of every call operation: what went wrong, what to do next, whether retrying could
 * help. Every face shows it as it is (the MCP tools as an isError result, the terminal as a message).
 */
import { VapiError } from '../vapi/errors.js';
import { MAX_RESPONSE_BYTES } from '../vapi/http.js';

export interface CallFailure {
  status: 'error';
  code: string;
  reason: string;
  suggestion: string;
  retryable: boolean;
  retryAfterSeconds?: number;
  /** duplicate-suspected: the call already placed to the number, and the key that returns it. */
  existingCall?: { callId?: string; idempotencyKey: string };
}

/** Thrown by the core's operations for every failure the caller can act on. */
export class CallError extends Error {
  readonly failure: CallFailure;
  constructor(failure: Omit<CallFailure, 'status'>) {
    super(failure.reason);
    this.name = 'CallError';
    this.failure = { status: 'error', ...failure };
  }
}

/**
 * Cluster mode with the shared store (Valkey/Redis) unreachable: what the instances must agree on cannot be
 * checked, so the operation is refused rather than done unchecked. `outcome` starts the reason ("No call was
 * placed"); `what` names what could not be enforced.
 */
export function clusterUnavailableError(outcome: string, what: string): CallError {
  return new CallError({
    code: 'cluster-unavailable',
    reason: `${outcome}: this server runs as one of a cluster, and the store the instances share (Valkey/Redis, VAPI_MCP_REDIS_URL) is unreachable, so ${what} cannot be enforced across instances.`,
    suggestion:
      'Try again in a minute with the same arguments (and the same idempotencyKey); calls already live keep being recorded. ' +
      'If it lasts, tell the operator that the Valkey/Redis server is unreachable.',
    retryable: true,
  });
}

/** A guard's refusal (dial policy, inline config, limits) as a CallError. */
export function refusalError(refusal: { code: string; reason: string; suggestion: string; retryable?: boolean; retryAfterSeconds?: number }): CallError {
  return new CallError({
    code: refusal.code,
    reason: refusal.reason,
    suggestion: refusal.suggestion,
    retryable: refusal.retryable ?? false,
    ...(refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}),
  });
}

/** What a REST or control failure means for the model, in the words of the operation it tried. */
export interface FailureContext {
  callId?: string;
  /** What was being attempted, as the start of a sentence: "Placing a call to +1…". */
  what: string;
  /** What to do when the request may or may not have taken effect. */
  ifOutcomeUnknown?: string;
}

const CHECK_BEFORE_REPEATING = 'Check with get_call or read_transcript whether it happened before repeating it.';

export function failureFromVapiError(err: VapiError, context: FailureContext): CallFailure {
  const ifUnknown = context.ifOutcomeUnknown ?? CHECK_BEFORE_REPEATING;
  const vapiSays = err.vapiMessage ? ` Vapi said: "${err.vapiMessage}".` : '';
  const failure = (code: string, reason: string, suggestion: string, retryable: boolean): CallFailure => ({
    status: 'error',
    code,
    reason,
    suggestion,
    retryable,
    ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
  });

  if (err.kind === 'aborted') {
    return failure('cancelled', `${context.what} was cancelled before it finished.`, 'Call the tool again if it is still needed.', true);
  }
  if (err.kind === 'timeout' || err.kind === 'network') {
    const reached = err.kind === 'timeout' ? 'did not answer in time' : 'could not be reached';
    if (err.mayHaveSucceeded) {
      return failure('outcome-unknown', `${context.what}: Vapi ${reached}, so it is unknown whether it took effect.`, ifUnknown, false);
    }
    return failure('unreachable', `${context.what}: Vapi ${reached}.`, 'Check the network, then try again in a moment.', true);
  }
  if (err.kind === 'too-large') {
    if (err.mayHaveSucceeded) {
      return failure('outcome-unknown', `${context.what}: Vapi's answer was too large to read, so it is unknown whether it took effect.`, ifUnknown, false);
    }
    return failure(
      'response-too-large',
      `${context.what}: Vapi's answer was larger than the ${Math.round(MAX_RESPONSE_BYTES / 1024 / 1024)} MiB this server reads, so it was not read.`,
      'Ask for less at once (a smaller limit or narrower filters); for a single call, use its recordings and transcript in the Vapi dashboard.',
      false,
    );
  }
  if (err.kind === 'invalid-response') {
    return failure('invalid-response', `${context.what}: Vapi answered with something this server could not read.`, 'Try again; if it persists, report it.', true);
  }

  const status = err.status ?? 0;
  if (status === 401 || status === 403) {
    return failure(
      'unauthorized',
      `${context.what}: Vapi rejected the credentials (HTTP ${status}).${vapiSays}`,
      'The operator must set VAPI_API_KEY to the private key from the Vapi dashboard (not the public key) and restart the server. Retrying will not help.',
      false,
    );
  }
  if (status === 404) {
    const what = context.callId ? `Call ${context.callId} was not found` : `${context.what}: not found`;
    return failure('not-found', `${what} (HTTP 404).${vapiSays}`, 'Check the id with list_calls.', false);
  }
  if (status === 429) {
    return failure(
      'rate-limited',
      `${context.what}: Vapi is rate-limiting requests (HTTP 429).${vapiSays}`,
      err.retryAfterSeconds !== undefined ? `Wait ${err.retryAfterSeconds} s, then retry.` : 'Wait a few seconds, then retry.',
      true,
    );
  }
  if (status >= 500) {
    if (err.mayHaveSucceeded) {
      return failure(
        'outcome-unknown',
        `${context.what}: Vapi failed with HTTP ${status} after receiving the request, so it may or may not have taken effect.${vapiSays}`,
        ifUnknown,
        false,
      );
    }
    return failure('vapi-unavailable', `${context.what}: Vapi failed with HTTP ${status}.${vapiSays}`, 'Try again in a moment.', true);
  }
  return failure(
    'rejected',
    `${context.what}: Vapi rejected the request (HTTP ${status}).${vapiSays}`,
    'Fix the arguments named in Vapi\'s message and try again.',
    false,
  );
}
