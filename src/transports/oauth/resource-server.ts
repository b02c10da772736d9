/**
 * This server as an OAuth resource server (MCP authorization, RFC 9728, RFC 6750): its Protected Resource Metadata,
 * the 401 and 403 challenges that lead a client to the authorization server, and who a request's bearer token
 * belongs to and what it may do. The static VAPI_MCP_TOKEN, when set, still opens everything.
 */
import type { IncomingMessage } from 'node:http';
import { FULL_RIGHTS, SCOPES, type Scope } from '../../mcp/rights.js';
import { bearerOf, sameSecret, type Refusal } from '../http-gate.js';
import type { TokenVerifier } from './token-verifier.js';

export interface Access {
  /** Who the request is from: a session opened by one principal answers only to it. */
  principal: string;
  rights: ReadonlySet<Scope>;
}

export type Admission = { access: Access } | { refusal: Refusal; reason: string };

export const METADATA_PATH = '/.well-known/oauth-protected-resource';

export interface ResourceServerOptions {
  /** The canonical URL of the MCP endpoint. */
  resource: URL;
  issuer: string;
  /** Resolved lazily: an external issuer's keys are found through its metadata on first use. */
  verifier: () => Promise<TokenVerifier>;
  staticToken?: string;
}

export class ResourceServer {
  readonly metadataUrl: string;

  constructor(private readonly options: ResourceServerOptions) {
    this.metadataUrl = new URL(`${METADATA_PATH}${options.resource.pathname}`, options.resource).href;
  }

  /** The path form (…/oauth-protected-resource/mcp) and the root form both answer. */
  isMetadataPath(path: string): boolean {
    return path === METADATA_PATH || path === `${METADATA_PATH}${this.options.resource.pathname}`;
  }

  metadata(): Record<string, unknown> {
    return {
      resource: this.options.resource.href,
      authorization_servers: [this.options.issuer],
      scopes_supported: [...SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: 'vapi-call-mcp: live phone calls',
    };
  }

  async admit(req: IncomingMessage): Promise<Admission> {
    const token = bearerOf(req);
    if (token === undefined) {
      return { refusal: this.challenge(401, 'Unauthorized: sign in through OAuth (see the resource metadata) or send the static bearer token.'), reason: 'no bearer token' };
    }
    if (this.options.staticToken !== undefined && sameSecret(token, this.options.staticToken)) {
      return { access: { principal: 'static-token', rights: FULL_RIGHTS } };
    }
    let verifier: TokenVerifier;
    try {
      verifier = await this.options.verifier();
    } catch (err) {
      const message = 'The authorization server could not be reached to check the token; try again shortly.';
      return { refusal: { status: 503, message, headers: { 'retry-after': '10' } }, reason: (err as Error).message };
    }
    const check = await verifier.verify(token);
    if (!check.ok) {
      return { refusal: this.challenge(401, `Unauthorized: ${check.reason}.`, 'invalid_token', check.reason), reason: check.reason };
    }
    if (check.token.rights.size === 0) {
      return { refusal: this.insufficientScope(['calls:read']), reason: 'the token carries none of this server\'s scopes' };
    }
    return { access: { principal: check.token.principal, rights: check.token.rights } };
  }

  /** 403 naming the scopes the request needed (a client may ask the operator for them and come back). */
  insufficientScope(needed: Scope[]): Refusal {
    return this.challenge(403, `Forbidden: this needs the scope ${needed.join(' ')}, which the token was not granted.`, 'insufficient_scope', undefined, needed);
  }

  private challenge(status: number, message: string, error?: string, description?: string, scopes: readonly Scope[] = SCOPES): Refusal {
    const params = [
      error ? `error="${error}"` : undefined,
      description ? `error_description="${description.replace(/["\\]/g, '')}"` : undefined,
      `scope="${scopes.join(' ')}"`,
      `resource_metadata="${this.metadataUrl}"`,
    ].filter(Boolean);
    return { status, message, headers: { 'www-authenticate': `Bearer ${params.join(', ')}` } };
  }
}
