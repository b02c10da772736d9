/** The console view's shared ground: the shapes console_updates brings, the view's state, and element lookup. */

export type Role = 'customer' | 'assistant';
export const ROLES: readonly Role[] = ['customer', 'assistant'];
export const UPDATE_WAIT_SECONDS = 20;
/** How long an armed End or Transfer button waits for its second click. */
export const ARM_MS = 6000;

export interface Line {
  seq: number;
  role: Role;
  text: string;
  secondsFromStart: number;
}
export interface Update {
  callId: string;
  status: string;
  ended: boolean;
  endedReason?: string;
  lines: Line[];
  partials: { role: Role; text: string }[];
  speaking: Role[];
  levels?: Record<Role, { rmsDbfs: number; speaking: boolean }>;
  muted: Record<Role, boolean>;
  connection: string;
  listenError?: string;
  durationSeconds: number;
  nextSeq: number;
  missedLines?: number;
  etag: string;
  /** The controls this connection may use (read-only mode, OAuth scopes); absent from older servers. */
  controls?: { steer: boolean; transfer: boolean };
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`view is missing #${id}`);
  return element as T;
};

/** What the view is showing now; one object, shared by the modules that render and act. */
export const view = {
  callId: undefined as string | undefined,
  toolArgs: undefined as Record<string, unknown> | undefined,
  nextSeq: undefined as number | undefined,
  etag: undefined as string | undefined,
  status: 'unknown',
  ended: false,
  muted: { customer: false, assistant: false } as Record<Role, boolean>,
  audioSeconds: 0,
  audioSecondsAt: 0,
  followToken: 0,
  unseenLines: 0,
  stickToBottom: true,
};
