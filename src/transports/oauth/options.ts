/**
 * VAPI_MCP_OAUTH* variables → the OAuth settings of the HTTP face. Off by default. `builtin` mounts this server's
 * own authorization server on the same port; VAPI_MCP_OAUTH_ISSUER trusts an external one. Either way the server
 * is the resource named by VAPI_MCP_PUBLIC_URL, and tokens must be issued for exactly that URL.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../config.js';

export type OAuthMode = 'builtin' | 'external';

export interface OAuthOptions {
  mode: OAuthMode;
  /** The canonical URL of the MCP endpoint (https://host/mcp); derived from the bound address when absent (loopback only). */
  publicUrl?: URL;
  /** external: the issuer whose tokens are accepted, exactly as its metadata and tokens spell it. */
  issuer?: string;
  /** builtin: where signing keys, clients and grants are kept. */
  dataDir: string;
  /** builtin: the operator's passphrase; absent, a one-time sign-in link is printed on stderr. */
  operatorPassword?: string;
  /** external: this server's client credentials at the issuer, for introspecting opaque tokens (RFC 7662). */
  introspectionClient?: { id: string; secret: string };
  /** builtin: other servers' MCP URLs this authorization server may also issue tokens for (one operator, several servers). */
  otherResources: string[];
}

export const DEFAULT_OAUTH_DATA_DIR = join(homedir(), '.vapi-call-mcp', 'oauth');

type Env = Record<string, string | undefined>;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

export function loadOAuthOptions(env: Env, flag?: string): OAuthOptions | undefined {
  const modeText = (flag ?? read(env, 'VAPI_MCP_OAUTH'))?.toLowerCase();
  const issuerText = read(env, 'VAPI_MCP_OAUTH_ISSUER');
  if (modeText !== undefined && modeText !== 'builtin' && modeText !== 'off') {
    throw new ConfigError(`--oauth / VAPI_MCP_OAUTH must be "builtin" or "off", not "${modeText}". For an external issuer set VAPI_MCP_OAUTH_ISSUER instead.`);
  }
  if (modeText === 'builtin' && issuerText) {
    throw new ConfigError('Choose one authorization server: --oauth builtin or VAPI_MCP_OAUTH_ISSUER, not both.');
  }
  const mode: OAuthMode | undefined = modeText === 'builtin' ? 'builtin' : issuerText && modeText !== 'off' ? 'external' : undefined;
  if (!mode) return undefined;

  const publicText = read(env, 'VAPI_MCP_PUBLIC_URL');
  const publicUrl = publicText === undefined ? undefined : publicMcpUrl(publicText);
  const issuerUrl = issuerText === undefined ? undefined : secureUrl('VAPI_MCP_OAUTH_ISSUER', issuerText);
  const issuer = issuerText;
  if (issuerUrl && (issuerUrl.search || issuerUrl.hash)) throw new ConfigError('VAPI_MCP_OAUTH_ISSUER must be the issuer URL exactly as its metadata states it, without ? or #.');

  const operatorPassword = read(env, 'VAPI_MCP_OPERATOR_PASSWORD');
  if (operatorPassword !== undefined && operatorPassword.length < 12) {
    throw new ConfigError('VAPI_MCP_OPERATOR_PASSWORD must be at least 12 characters (for example: openssl rand -base64 18).');
  }
  const otherResources = (read(env, 'VAPI_MCP_OAUTH_OTHER_RESOURCES') ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => secureUrl('VAPI_MCP_OAUTH_OTHER_RESOURCES', item).href);
  const clientId = read(env, 'VAPI_MCP_OAUTH_CLIENT_ID');
  const clientSecret = read(env, 'VAPI_MCP_OAUTH_CLIENT_SECRET');
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    throw new ConfigError('Set both VAPI_MCP_OAUTH_CLIENT_ID and VAPI_MCP_OAUTH_CLIENT_SECRET (this server\'s credentials at the issuer, for introspection), or neither.');
  }
  const introspectionClient = clientId && clientSecret ? { id: clientId, secret: clientSecret } : undefined;
  return { mode, publicUrl, issuer, introspectionClient, dataDir: read(env, 'VAPI_MCP_DATA_DIR') ?? DEFAULT_OAUTH_DATA_DIR, operatorPassword, otherResources };
}

/** The public URL of the MCP endpoint: https (http only on loopback), path /mcp (added when only an origin is given). */
function publicMcpUrl(text: string): URL {
  const url = secureUrl('VAPI_MCP_PUBLIC_URL', text);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/mcp';
  if (url.pathname !== '/mcp' || url.search || url.hash) {
    throw new ConfigError(`VAPI_MCP_PUBLIC_URL must be the public address of this server's MCP endpoint, such as https://calls.example.com/mcp, not "${text}".`);
  }
  return url;
}

function secureUrl(name: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name} must be a URL such as https://calls.example.com, not "${text}".`);
  }
  if (url.username || url.password) throw new ConfigError(`${name} must not carry a user name or password.`);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname))) return url;
  throw new ConfigError(`${name} must be https (http only for localhost), not "${text}": tokens would cross the network in clear.`);
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}
