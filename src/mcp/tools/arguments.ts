/**
 * Strict at the door: every tool's arguments are parsed here against a strict schema (unknown keys refused at
 * every level), and every problem becomes the documented failure envelope, naming the nearest valid argument.
 * What tools/list shows is the shape the strictest common converters take (OpenAI strict mode, Gemini): no
 * `additionalProperties`, `propertyNames`, `patternProperties` or `oneOf`/`allOf`; the refusal of unknown keys
 * and every limit stay here, on the server, whatever the client's converter kept.
 */
import { z } from 'zod';
import { CallError } from '../../core/errors.js';
import { listedAs } from './listed.js';

/** A strict object schema for a tool's input shape; nested objects are declared strict where they are defined. */
export function strictInput(shape: z.ZodRawShape): z.ZodObject {
  return z.strictObject(shape);
}

/**
 * The schema handed to the SDK: it accepts any object (so validation and its errors stay here) while tools/list
 * shows the strict JSON Schema the arguments are really checked against.
 */
export function listedInput(strict: z.ZodObject): z.ZodObject {
  // Loose, so the SDK passes unknown keys on to parseArguments; its `additionalProperties: {}` is cleared here.
  return z.looseObject({}).meta({ ...listedJsonSchema(strict), additionalProperties: undefined });
}

/** The JSON Schema of a tool's input as listed: zod's, with the shapes from `listedAs`, without `additionalProperties`. */
export function listedJsonSchema(strict: z.ZodObject): Record<string, unknown> {
  const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(strict, {
    io: 'input',
    override: ({ zodSchema, jsonSchema: node }) => {
      const listed = listedAs.get(zodSchema as unknown as z.ZodType);
      if (!listed) return;
      for (const key of Object.keys(node)) delete (node as Record<string, unknown>)[key];
      Object.assign(node, listed);
    },
  }) as Record<string, unknown>;
  return withoutAdditionalProperties(jsonSchema) as Record<string, unknown>;
}

/**
 * Google Gen AI's converter crashes on a boolean `additionalProperties`; OpenAI strict mode adds its own. Unknown
 * keys are refused by parseArguments whatever the schema says, so the keyword is left out everywhere.
 */
function withoutAdditionalProperties(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutAdditionalProperties);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== 'additionalProperties')
      .map(([key, value]) => [key, key === 'default' || key === 'const' || key === 'enum' ? value : withoutAdditionalProperties(value)]),
  );
}

export function parseArguments<T>(toolName: string, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(withoutNullOptionals(schema, args ?? {}));
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

/**
 * OpenAI strict mode makes every optional argument required and nullable, so clients send `null` for "not given":
 * an optional argument that is `null` (and does not itself take null) is read as absent, at every level.
 */
export function withoutNullOptionals(schema: unknown, value: unknown): unknown {
  const def = defOf(unwrap(schema));
  if (Array.isArray(value) && def?.type === 'array') return value.map((item) => withoutNullOptionals(def.element, item));
  if (value === null || typeof value !== 'object' || Array.isArray(value) || def?.type !== 'object') return value;
  const shape = def.shape as Record<string, z.ZodType>;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const fieldSchema = shape[key];
    if (field === null && fieldSchema && fieldSchema.safeParse(undefined).success && !fieldSchema.safeParse(null).success) continue;
    kept[key] = fieldSchema ? withoutNullOptionals(fieldSchema, field) : field;
  }
  return kept;
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
  for (let def = defOf(current); def && ['optional', 'default', 'nullable', 'prefault', 'readonly', 'pipe'].includes(def.type as string); def = defOf(current)) {
    current = def.type === 'pipe' ? def.out : def.innerType;
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
