/**
 * Request validation with Vapi's messages: DTO problems (unknown properties, wrong types, E.164) come back as an
 * array of messages, business rules (missing phone number, assistant or customer) as a single string.
 */
import { LIST_FILTER_KEYS } from './wire.js';
import { badRequest } from './errors.js';

export const PHONE_NUMBER_REQUIRED = "Couldn't Get Phone Number. Need Either `phoneNumberId` Or `phoneNumber`.";
export const ASSISTANT_REQUIRED =
  "Couldn't Get Assistant. Need Either `assistantId`, `assistant`, `squadId`, `squad`, `workflowId` Or `workflow`.";
export const CUSTOMER_REQUIRED = "Couldn't Get Customer. Need Either `customerId`, `customer` Or `customers`.";
export const E164_MESSAGE =
  'must be a valid phone number in the E.164 format. Hot tip, you may be missing the country code (Eg. US: +1).';

const CREATE_CALL_KEYS = [
  'assistantVersion',
  'transport',
  'customers',
  'name',
  'schedulePlan',
  'assistantId',
  'assistant',
  'assistantOverrides',
  'squadId',
  'squad',
  'squadOverrides',
  'workflowId',
  'workflow',
  'workflowOverrides',
  'phoneNumberId',
  'phoneNumber',
  'customerId',
  'customer',
];
const STRING_KEYS = ['assistantVersion', 'name', 'assistantId', 'squadId', 'workflowId', 'phoneNumberId', 'customerId'];
const OBJECT_KEYS = [
  'transport',
  'schedulePlan',
  'assistant',
  'assistantOverrides',
  'squad',
  'squadOverrides',
  'workflow',
  'workflowOverrides',
  'phoneNumber',
  'customer',
];
const CUSTOMER_KEYS = [
  'numberE164CheckEnabled',
  'extension',
  'assistantOverrides',
  'squadOverrides',
  'number',
  'sipUri',
  'name',
  'email',
  'externalId',
];
const SCHEDULE_PLAN_KEYS = ['earliestAt', 'latestAt'];
const E164 = /^\+[1-9]\d{1,14}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export type JsonObject = Record<string, unknown>;

/** One call to create: the request body (for echoing) and, in a batch, the customer it is for. */
export interface CallSpec {
  body: JsonObject;
  customer?: JsonObject;
  /** Call-level assistantOverrides with the customer's own overrides on top. */
  overrides?: JsonObject;
}

export type CreateCallRequest =
  | { batch: false; spec: CallSpec }
  | { batch: true; specs: CallSpec[]; errors: { customer: unknown; error: string }[] };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value));
}

export function validateCreateCall(raw: unknown, strict: boolean): CreateCallRequest {
  const body = raw === undefined ? {} : raw;
  if (!isObject(body)) throw badRequest('Request body must be a JSON object.');
  const problems: string[] = [];
  const allowed = strict ? CREATE_CALL_KEYS : [...CREATE_CALL_KEYS, 'metadata'];
  problems.push(...unknownProperties(body, allowed, ''));
  for (const key of STRING_KEYS) {
    if (body[key] !== undefined && typeof body[key] !== 'string') problems.push(`${key} must be a string`);
  }
  for (const key of OBJECT_KEYS) {
    if (body[key] !== undefined && !isObject(body[key])) problems.push(`nested property ${key} must be either object or array`);
  }
  if (typeof body.name === 'string' && body.name.length > 40) {
    problems.push('name must be shorter than or equal to 40 characters');
  }
  if (isObject(body.customer)) problems.push(...customerProblems(body.customer, 'customer.', true));
  if (body.customers !== undefined) {
    if (!Array.isArray(body.customers)) problems.push('customers must be an array');
    else
      body.customers.forEach((customer, index) => {
        if (!isObject(customer)) problems.push(`nested property customers.${index} must be either object or array`);
        else problems.push(...customerProblems(customer, `customers.${index}.`, false));
      });
  }
  if (isObject(body.schedulePlan)) {
    const plan = body.schedulePlan;
    problems.push(...unknownProperties(plan, SCHEDULE_PLAN_KEYS, 'schedulePlan.'));
    if (!isIsoDate(plan.earliestAt)) problems.push('schedulePlan.earliestAt must be a valid ISO 8601 date string');
    if (plan.latestAt !== undefined && !isIsoDate(plan.latestAt)) {
      problems.push('schedulePlan.latestAt must be a valid ISO 8601 date string');
    }
  }
  if (problems.length > 0) throw badRequest(problems);

  const websocket = isObject(body.transport) && body.transport.provider === 'vapi.websocket';
  if (websocket && (body.phoneNumberId !== undefined || body.phoneNumber !== undefined)) {
    throw badRequest('`phoneNumberId` and `phoneNumber` are not allowed with the `vapi.websocket` transport.');
  }
  if (!websocket && body.phoneNumberId === undefined && body.phoneNumber === undefined) {
    throw badRequest(PHONE_NUMBER_REQUIRED);
  }
  const families = ['assistantId', 'assistant', 'squadId', 'squad', 'workflowId', 'workflow'];
  if (!families.some((key) => body[key] !== undefined)) throw badRequest(ASSISTANT_REQUIRED);
  const hasCustomer = body.customer !== undefined || body.customerId !== undefined || body.customers !== undefined;
  if (!websocket && !hasCustomer) throw badRequest(CUSTOMER_REQUIRED);

  const callOverrides = isObject(body.assistantOverrides) ? body.assistantOverrides : undefined;
  if (!Array.isArray(body.customers)) {
    const customer = isObject(body.customer) ? body.customer : undefined;
    return { batch: false, spec: { body, customer, overrides: mergeOverrides(callOverrides, customer) } };
  }
  const specs: CallSpec[] = [];
  const errors: { customer: unknown; error: string }[] = [];
  for (const customer of body.customers as JsonObject[]) {
    const e164 = e164Problem(customer, 'customer.');
    if (e164) errors.push({ customer, error: e164 });
    else specs.push({ body, customer, overrides: mergeOverrides(callOverrides, customer) });
  }
  return { batch: true, specs, errors };
}

