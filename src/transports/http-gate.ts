/**
 * The door of the HTTP transport: which requests may reach a session at all. DNS-rebinding protection (Host and
 * Origin allow-lists), the bearer token, and CORS for configured origins only. Pure functions of the request
 * headers, so the order of checks lives in one place (http.ts) and each rule is testable on its own.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostnameOf, isLoopbackAddress, type HttpOptions } from './http-options.js';

export interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

type GateOptions = Pick<HttpOptions, 'allowedHosts' | 'allowedOrigins' | 'trustProxy' | 'token'>;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Host (or, behind a trusted proxy, X-Forwarded-Host) must name this server; Origin, when sent, must be allowed. */
export function checkHostAndOrigin(req: IncomingMessage, options: GateOptions, checkOrigin = true): Refusal | undefined {
  const forwarded = options.trustProxy ? header(req, 'x-forwarded-host')?.split(',')[0]?.trim() : undefined;
  const hostHeader = forwarded || header(req, 'host');
  const hostname = hostHeader ? hostnameOf(hostHeader) : undefined;
  if (!hostname || !options.allowedHosts.includes(hostname)) {
    return { status: 403, message: 'Forbidden: this server does not answer to that Host. Add it to VAPI_MCP_ALLOWED_HOSTS if it is yours.' };
  }
  const origin = header(req, 'origin');
  if (checkOrigin && origin !== undefined && !isAllowedOrigin(origin, options)) {
    return { status: 403, message: 'Forbidden: requests from that Origin are not allowed. Add it to VAPI_MCP_ALLOWED_ORIGINS if it is yours.' };
  }
  return undefined;
}

/** Pages served from a loopback name (any port) and the configured origins. "null" (sandboxed, file:) never. */
function isAllowedOrigin(origin: string, options: GateOptions): boolean {
  if (options.allowedOrigins.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin && isLoopbackAddress(url.hostname);
  } catch {
    return false;
  }
}

/** CORS response headers, only for an origin the operator configured (loopback pages get none). */
export function corsHeaders(req: IncomingMessage, options: GateOptions): Record<string, string> {
  const origin = header(req, 'origin');
  if (!origin || !options.allowedOrigins.includes(origin)) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate',
    vary: 'Origin',
  };
}

export function preflightHeaders(req: IncomingMessage, options: GateOptions): Record<string, string> {
  const cors = corsHeaders(req, options);
  if (!cors['access-control-allow-origin']) return {};
  return {
    ...cors,
    'access-control-allow-methods': 'GET, POST, DELETE',
    'access-control-allow-headers': 'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id',
    'access-control-max-age': '600',
  };
}

/**
 * The bearer token, compared in constant time (both sides hashed to equal length first, so neither the content
 * nor the length leaks through timing). No token configured: everyone passes (loopback binds only).
 */
export function checkBearer(req: IncomingMessage, token: string | undefined): Refusal | undefined {
  if (token === undefined) return undefined;
  const presented = bearerOf(req);
  if (presented !== undefined && sameSecret(presented, token)) return undefined;
  const match = presented !== undefined;
  return {
    status: 401,
    message: match ? 'Unauthorized: the bearer token is not valid.' : 'Unauthorized: send Authorization: Bearer <VAPI_MCP_TOKEN>.',
    headers: { 'www-authenticate': match ? 'Bearer realm="vapi-call-mcp", error="invalid_token"' : 'Bearer realm="vapi-call-mcp"' },
  };
}

/** The token of an `Authorization: Bearer …` header, if there is one. */
export function bearerOf(req: IncomingMessage): string | undefined {
  return /^Bearer[ ]+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '')?.[1];
}

/** Equal secrets, compared in constant time. */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The client's address for logs: the socket's, or behind a trusted proxy the first X-Forwarded-For hop. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? header(req, 'x-forwarded-for')?.split(',')[0]?.trim() : undefined;
  return forwarded || req.socket.remoteAddress || 'unknown';
}
