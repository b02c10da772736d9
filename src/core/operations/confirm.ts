import { CallError } from '../errors.js';
import type { CoreParts, OperationContext } from '../parts.js';

/**
 * With VAPI_CONFIRM_CALLS on, nothing happens until the human says yes; a client that cannot ask fails closed,
 * unless the request came with a valid confirmation token (the human confirmed a dry run's preview).
 */
export async function confirmWithHuman(parts: CoreParts, context: OperationContext, question: string, options: { confirmedByToken?: boolean } = {}): Promise<void> {
  if (!parts.config.confirmCalls) return;
  const outcome = context.confirm ? await context.confirm(question) : 'unsupported';
  if (outcome === 'accepted' || (outcome === 'unsupported' && options.confirmedByToken)) return;
  if (outcome === 'declined') {
    throw new CallError({
      code: 'declined-by-user',
      reason: 'The user declined the confirmation.',
      suggestion: 'Do not retry unless the user asks again.',
      retryable: false,
    });
  }
  throw new CallError({
    code: 'confirmation-unavailable',
    reason: 'This server requires the user to confirm each call (VAPI_CONFIRM_CALLS), but this client cannot show a confirmation prompt.',
    suggestion: 'Use a client that supports MCP elicitation, or ask the operator to unset VAPI_CONFIRM_CALLS.',
    retryable: false,
  });
}