function customerProblems(customer: JsonObject, prefix: string, checkE164: boolean): string[] {
  const problems = unknownProperties(customer, CUSTOMER_KEYS, prefix);
  for (const key of ['number', 'extension', 'sipUri', 'name', 'email', 'externalId']) {
    if (customer[key] !== undefined && typeof customer[key] !== 'string') problems.push(`${prefix}${key} must be a string`);
  }
  if (typeof customer.number === 'string' && (customer.number.length < 3 || customer.number.length > 40)) {
    problems.push(`${prefix}number must be longer than or equal to 3 and shorter than or equal to 40 characters`);
  }
  for (const [key, max] of [['extension', 10], ['email', 40], ['externalId', 40]] as const) {
    const value = customer[key];
    if (typeof value === 'string' && value.length > max) {
      problems.push(`${prefix}${key} must be shorter than or equal to ${max} characters`);
    }
  }
  if (checkE164 && problems.length === 0) {
    const e164 = e164Problem(customer, prefix);
    if (e164) problems.push(e164);
  }
  return problems;
}

function e164Problem(customer: JsonObject, prefix: string): string | undefined {
  if (customer.numberE164CheckEnabled === false || typeof customer.number !== 'string') return undefined;
  return E164.test(customer.number) ? undefined : `${prefix}number ${E164_MESSAGE}`;
}

function unknownProperties(object: JsonObject, allowed: readonly string[], prefix: string): string[] {
  return Object.keys(object)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${prefix}property ${key} should not exist`);
}

function mergeOverrides(callLevel: JsonObject | undefined, customer: JsonObject | undefined): JsonObject | undefined {
  const own = customer && isObject(customer.assistantOverrides) ? customer.assistantOverrides : undefined;
  if (!callLevel && !own) return undefined;
  return { ...callLevel, ...own };
}

// ---- GET /call -------------------------------------------------------------------------------------------------

export type DateField = 'createdAt' | 'updatedAt';
export type Comparison = 'Gt' | 'Lt' | 'Ge' | 'Le';

export interface ListFilters {
  id?: string;
  assistantId?: string;
  phoneNumberId?: string;
  limit: number;
  dateBounds: { field: DateField; comparison: Comparison; epochMs: number }[];
}

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export function validateListQuery(query: Record<string, string>): ListFilters {
  const problems: string[] = [];
  const known: readonly string[] = LIST_FILTER_KEYS;
  for (const key of Object.keys(query)) {
    if (!known.includes(key)) problems.push(`property ${key} should not exist`);
  }
  let limit = DEFAULT_LIST_LIMIT;
  if (query.limit !== undefined) {
    const parsed = query.limit.trim() === '' ? Number.NaN : Number(query.limit);
    if (!Number.isFinite(parsed)) problems.push('limit must be a number conforming to the specified constraints');
    else if (parsed < 0) problems.push('limit must not be less than 0');
    else if (parsed > MAX_LIST_LIMIT) problems.push(`limit must not be greater than ${MAX_LIST_LIMIT}`);
    else limit = Math.floor(parsed);
  }
  const dateBounds: ListFilters['dateBounds'] = [];
  for (const field of ['createdAt', 'updatedAt'] as const) {
    for (const comparison of ['Gt', 'Lt', 'Ge', 'Le'] as const) {
      const key = `${field}${comparison}`;
      const value = query[key];
      if (value === undefined) continue;
      if (!isIsoDate(value)) problems.push(`${key} must be a valid ISO 8601 date string`);
      else dateBounds.push({ field, comparison, epochMs: Date.parse(value) });
    }
  }
  if (problems.length > 0) throw badRequest(problems);
  return { id: query.id, assistantId: query.assistantId, phoneNumberId: query.phoneNumberId, limit, dateBounds };
}

export function passesDateBound(epochMs: number, bound: ListFilters['dateBounds'][number]): boolean {
  switch (bound.comparison) {
    case 'Gt':
      return epochMs > bound.epochMs;
    case 'Lt':
      return epochMs < bound.epochMs;
    case 'Ge':
      return epochMs >= bound.epochMs;
    case 'Le':
      return epochMs <= bound.epochMs;
  }
}

// ---- PATCH /call/{id} ------------------------------------------------------------------------------------------

export function validatePatch(raw: unknown): { name?: string } {
  const body = raw === undefined ? {} : raw;
  if (!isObject(body)) throw badRequest('Request body must be a JSON object.');
  const problems = unknownProperties(body, ['name'], '');
  if (body.name !== undefined) {
    if (typeof body.name !== 'string') problems.push('name must be a string');
    else if (body.name.length > 40) problems.push('name must be shorter than or equal to 40 characters');
  }
  if (problems.length > 0) throw badRequest(problems);
  return body.name === undefined ? {} : { name: body.name as string };
}
