/**
 * The deliberate shape of inline assistant configuration: Vapi's own top-level fields by name (anything else is
 * refused with the nearest name), each passed through to Vapi unchanged once every number and SIP address in it
 * passed the dial checks (src/guard/inline-config.ts). Vapi validates the inside of each field itself.
 */
import { z } from 'zod';

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

/** Values for {{variables}}: plain scalars only, so nothing structured hides in them. */
export const variableValuesSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, 'variable names are letters, digits, _ . - (up to 64)'),
    z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]),
  )
  .describe('Values for {{variables}} in the assistant prompt, e.g. {"appointmentTime": "3pm"}: strings, numbers, booleans or null');

export const inlineAssistantSchema = z
  .strictObject(fields(ASSISTANT_FIELDS))
  .describe(
    'An inline transient assistant (Vapi CreateAssistantDTO: model, voice, firstMessage, ...) instead of assistantId. server, credentials and tool ids are refused: their destinations cannot be checked here.',
  );

export const assistantOverridesSchema = z
  .strictObject({
    ...fields(ASSISTANT_FIELDS),
    'tools:append': passedThrough('tools:append').optional(),
    variableValues: variableValuesSchema.optional(),
  })
  .describe('Vapi assistantOverrides for this call only (firstMessage, variableValues, maxDurationSeconds, ...)');
