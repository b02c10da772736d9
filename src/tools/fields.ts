/** Argument fields shared by several tools, and the checks behind them. */
import { z } from 'zod';
import { isCallId } from '../vapi/schemas.js';
import { ToolError } from './result.js';

export const callIdField = z
  .string()
  .max(200)
  .describe('The call id (a UUID) returned by create_call or list_calls');

/** Call ids reach URLs and file names, so anything but a UUID is refused before it goes anywhere. */
export function requireCallId(callId: string): string {
  const trimmed = callId.trim();
  if (!isCallId(trimmed)) {
    throw new ToolError({
      code: 'invalid-call-id',
      reason: `"${trimmed.slice(0, 60)}" is not a Vapi call id (expected a UUID such as 7420f27a-0000-4000-8000-000000000001).`,
      suggestion: 'Use the callId returned by create_call, or find the call with list_calls.',
      retryable: false,
    });
  }
  return trimmed.toLowerCase();
}

/**
 * A free-form JSON object argument (passed on to Vapi) with a size limit: its JSON text may be at most
 * `maxChars` characters, said in the description because JSON Schema cannot express it.
 */
/** A schema whose value may be at most `maxChars` characters as JSON; the limit is stated in its description. */
export function jsonLimited<T extends z.ZodType>(schema: T, maxChars: number): T {
  return schema
    .refine((value) => jsonLength(value) <= maxChars, { message: `must be at most ${maxChars} characters as JSON` })
    .describe(`${(schema.description ?? '').replace(/\.?$/, '.')} At most ${maxChars} characters as JSON.`.trim()) as T;
}

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return Infinity;
  }
}
