/** Error bodies in the NestJS shape Vapi uses: `{message, error, statusCode}`. */
import { STATUS_CODES } from 'node:http';

export interface NestErrorBody {
  message: string | string[];
  error?: string;
  statusCode: number;
}

export const INVALID_KEY_MESSAGE =
  'Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.';

export function nestError(status: number, message: string | string[]): NestErrorBody {
  return { message, error: STATUS_CODES[status] ?? 'Error', statusCode: status };
}

/** Thrown by route handlers; the router turns it into the response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: NestErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(Array.isArray(body.message) ? body.message.join('; ') : body.message);
  }
}

export const badRequest = (message: string | string[]) => new HttpError(400, nestError(400, message));
export const notFound = (message: string) => new HttpError(404, nestError(404, message));
export const unauthorized = () => new HttpError(401, nestError(401, INVALID_KEY_MESSAGE));
export const routeNotFound = (method: string, path: string) => notFound(`Cannot ${method} ${path}`);

/** What an injected failure answers with; 500 is NestJS's bare internal-error body. */
export function faultBody(status: number): NestErrorBody {
  if (status === 500) return { statusCode: 500, message: 'Internal server error' };
  return nestError(status, STATUS_CODES[status] ?? 'Error');
}
