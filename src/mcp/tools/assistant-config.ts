/**
 * The deliberate shape of inline assistant configuration: Vapi's own top-level fields by name (anything else is
 * refused with the nearest name), each passed through to Vapi unchanged once every number and SIP address in it
 * passed the dial checks (src/guard/inline-config.ts). Vapi validates the inside of each field itself.
 */
import { z } from 'zod';
import { jsonLimited } from './fields.js';
import { listedAs } from './listed.js';

const ASSISTANT_FIELDS = [
  'transcriber',
  'model',
  'voice',
  'firstMessage',
  'firstMessageInterruptionsEnabled',
  'firstMessageMode',
  'voicemailDetection',
  'clientMessages',
  'serverMessages',
  'maxDurationSeconds',
  'backgroundSound',
  'modelOutputInMessagesEnabled',
  'transportConfigurations',
  'observabilityPlan',
  'hooks',
  'name',
  'voicemailMessage',
  'endCallMessage',
  'endCallPhrases',
  'compliancePlan',
  'metadata',
  'backgroundSpeechDenoisingPlan',
  'analysisPlan',
  'artifactPlan',
  'startSpeakingPlan',
  'stopSpeakingPlan',
  'monitorPlan',
  'credentialIds',
  'keypadInputPlan',
  'forwardingPhoneNumber',
] as const;

const passedThrough = (field: string) =>
  z.unknown().describe(`Vapi's ${field}, passed through unchanged (numbers and SIP addresses inside are checked like customer.number)`);

function fields(names: readonly string[]): z.ZodRawShape {
  return Object.fromEntries(names.map((name) => [name, passedThrough(name).optional()]));
}

/** A variable name: letters, digits, _ . - (up to 64), starting with a letter or _. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const MAX_VARIABLES = 100;

const variableSchema = z.strictObject({
  name: z.string().regex(VARIABLE_NAME, 'variable names are letters, digits, _ . - (up to 64)').describe('The {{name}} in the prompt'),
  value: z.string().max(2000).describe('Its value, as text'),
});

/**
 * Values for {{variables}}: a list of {name, value} (a plainly typed shape every framework converts, where a map
 * needs propertyNames). The map form {"name": "value"} is accepted too and read as the same list.
 */
export const variableValuesSchema = z
  .preprocess(
    (value) => (isPlainObject(value) ? Object.entries(value).map(([name, text]) => ({ name, value: text })) : value),
    jsonLimited(
      z
        .array(variableSchema)
        .max(MAX_VARIABLES)
        .refine((list) => new Set(list.map((v) => v.name)).size === list.length, { message: 'each variable name may appear once' }),
      20_000,
    ),
  )
  .describe(`Values for {{variables}} in the assistant prompt, e.g. [{"name": "appointmentTime", "value": "3pm"}] (up to ${MAX_VARIABLES})`);

/** The list form as Vapi's map. */
export function variableMap(list: readonly { name: string; value: string }[] | undefined): Record<string, string> | undefined {
  return list === undefined ? undefined : Object.fromEntries(list.map(({ name, value }) => [name, value]));
}

/**
 * Inline configuration travels as JSON text: its inside is Vapi's own, open-ended shape, which no strict converter
 * (OpenAI strict mode, Gemini) can take as an object schema. The object itself is accepted too, from clients that
 * send one. Either way it is parsed here and checked against the strict shape (unknown fields refused by name).
 */
function jsonText<T extends z.ZodType>(schema: T, what: string, maxChars: number) {
  const parsed = z.preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    if (value.length > maxChars) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${maxChars} characters of JSON`, input: value });
      return z.NEVER;
    }
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON text (give one JSON object, e.g. {"firstMessage": "Hi"})', input: value });
      return z.NEVER;
    }
  }, schema);
  listedAs.add(parsed, { type: 'string', maxLength: maxChars, description: `${what} As JSON text of one object, at most ${maxChars} characters.` });
  return parsed;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const inlineAssistantObject = z.strictObject(fields(ASSISTANT_FIELDS));

const assistantOverridesObject = z.strictObject({
  ...fields(ASSISTANT_FIELDS),
  'tools:append': passedThrough('tools:append').optional(),
  variableValues: z
    .record(z.string().regex(VARIABLE_NAME), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]))
    .optional()
    .describe("Vapi's variableValues map"),
});

export const inlineAssistantSchema = jsonText(
  jsonLimited(inlineAssistantObject, 100_000),
  'An inline transient assistant (Vapi CreateAssistantDTO: model, voice, firstMessage, ...) instead of assistantId. server, credentials and tool ids are refused: their destinations cannot be checked here.',
  100_000,
);

export const assistantOverridesSchema = jsonText(
  jsonLimited(assistantOverridesObject, 100_000),
  'Vapi assistantOverrides for this call only (firstMessage, maxDurationSeconds, ...).',
  100_000,
);
