/**
 * OAuth on the HTTP face, assembled: the resource server (always), and the built-in authorization server on the
 * same port (`--oauth builtin`) or the keys of an external issuer (VAPI_MCP_OAUTH_ISSUER). http.ts asks it two
 * things: may this request in, and is this path one of OAuth's own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import { introspector } from './introspection.js';
import { discoverIssuer } from './issuer-metadata.js';
import type { OAuthOptions } from './options.js';
import { ResourceServer } from './resource-server.js';
import { TokenVerifier } from './token-verifier.js';

export type { Access, Admission } from './resource-server.js';

export interface OAuthFace {
  resourceServer: ResourceServer;
  /** Serves the path when it is OAuth's (metadata, the built-in server's endpoints and pages); false otherwise. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** Paths a browser of another origin may call (metadata, token, registration); the door skips its Origin check. */
  isOpenToOtherOrigins(path: string): boolean;
}

export interface OAuthFaceOptions {
  oauth: OAuthOptions;
  /** The canonical URL of the MCP endpoint (VAPI_MCP_PUBLIC_URL, or the bound loopback address). */
  resource: URL;
  staticToken?: string;
  trustProxy: boolean;
  logger: Logger;
  /** The built-in server's fetch for Client ID Metadata Documents; oidc-provider's own (SSRF-guarded) by default. */
  fetch?: typeof fetch;
}

export async function startOAuth(options: OAuthFaceOptions): Promise<OAuthFace> {
  if (options.oauth.mode === 'builtin') {
    const { startBuiltin } = await import('./builtin/index.js');
    return startBuiltin(options);
  }
  const issuer = options.oauth.issuer!;
  let verifier: Promise<TokenVerifier> | undefined;
  const resourceServer = new ResourceServer({
    resource: options.resource,
    issuer,
    staticToken: options.staticToken,
    verifier: () => {
      verifier ??= discoverIssuer(issuer).then((metadata) => {
        const client = options.oauth.introspectionClient;
        const endpoint = metadata.introspection_endpoint;
        const introspect = client && endpoint
          ? introspector({ endpoint, issuer: metadata.issuer, audience: options.resource.href, clientId: client.id, clientSecret: client.secret })
          : undefined;
        return new TokenVerifier({ issuer: metadata.issuer, audience: options.resource.href, keys: new URL(metadata.jwks_uri), introspect });
      });
      // A failed discovery is tried again on the next request, not remembered.
      verifier.catch(() => (verifier = undefined));
      return verifier;
    },
  });
  return {
    resourceServer,
    isOpenToOtherOrigins: (path) => resourceServer.isMetadataPath(path),
    async serve(_req, res, path) {
      if (!resourceServer.isMetadataPath(path)) return false;
      serveMetadata(res, resourceServer);
      return true;
    },
  };
}

export function serveMetadata(res: ServerResponse, resourceServer: ResourceServer): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'access-control-allow-origin': '*' });
  res.end(JSON.stringify(resourceServer.metadata()));
}
