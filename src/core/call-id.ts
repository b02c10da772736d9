import { isCallId } from '../vapi/schemas.js';
import { CallError } from './errors.js';

/** Call ids reach URLs and file names, so anything but a UUID is refused before it goes anywhere. */
export function requireCallId(callId: string): string {
  const trimmed = callId.trim();
  if (!isCallId(trimmed)) {
    throw new CallError({
      code: 'invalid-call-id',
      reason: `"${trimmed.slice(0, 60)}" is not a Vapi call id (expected a UUID such as 7420f27a-0000-4000-8000-000000000001).`,
      suggestion: 'Use the callId returned by create_call, or find the call with list_calls.',
      retryable: false,
    });
  }
  return trimmed.toLowerCase();
}
