import { ClusterUnavailableError } from '../../cluster/store.js';
import { CallError, clusterUnavailableError } from '../errors.js';
import type { CoreParts, OperationContext } from '../parts.js';

/** What a change that needs the human's yes hands back when the face cannot ask: the preview and its token. */
export interface ConfirmationRequired<P> {
  status: 'confirmation-required';
  preview: P;
  confirmationToken: string;
  confirmationExpiresAt: string;
  note: string;
}

export type ConfirmationOutcome = { confirmed: true } | { confirmed: false; token: string; expiresAt: string };

export interface ConfirmOptions {
  /** The question a face that can ask puts to the human. */
  question: string;
  /** The exact normalised request the human confirms; a token is bound to it. */
  request: unknown;
  /** A token from an earlier preview of this request, if the caller brought one. */
  token?: string;
  /** Said when the token is refused: how to get a fresh one. */
  retry: string;
}

/**
 * Nothing changes until the human agrees, when VAPI_CONFIRM_CALLS is on. A face that can ask (MCP elicitation, a
 * TTY prompt) asks every time. One that cannot gets a preview and a token bound to the exact request: the change
 * happens only when the same request comes back with it (the human saw the preview and agreed). A token brought
 * along is redeemed whether or not confirmation is on (the console's Place call button always brings one).
 */
export async function confirmChange(parts: CoreParts, context: OperationContext, options: ConfirmOptions): Promise<ConfirmationOutcome> {
  const { token } = options;
  if (token !== undefined) {
    const redeemed = await sharedTokens(() => parts.confirmations.redeem(token, options.request));
    if (!redeemed.ok) {
      throw new CallError({ code: redeemed.code, reason: `${redeemed.reason} Nothing was changed.`, suggestion: options.retry, retryable: false });
    }
  }
  if (!parts.config.confirmCalls) return { confirmed: true };
  const outcome = context.confirm ? await context.confirm(options.question) : 'unsupported';
  if (outcome === 'accepted') return { confirmed: true };
  if (outcome === 'declined') {
    throw new CallError({
      code: 'declined-by-user',
      reason: 'The user declined the confirmation.',
      suggestion: 'Do not retry unless the user asks again.',
      retryable: false,
    });
  }
  if (options.token !== undefined) return { confirmed: true };
  const issued = await sharedTokens(() => parts.confirmations.issue(options.request));
  return { confirmed: false, token: issued.token, expiresAt: issued.expiresAt };
}

/** Cluster mode: tokens live in the shared store; while it is unreachable nothing that needs one goes ahead. */
async function sharedTokens<T>(use: () => T | Promise<T>): Promise<T> {
  try {
    return await use();
  } catch (err) {
    throw err instanceof ClusterUnavailableError ? clusterUnavailableError('Nothing was changed', 'confirmation tokens') : err;
  }
}

export const CONFIRMATION_NOTE =
  'Nothing happened yet: this server needs the user to confirm. Show the user the preview, and only if they agree, call again with exactly the same arguments plus confirmationToken (valid 5 minutes, once).';
