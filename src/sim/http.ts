/** Small HTTP plumbing shared by the REST and control routes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, nestError } from './errors.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface ReadBody {
  /** Parsed JSON, or the raw text when it was not JSON, or undefined when empty. */
  value: unknown;
  /** Set when a non-empty body failed to parse. */
  error?: HttpError;
}

export async function readBody(req: IncomingMessage): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  }
  if (tooLarge) return { value: undefined, error: new HttpError(413, nestError(413, 'request entity too large')) };
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { value: text, error: new HttpError(400, nestError(400, (error as Error).message)) };
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  return match ? match[1].trim() : undefined;
}

export function queryOf(url: URL): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  return query;
}
