/**
 * The Vapi wire as the simulator states it, on its own: written from the API reference, never imported from
 * the client (src/vapi). Client and simulator each say what the wire is, so a mistake on one side shows up as a
 * failing test instead of being agreed on by both.
 */

/** `Call.status` values Vapi documents. */
export const CALL_STATUSES = ['scheduled', 'queued', 'ringing', 'in-progress', 'forwarding', 'ended', 'not-found', 'deletion-failed'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Query parameters `GET /call` accepts; anything else is refused like Vapi does. */
export const LIST_FILTER_KEYS = [
  'id',
  'assistantId',
  'phoneNumberId',
  'limit',
  'createdAtGt',
  'createdAtLt',
  'createdAtGe',
  'createdAtLe',
  'updatedAtGt',
  'updatedAtLt',
  'updatedAtGe',
  'updatedAtLe',
] as const;

/** One entry of `messages` / `artifact.messages`. */
export interface WireMessage {
  role: string;
  message?: string;
  time?: number;
  endTime?: number;
  secondsFromStart?: number;
  [key: string]: unknown;
}

/** The Call object the simulator serves (required: id, orgId, createdAt, updatedAt); every other field passes through. */
export interface WireCall {
  id: string;
  orgId: string;
  createdAt: string;
  updatedAt: string;
  type?: string;
  status?: CallStatus;
  endedReason?: string;
  startedAt?: string;
  endedAt?: string;
  name?: string;
  cost?: number;
  messages?: WireMessage[];
  monitor?: { listenUrl?: string; controlUrl?: string };
  artifact?: { transcript?: string; messages?: WireMessage[]; [key: string]: unknown };
  [key: string]: unknown;
}

/** Call ids are UUIDs (Vapi answers 400 "uuid is expected" otherwise). */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** What the simulator logs through; any object with these four methods will do (the server's logger does). */
export interface SimLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentSimLogger: SimLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** One line per record on stderr, at `level` and above: for the standalone simulator. */
export function stderrSimLogger(level: 'debug' | 'info'): SimLogger {
  const write = (name: string, message: string, fields?: Record<string, unknown>): void => {
    process.stderr.write(`${new Date().toISOString()} ${name} vapi-call-mcp: ${message}${fields ? ` ${safeJson(fields)}` : ''}\n`);
  };
  return {
    debug: (message, fields) => {
      if (level === 'debug') write('DEBUG', message, fields);
    },
    info: (message, fields) => write('INFO', message, fields),
    warn: (message, fields) => write('WARNING', message, fields),
    error: (message, fields) => write('ERROR', message, fields),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v)) ?? '{}';
  } catch {
    return '{"unserialisable":true}';
  }
}
