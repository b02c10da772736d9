/**
 * The one operator of the built-in authorization server: who may sign in and approve a client. A passphrase
 * (VAPI_MCP_OPERATOR_PASSWORD) or, without one, a one-time sign-in link printed on stderr (a fresh link replaces it
 * once used). Either marks the browser with a signed operator cookie for 30 days. Wrong passphrases are slowed down.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sameSecret } from '../../http-gate.js';

export const OPERATOR_COOKIE = 'vapi_mcp_operator';
export const SIGN_IN_PATH = '/oauth/operator-sign-in';
const COOKIE_DAYS = 30;
const FAILURES_PER_MINUTE = 10;

export class Operator {
  private linkCode: string | undefined;
  private failures: number[] = [];

  constructor(
    private readonly password: string | undefined,
    private readonly cookieKey: string,
    private readonly secureCookies: boolean,
    /** Prints the sign-in link for the operator (stderr); never goes to an MCP client. */
    private readonly announce: (link: string) => void,
    private readonly issuer: string,
  ) {
    if (!password) this.newLink();
  }

  get usesPassword(): boolean {
    return this.password !== undefined;
  }

  /** True when the passphrase matches; undefined when too many wrong ones came in the last minute. */
  checkPassword(text: string): boolean | undefined {
    const now = Date.now();
    this.failures = this.failures.filter((at) => at > now - 60_000);
    if (this.failures.length >= FAILURES_PER_MINUTE) return undefined;
    if (this.password !== undefined && sameSecret(text, this.password)) return true;
    this.failures.push(now);
    return false;
  }

  /** The one-time link's code: good once, then a new link is printed. */
  redeem(code: string): boolean {
    if (this.linkCode === undefined || !sameSecret(code, this.linkCode)) return false;
    this.newLink();
    return true;
  }

  isSignedIn(req: IncomingMessage): boolean {
    const value = cookie(req, OPERATOR_COOKIE);
    const [expires, mac] = value?.split('.') ?? [];
    if (!expires || !mac || Number(expires) < Date.now()) return false;
    return sameSecret(mac, this.mac(expires));
  }

  /** Set-Cookie for a signed-in operator. */
  signedInCookie(): string {
    const expires = String(Date.now() + COOKIE_DAYS * 86_400_000);
    const secure = this.secureCookies ? '; Secure' : '';
    return `${OPERATOR_COOKIE}=${expires}.${this.mac(expires)}; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age=${COOKIE_DAYS * 86_400}${secure}`;
  }

  private mac(expires: string): string {
    return createHmac('sha256', this.cookieKey).update(`operator.${expires}`).digest('base64url');
  }

  private newLink(): void {
    this.linkCode = randomBytes(24).toString('base64url');
    this.announce(`${this.issuer}${SIGN_IN_PATH}?code=${this.linkCode}`);
  }
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
