/**
 * Strict at the door: every tool's arguments are parsed here against a strict schema (unknown keys refused at
 * every level), and every problem becomes the documented failure envelope, naming the nearest valid argument.
 */
import { z } from 'zod';
import { CallError } from '../../core/errors.js';

/** A strict object schema for a tool's input shape; nested objects are declared strict where they are defined. */
export function strictInput(shape: z.ZodRawShape): z.ZodObject {
  return z.strictObject(shape);
}

/**
 * The schema handed to the SDK: it accepts any object (so validation and its errors stay here) while tools/list
 * shows the strict JSON Schema the arguments are really checked against.
 */
export function listedInput(strict: z.ZodObject): z.ZodObject {
  const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(strict, { io: 'input' }) as Record<string, unknown>;
  return z.looseObject({}).meta(jsonSchema);
}

export function parseArguments<T>(toolName: string, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  throw argumentError(toolName, schema, parsed.error);
}

function argumentError(toolName: string, schema: z.ZodType, error: z.ZodError): CallError {
  const unknownKey = error.issues.find((issue) => issue.code === 'unrecognized_keys');
  if (unknownKey && unknownKey.code === 'unrecognized_keys') {
    const valid = keysAt(schema, unknownKey.path);
    const where = unknownKey.path.length > 0 ? ` in ${formatPath(unknownKey.path)}` : '';
    const hints = unknownKey.keys.map((key) => {
      const nearest = nearestName(key, valid);
      return nearest ? `"${key}" → did you mean "${nearest}"?` : `"${key}"`;
    });
    return new CallError({
      code: 'unknown-argument',
      reason: `${toolName} has no argument ${hints.join(', ')}${where}. Unknown arguments are refused, never ignored.`,
      suggestion: `Use only these arguments${where}: ${valid.join(', ')}.`,
      retryable: false,
    });
  }
  const problems = error.issues.slice(0, 5).map((issue) => `${issue.path.length ? formatPath(issue.path) : 'arguments'}: ${issue.message}`);
  return new CallError({
    code: 'invalid-arguments',
    reason: `${toolName} was called with invalid arguments: ${problems.join('; ')}.`,
    suggestion: `Fix the named arguments (see the tool's input schema) and call again. Valid arguments: ${keysAt(schema, []).join(', ')}.`,
    retryable: false,
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i > 0 ? '.' : ''}${String(part)}`)).join('');
}

/** The property names an object schema at `path` accepts, looking through optional, default and array wrappers. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: unknown = schema;
  for (const part of [...path, undefined]) {
    current = unwrap(current);
    if (part === undefined) break;
    const def = defOf(current);
    if (def?.type === 'object' && typeof part === 'string') current = (def.shape as Record<string, unknown>)[part];
    else if (def?.type === 'record' && typeof part === 'string') current = def.valueType;
    else if (def?.type === 'array') current = def.element;
    else return [];
  }
  const def = defOf(current);
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let def = defOf(current); def && ['optional', 'default', 'nullable', 'prefault', 'readonly'].includes(def.type as string); def = defOf(current)) {
    current = def.innerType;
  }
  return current;
}

function defOf(schema: unknown): Record<string, unknown> | undefined {
  return (schema as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
}

/** The valid name closest to `given`: same letters ignoring case, '_' and '-', else within a small edit distance. */
export function nearestName(given: string, valid: readonly string[]): string | undefined {
  const fold = (name: string) => name.toLowerCase().replace(/[_\-\s]/g, '');
  const folded = fold(given);
  const same = valid.find((name) => fold(name) === folded);
  if (same) return same;
  let best: { name: string; distance: number } | undefined;
  for (const name of valid) {
    const distance = editDistance(folded, fold(name));
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(given.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
