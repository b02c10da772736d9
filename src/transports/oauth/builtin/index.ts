/**
 * The built-in authorization server on the HTTP face's port: oidc-provider's endpoints under /oauth, its metadata
 * under /.well-known (both the OpenID and the RFC 8414 names), the operator's pages, and a resource server that
 * checks this server's own tokens in memory (no network) and refuses at once a token whose grant was revoked.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ResourceServer } from '../resource-server.js';
import { TokenVerifier } from '../token-verifier.js';
import { serveMetadata, type OAuthFace, type OAuthFaceOptions } from '../index.js';
import { Operator, SIGN_IN_PATH } from './operator.js';
import { interactionPage, signInLinkPage } from './pages.js';
import { createProvider, INTERACTION_PATH, OAUTH_PREFIX } from './provider.js';
import { OAuthStore } from './store.js';

const DISCOVERY_PATHS = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']);

/**
 * oidc-provider builds every URL it hands out (endpoints in its metadata, redirects, cookie security) from the
 * request; the request passed the Host check, so it is told the public origin outright. Behind a TLS-terminating
 * proxy it would otherwise see http.
 */
function asPublic(req: IncomingMessage, resource: URL, trustProxy: boolean): IncomingMessage {
  req.headers['x-forwarded-proto'] = resource.protocol.slice(0, -1);
  req.headers['x-forwarded-host'] = resource.host;
  if (!trustProxy) delete req.headers['x-forwarded-for'];
  return req;
}

export async function startBuiltin({ oauth, resource, staticToken, trustProxy, logger, fetch }: OAuthFaceOptions): Promise<OAuthFace> {
  const issuer = resource.origin;
  const store = await OAuthStore.open(oauth.dataDir);
  const provider = createProvider({ issuer, resource: resource.href, otherResources: oauth.otherResources, store, fetch });
  provider.on('server_error', (_ctx, err) => logger.error('authorization server error', { error: err.message }));
  const operator = new Operator(oauth.operatorPassword, store.secrets.cookieKeys[0]!, resource.protocol === 'https:', (link) => {
    logger.info(`Operator sign-in (one use): ${link}`);
  }, issuer);
  const callback = provider.callback();

  const verifier = new TokenVerifier({
    issuer,
    audience: resource.href,
    keys: store.publicJwks(),
    stillValid: async (payload) => typeof payload.grant_id === 'string' && (await provider.Grant.find(payload.grant_id)) !== undefined,
  });
  const resourceServer = new ResourceServer({ resource, issuer, staticToken, verifier: async () => verifier });
  const pages = { provider, operator, resource: resource.href };

  return {
    resourceServer,
    isOpenToOtherOrigins: (path) =>
      resourceServer.isMetadataPath(path) || DISCOVERY_PATHS.has(path) || (path.startsWith(`${OAUTH_PREFIX}/`) && !path.startsWith(INTERACTION_PATH) && path !== SIGN_IN_PATH),
    async serve(req: IncomingMessage, res: ServerResponse, path: string) {
      if (resourceServer.isMetadataPath(path)) {
        serveMetadata(res, resourceServer);
      } else if (path.startsWith(INTERACTION_PATH)) {
        await interactionPage(pages, req, res);
      } else if (path === SIGN_IN_PATH && req.method === 'GET') {
        signInLinkPage(operator, req, res);
      } else if (DISCOVERY_PATHS.has(path) || path.startsWith(`${OAUTH_PREFIX}/`)) {
        // RFC 8414's name for the same document oidc-provider serves as OpenID discovery.
        if (path === '/.well-known/oauth-authorization-server') req.url = '/.well-known/openid-configuration';
        await callback(asPublic(req, resource, trustProxy), res);
      } else {
        return false;
      }
      return true;
    },
  };
}
