/**
 * The operator's pages of the built-in authorization server: one sign-in and consent page per authorization
 * request (it names the client, where it sends you back, and the scopes asked for; the operator may grant fewer),
 * and the landing page of the one-time sign-in link. Plain HTML forms, no script.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { isScope, SCOPE_DESCRIPTIONS, SCOPES, type Scope } from '../../../mcp/rights.js';
import { OPERATOR_ACCOUNT } from './provider.js';
import type { Operator } from './operator.js';

export interface PagesOptions {
  provider: Provider;
  operator: Operator;
  resource: string;
}

const MAX_FORM_BYTES = 16 * 1024;

export async function interactionPage({ provider, operator, resource: ownResource }: PagesOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let details: Awaited<ReturnType<Provider['interactionDetails']>>;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    return page(res, 400, shell('Request expired', '<p>This connection request expired or was already answered. Start again from your client.</p>'));
  }
  // The resource was checked against the allowed ones when the request came in.
  const resource = typeof details.params.resource === 'string' ? details.params.resource : ownResource;
  const signedIn = details.prompt.name !== 'login' || operator.isSignedIn(req);
  const requested = requestedScopes(details.params.scope);
  const client = await provider.Client.find(String(details.params.client_id));
  const clientName = client?.clientName ?? String(details.params.client_id);
  const redirectHost = URL.parse(String(details.params.redirect_uri))?.host ?? '?';
  const view = { uid: details.uid, clientName, redirectHost, requested, signedIn, usesPassword: operator.usesPassword, server: resource };

  if (req.method === 'GET') return page(res, 200, consentPage(view));

  const form = await readForm(req);
  if (form.get('action') === 'deny') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The operator declined.' }, { mergeWithLastSubmission: false });
  }
  if (!signedIn) {
    const checked = operator.checkPassword(form.get('password') ?? '');
    if (checked !== true) {
      const problem = checked === undefined ? 'Too many wrong passphrases; wait a minute.' : 'That passphrase is not right.';
      return page(res, checked === undefined ? 429 : 401, consentPage({ ...view, problem }));
    }
    res.setHeader('set-cookie', operator.signedInCookie());
  }
  const granted = form.getAll('scope').filter((s): s is Scope => isScope(s) && requested.includes(s));
  if (granted.length === 0) {
    return page(res, 400, consentPage({ ...view, signedIn: true, problem: 'Grant at least one scope, or deny.' }));
  }
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId: OPERATOR_ACCOUNT, clientId: String(details.params.client_id) });
  // Our scopes are known to oidc-provider both as its own (so clients may register them) and as the resource's
  // (so tokens for this resource carry them): grant and refuse them as both, or it asks again.
  const refused = requested.filter((s) => !granted.includes(s));
  grant.addOIDCScope(granted.join(' '));
  grant.addResourceScope(resource, granted.join(' '));
  if (refused.length) {
    grant.rejectOIDCScope(refused.join(' '));
    grant.rejectResourceScope(resource, refused.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: OPERATOR_ACCOUNT }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

/** The one-time link printed on stderr: marks this browser as the operator's. */
export function signInLinkPage(operator: Operator, req: IncomingMessage, res: ServerResponse): void {
  const code = new URL(req.url ?? '/', 'http://x').searchParams.get('code') ?? '';
  if (!operator.redeem(code)) {
    return page(res, 403, shell('Link already used', '<p>This sign-in link was already used or is not current. The server prints a fresh one on its stderr.</p>'));
  }
  res.setHeader('set-cookie', operator.signedInCookie());
  page(res, 200, shell('Signed in', '<p>This browser is now signed in as the operator for 30 days. Go back to the connection request and reload it.</p>'));
}

function requestedScopes(scope: unknown): Scope[] {
  const asked = String(scope ?? '').split(' ').filter(isScope);
  return asked.length ? SCOPES.filter((s) => asked.includes(s)) : [...SCOPES];
}

interface ConsentView {
  uid: string;
  clientName: string;
  redirectHost: string;
  requested: Scope[];
  signedIn: boolean;
  usesPassword: boolean;
  /** The MCP server the token will open. */
  server: string;
  problem?: string;
}

function consentPage(view: ConsentView): string {
  const scopes = view.requested
    .map((s) => `<label><input type="checkbox" name="scope" value="${s}" checked> <b>${s}</b>: ${escape(SCOPE_DESCRIPTIONS[s])}</label>`)
    .join('\n');
  const signIn = view.signedIn
    ? ''
    : view.usesPassword
      ? '<label>Operator passphrase <input type="password" name="password" autocomplete="current-password" required autofocus></label>'
      : '<p>Sign in first: open the one-time sign-in link this server printed on its stderr, in this browser, then reload this page.</p>';
  const body = `
<p><b>${escape(view.clientName)}</b> asks to use the phone-call tools of <b>${escape(view.server)}</b>.
It will be sent back to <b>${escape(view.redirectHost)}</b>.</p>
${view.problem ? `<p class="problem">${escape(view.problem)}</p>` : ''}
<form method="post" action="/oauth/interaction/${encodeURIComponent(view.uid)}">
<fieldset><legend>Grant</legend>
${scopes}
</fieldset>
${signIn}
<button type="submit" name="action" value="allow"${view.signedIn || view.usesPassword ? '' : ' disabled'}>Allow</button>
<button type="submit" name="action" value="deny" formnovalidate>Deny</button>
</form>`;
  return shell('Connect a client', body);
}

function shell(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>vapi-call-mcp: ${escape(title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.6rem 0}
.problem{color:#b00020}button{margin:.8rem .6rem 0 0;padding:.4rem 1.2rem}fieldset{border:1px solid #ccc}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function page(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
  });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_FORM_BYTES) throw new Error('form too large');
  }
  return new URLSearchParams(text);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
