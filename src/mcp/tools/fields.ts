/** Argument fields shared by several tools, and the checks behind them. */
import { z } from 'zod';

export const callIdField = z
  .string()
  .max(200)
  .describe('The call id (a UUID) returned by create_call or list_calls');

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
