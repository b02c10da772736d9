/**
 * The built-in OAuth 2.1 authorization server: oidc-provider, configured for MCP clients and nothing more. Public
 * clients register themselves (DCR, RFC 7591) or name a Client ID Metadata Document URL; authorization code with
 * PKCE S256 only; tokens are JWTs whose audience is this server's canonical URL (resource indicators, RFC 8707);
 * authorization responses carry `iss` (RFC 9207); refresh tokens rotate; revoking one revokes its grant.
 */
import Provider, { errors, type ClientMetadata, type Configuration } from 'oidc-provider';
import { SCOPES } from '../../../mcp/rights.js';
import { adapterFor, SIGNING_ALGORITHM, type OAuthStore } from './store.js';

export const OAUTH_PREFIX = '/oauth';
export const INTERACTION_PATH = `${OAUTH_PREFIX}/interaction/`;
/** The one account the built-in server knows. */
export const OPERATOR_ACCOUNT = 'operator';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export interface BuiltinProviderOptions {
  issuer: string;
  /** The canonical URL of the MCP endpoint: the resource tokens are issued for (by default). */
  resource: string;
  /** Other servers' MCP URLs tokens may also be issued for. */
  otherResources: readonly string[];
  store: OAuthStore;
  fetch?: typeof fetch;
}

export function createProvider({ issuer, resource, otherResources, store, fetch }: BuiltinProviderOptions): Provider {
  const resources = new Set([resource, ...otherResources]);
  const configuration: Configuration = {
    adapter: adapterFor(store) as never,
    jwks: { keys: [store.secrets.signingKey as never] },
    cookies: { keys: store.secrets.cookieKeys, names: { session: 'vapi_mcp_session', interaction: 'vapi_mcp_interaction', resume: 'vapi_mcp_resume' } },
    findAccount: (_ctx, id) => (id === OPERATOR_ACCOUNT ? { accountId: id, claims: () => ({ sub: id }) } : undefined),
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: SIGNING_ALGORITHM,
    },
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', ...SCOPES],
    claims: { openid: ['sub'] },
    enabledJWA: { idTokenSigningAlgValues: [SIGNING_ALGORITHM] } as never,
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      registration: { enabled: true },
      // A client revokes only its own tokens (silently ignored otherwise, RFC 7009 style).
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (!resources.has(indicator)) throw new errors.InvalidTarget(`this server issues tokens only for ${[...resources].join(', ')}`);
          return {
            scope: SCOPES.join(' '),
            audience: indicator,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: SIGNING_ALGORITHM } },
          };
        },
      },
      clientIdMetadataDocument: { enabled: true, ack: 'draft-02' },
    },
    // Checked for every client, registered or described by a metadata document (oidc-provider runs the validator
    // of extra metadata with the whole client metadata at hand).
    extraClientMetadata: {
      properties: ['software_id'],
      validator: (_ctx, key, _value, metadata) => {
        if (key === 'software_id') checkRedirectUris(metadata);
      },
    },
    ...(fetch ? { fetch: fetch as never } : {}),
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}${interaction.uid}` },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    formats: {
      customizers: {
        // The grant a token came from, so this server can refuse tokens of a revoked grant at once.
        jwt: async (_ctx, token, jwt) => {
          jwt.payload.grant_id = (token as { grantId?: string }).grantId;
        },
      },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      Grant: 365 * 86_400,
      Interaction: 15 * 60,
      RefreshToken: 30 * 86_400,
      Session: 30 * 86_400,
    },
    routes: {
      authorization: `${OAUTH_PREFIX}/authorize`,
      token: `${OAUTH_PREFIX}/token`,
      registration: `${OAUTH_PREFIX}/register`,
      revocation: `${OAUTH_PREFIX}/revoke`,
      jwks: `${OAUTH_PREFIX}/jwks`,
      end_session: `${OAUTH_PREFIX}/session/end`,
      introspection: `${OAUTH_PREFIX}/introspect`,
      userinfo: `${OAUTH_PREFIX}/me`,
      pushed_authorization_request: `${OAUTH_PREFIX}/par`,
      code_verification: `${OAUTH_PREFIX}/device`,
      device_authorization: `${OAUTH_PREFIX}/device/auth`,
      backchannel_authentication: `${OAUTH_PREFIX}/backchannel`,
      challenge: `${OAUTH_PREFIX}/challenge`,
    },
  };
  const provider = new Provider(issuer, configuration);
  // The public origin arrives in X-Forwarded-* headers this server sets itself (builtin/index.ts).
  provider.proxy = true;
  return provider;
}

/** Redirect URIs: https anywhere, or http on a loopback address for native clients. Nothing else. */
function checkRedirectUris(metadata: ClientMetadata): void {
  for (const uri of metadata.redirect_uris ?? []) {
    const url = URL.parse(uri);
    const ok = url !== null && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)));
    if (!ok) throw new errors.InvalidRedirectUri(`redirect URIs must be https, or http on a loopback address, not ${uri.slice(0, 100)}`);
  }
}
