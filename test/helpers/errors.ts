import { expect } from 'vitest';
import { VapiError } from '../../src/vapi/errors.js';

/** The VapiError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function vapiFailure(promise: Promise<unknown>): Promise<VapiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VapiError);
  return error as VapiError;
}
