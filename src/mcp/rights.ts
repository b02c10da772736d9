/**
 * Rights by OAuth scope: what a connection may do. Each tool names the one scope it needs; a connection sees and
 * may call only the tools its scopes cover. Read-only mode is the same gate with calls:read alone.
 */
export const SCOPES = ['calls:read', 'calls:steer', 'calls:dial'] as const;
export type Scope = (typeof SCOPES)[number];

/** What each scope allows, in the words the consent page and the docs use. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<Scope, string>> = {
  'calls:read': 'list and read calls, follow live transcripts',
  'calls:steer': 'speak into, message, mute and hang up live calls',
  'calls:dial': 'place new calls and transfer calls to another number',
};

/** The static bearer token, stdio and the terminal: every scope. */
export const FULL_RIGHTS: ReadonlySet<Scope> = new Set(SCOPES);

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** The scopes of a space-separated OAuth `scope` value this server knows; others are ignored. */
export function scopesOf(scope: string | undefined): Set<Scope> {
  return new Set((scope ?? '').split(' ').filter(isScope));
}
