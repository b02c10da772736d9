/**
 * Command line and VAPI_MCP_* variables → the validated settings of the Streamable HTTP transport. A flag wins
 * over its variable. Every failure is a ConfigError whose message names the fix; the token is never quoted.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../config.js';
import { loadOAuthOptions, type OAuthOptions } from './oauth/options.js';

export interface HttpOptions {
  /** Address to bind. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token every /mcp request must carry; required when the bind address is not loopback. */
  token?: string;
  /** Host names (no port, lower case) a request's Host may name; loopback names are always allowed. */
  allowedHosts: string[];
  /** Browser origins (scheme://host[:port]) allowed besides loopback pages; only these get CORS headers. */
  allowedOrigins: string[];
  /** Believe X-Forwarded-Host / X-Forwarded-For (set only behind a reverse proxy that overwrites them). */
  trustProxy: boolean;
  maxBodyBytes: number;
  /** A session with no open request for this long is closed. */
  sessionIdleSeconds: number;
  maxSessions: number;
  /** Tool calls one session may make per minute (a token bucket: the full minute's worth may come at once). */
  toolCallsPerMinute: number;
  /** Notifications kept per session for clients resuming a dropped stream with Last-Event-ID. */
  resumableEvents: number;
  /** OAuth 2.1 (built-in or external authorization server); the static token keeps working beside it. */
  oauth?: OAuthOptions;
}

export interface HttpFlags {
  host?: string;
  port?: string;
  /** --oauth builtin|off */
  oauth?: string;
}

export const DEFAULT_HTTP_PORT = 8788;
export const LOOPBACK_HOSTNAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

type Env = Record<string, string | undefined>;

export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

export function loadHttpOptions(env: Env, flags: HttpFlags = {}): HttpOptions {
  const host = (flags.host ?? read(env, 'VAPI_MCP_HOST') ?? '127.0.0.1').trim();
  if (!host || /[\s/]/.test(host)) throw new ConfigError(`--host / VAPI_MCP_HOST must be an address to bind such as 127.0.0.1, not "${host}".`);

  const portText = flags.port ?? read(env, 'VAPI_MCP_PORT') ?? String(DEFAULT_HTTP_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new ConfigError(`--port / VAPI_MCP_PORT must be a port number from 0 to 65535, not "${portText}".`);

  const token = read(env, 'VAPI_MCP_TOKEN');
  if (token !== undefined && (token.length < 16 || /\s/.test(token))) {
    throw new ConfigError('VAPI_MCP_TOKEN must be at least 16 characters without spaces (for example: openssl rand -hex 32).');
  }
  const oauth = loadOAuthOptions(env, flags.oauth);
  if (!token && !oauth && !isLoopbackAddress(host)) {
    throw new ConfigError(
      `Refusing to listen on ${host} without a token: anyone who reaches the port could place calls. Set VAPI_MCP_TOKEN (for example: openssl rand -hex 32), turn on OAuth (--oauth builtin or VAPI_MCP_OAUTH_ISSUER), or bind 127.0.0.1.`,
    );
  }
  if (oauth && !oauth.publicUrl && !isLoopbackAddress(host)) {
    throw new ConfigError(`OAuth on ${host} needs VAPI_MCP_PUBLIC_URL, the address clients reach this server at (such as https://calls.example.com/mcp): tokens are issued for that exact URL.`);
  }

  const allowedHosts = (readList(env, 'VAPI_MCP_ALLOWED_HOSTS') ?? []).map((name) => {
    const hostname = hostnameOf(name);
    if (!hostname) throw new ConfigError(`VAPI_MCP_ALLOWED_HOSTS: "${name}" is not a host name.`);
    return hostname;
  });
  const bound = hostnameOf(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
  if (bound && !isWildcard(host)) allowedHosts.push(bound);
  if (oauth?.publicUrl) allowedHosts.push(oauth.publicUrl.hostname.toLowerCase());

  const allowedOrigins = (readList(env, 'VAPI_MCP_ALLOWED_ORIGINS') ?? []).map((origin) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError(`VAPI_MCP_ALLOWED_ORIGINS: "${origin}" is not an origin such as https://app.example.com (scheme, host and port only).`);
    }
    return parsed.origin;
  });
  // The sign-in and consent pages post their forms from the public origin.
  if (oauth?.publicUrl) allowedOrigins.push(oauth.publicUrl.origin);

  return {
    host,
    port,
    token,
    allowedHosts: [...new Set([...LOOPBACK_HOSTNAMES, ...allowedHosts])],
    allowedOrigins,
    trustProxy: readBoolean(env, 'VAPI_MCP_TRUST_PROXY'),
    maxBodyBytes: readCount(env, 'VAPI_MCP_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    sessionIdleSeconds: readCount(env, 'VAPI_MCP_SESSION_IDLE_SECONDS', 30 * 60, 1, 7 * 24 * 3600),
    maxSessions: readCount(env, 'VAPI_MCP_MAX_SESSIONS', 100, 1, 10_000),
    toolCallsPerMinute: readCount(env, 'VAPI_MCP_TOOL_CALLS_PER_MINUTE', 120, 1, 100_000),
    resumableEvents: readCount(env, 'VAPI_MCP_RESUMABLE_EVENTS', 1000, 0, 1_000_000),
    oauth,
  };
}

/** The host name of a Host header or host[:port] value, lower case, IPv6 in brackets; undefined if malformed. */
export function hostnameOf(hostHeader: string): string | undefined {
  try {
    const { hostname, username, pathname } = new URL(`http://${hostHeader}`);
    if (username || pathname !== '/') return undefined;
    return hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function readList(env: Env, name: string): string[] | undefined {
  return read(env, name)
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function readBoolean(env: Env, name: string): boolean {
  const value = read(env, name)?.toLowerCase();
  if (value === undefined || value === '0' || value === 'false' || value === 'no') return false;
  if (value === '1' || value === 'true' || value === 'yes') return true;
  throw new ConfigError(`${name} must be 1 or 0 (true or false), not "${value}".`);
}

function readCount(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${value}".`);
  return n;
}
