/**
 * Environment and flags → one validated Config. Every failure is a ConfigError whose message names the fix;
 * the CLI prints it as one line on stderr and exits non-zero.
 */
import { accessSync, constants, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_MAX_CALLS_PER_HOUR, DEFAULT_MAX_CONCURRENT_CALLS, DialPolicy, parseQuietHours, type QuietHours } from './guard/index.js';
import { DEFAULT_TRANSCRIPT_MAX_LINES } from './live/transcript.js';
import type { LogLevel } from './log.js';

export interface Config {
  apiKey: string;
  baseUrl: string;
  /** Public key, sent only to listen and control URLs when the call requires authentication there. */
  publicKey?: string;
  assistantId?: string;
  phoneNumberId?: string;
  /** Absolute directory for WAV and JSONL files. */
  recordingsDir: string;
  readOnly: boolean;
  /** Ask the human (MCP elicitation) before create_call and end_call, where the client supports it. */
  confirmCalls: boolean;
  /** undefined: no allow-list; []: nothing may be dialled. */
  allowedNumbers?: string[];
  allowedCountries?: string[];
  maxConcurrentCalls: number;
  maxCallsPerHour: number;
  /** No call may ring inside this local-time window where the callee is; undefined: no quiet hours. */
  quietHours?: QuietHours;
  /**
   * Seconds after placing a call during which another call to the same number is refused as a suspected duplicate
   * (a live call counts whatever the age); undefined: the guard is off (VAPI_DUPLICATE_WINDOW_SECONDS=off).
   */
  duplicateWindowSeconds?: number;
  /** Longest call this server places or lets run while it listens, in minutes; undefined: no cap (VAPI_MAX_CALL_MINUTES=off). */
  maxCallMinutes?: number;
  transcriptMaxLines: number;
  /** Measure levels and voice-quality metrics from listened audio (VAPI_AUDIO_ANALYSIS, default on). */
  audioAnalysis: boolean;
  logLevel: LogLevel;
  /** True when the Vapi endpoint is the built-in simulator: every result says so. */
  simulated: boolean;
  /**
   * Cluster mode: the Valkey/Redis URL (redis:// or rediss://, may carry AUTH) that the instances share
   * (VAPI_MCP_REDIS_URL); undefined: everything stays in this process's memory. A secret: never logged or quoted.
   */
  redisUrl?: string;
  /** Cluster mode: how long a call's listen lease lasts unrenewed (VAPI_MCP_LEASE_MS, default 5000): failover time. */
  leaseMs: number;
}

export interface ConfigFlags {
  simulate?: boolean;
  readOnly?: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_BASE_URL = 'https://api.vapi.ai';
export const DEFAULT_MAX_CALL_MINUTES = 10;
export const DEFAULT_RECORDINGS_DIR = join(homedir(), '.vapi-call-mcp', 'recordings');

/**
 * A value that is wholly a placeholder a client failed to substitute: `${VAR}`, `${input:key}`, `$VAR`, `%VAR%`,
 * `<your key>`. A real value that merely contains `$` or `<` (keys can) is not one.
 */
const PLACEHOLDER = /^(?:\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%|<[^<>]*>)$/;
/** Variables whose values are secrets: never quoted in any message. */
const SECRET_VARIABLES = new Set(['VAPI_API_KEY', 'VAPI_TOKEN', 'VAPI_PUBLIC_KEY', 'VAPI_MCP_REDIS_URL']);
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error'];

type Env = Record<string, string | undefined>;

/**
 * An MCP Bundle host leaves `${user_config.x}` in place when the user left optional setting x empty (and gave no
 * default): that means "not set", not a forgotten substitution.
 */
const UNSET_BUNDLE_SETTING = /^\$\{user_config\.[A-Za-z0-9_]+\}$/;

/** Reads a variable, treating blank as unset and refusing unsubstituted placeholders like `${VAPI_API_KEY}`. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  if (!value || UNSET_BUNDLE_SETTING.test(value)) return undefined;
  if (PLACEHOLDER.test(value)) {
    const shown = SECRET_VARIABLES.has(name) ? 'a literal placeholder' : `the literal placeholder "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
    throw new ConfigError(
      `${name} is ${shown}: your MCP client did not substitute it. ` +
        'Put the real value in the "env" block of the client config (Claude Desktop does not expand ${...}).',
    );
  }
  return value;
}

function readBoolean(env: Env, name: string): boolean {
  const value = read(env, name);
  if (value === undefined) return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be 1/true or 0/false, not "${value}".`);
}

function readCount(env: Env, name: string, fallback: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new ConfigError(`${name} must be a whole number from 0 to ${max}, not "${value}".`);
  }
  return n;
}

/** A comma list where "set but empty" is meaningful (fail closed), so blank is kept as []. */
function readList(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || UNSET_BUNDLE_SETTING.test(raw.trim())) return undefined;
  if (PLACEHOLDER.test(raw.trim())) read(env, name); // throws the placeholder error
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The value is never quoted: it may carry a password. */
function readRedisUrl(env: Env): string | undefined {
  const value = read(env, 'VAPI_MCP_REDIS_URL');
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`VAPI_MCP_REDIS_URL is not a URL (${value.length} characters); it must look like redis://host:6379 or rediss://user:password@host:6380.`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`VAPI_MCP_REDIS_URL must start with redis:// or rediss:// (TLS), not ${url.protocol}//.`);
  }
  return value;
}

/** The value is never quoted: a key pasted into the wrong variable must not end up in a log. */
function readBaseUrl(env: Env): string {
  const value = read(env, 'VAPI_BASE_URL') ?? DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`VAPI_BASE_URL is not a URL (${value.length} characters); it must be an http(s) URL such as ${DEFAULT_BASE_URL}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`VAPI_BASE_URL must start with https:// (or http:// for a local simulator), not ${url.protocol}//.`);
  }
  if (url.username || url.password) {
    throw new ConfigError('VAPI_BASE_URL must not carry credentials (user:password@): put the key in VAPI_API_KEY.');
  }
  return value.replace(/\/+$/, '');
}

function readQuietHours(env: Env): QuietHours | undefined {
  const value = read(env, 'VAPI_QUIET_HOURS');
  if (value === undefined) return undefined;
  try {
    return parseQuietHours(value);
  } catch (err) {
    throw new ConfigError(`VAPI_QUIET_HOURS ${(err as Error).message}.`);
  }
}

export const DEFAULT_DUPLICATE_WINDOW_SECONDS = 120;

/** Seconds (0 to 86400; 0: only live calls count), default 120; `off` turns the duplicate-call guard off. */
function readDuplicateWindow(env: Env): number | undefined {
  const value = read(env, 'VAPI_DUPLICATE_WINDOW_SECONDS');
  if (value !== undefined && /^off$/i.test(value)) return undefined;
  return readCount(env, 'VAPI_DUPLICATE_WINDOW_SECONDS', DEFAULT_DUPLICATE_WINDOW_SECONDS, 86_400);
}

/** Minutes (a whole number from 1 to 1440), default 10; `off` removes the cap. */
function readMaxCallMinutes(env: Env): number | undefined {
  const value = read(env, 'VAPI_MAX_CALL_MINUTES');
  if (value === undefined) return DEFAULT_MAX_CALL_MINUTES;
  if (/^off$/i.test(value)) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1440) {
    throw new ConfigError(`VAPI_MAX_CALL_MINUTES must be a whole number of minutes from 1 to 1440, or off for no cap, not "${value}".`);
  }
  return n;
}

/** Creates the recordings directory (owner-only) if needed and checks it is writable. */
/**
 * Makes sure the recordings directory can hold files, creating it if needed. A directory that never can (not a
 * directory, read-only, no permission, a pseudo file system) is a ConfigError; a full disk (ENOSPC, EDQUOT) is
 * not: it is transient, so the answer is a warning to log, and the recordings wait for space as they do mid-call.
 */
export function prepareRecordingsDir(dir: string): { diskFull?: string } {
  try {
    makeDirs(resolve(dir));
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
    // Some places accept mkdir and access checks but cannot hold a file (/proc, read-only mounts): try one.
    const probe = join(dir, `.write-probe-${process.pid}`);
    try {
      writeFileSync(probe, 'ok', { flag: 'wx', mode: 0o600 });
    } finally {
      rmSync(probe, { force: true });
    }
    return {};
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return { diskFull: `The recordings directory ${dir} is on a full disk (${code}): calls are placed and heard, and recordings are saved once space is freed.` };
    }
    throw new ConfigError(
      `The recordings directory ${dir} is not usable (${code ?? (err as Error).message}). Set VAPI_RECORDINGS_DIR to a writable directory.`,
    );
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir spins forever on some pseudo file systems (a path under
 * /proc), where a single mkdir fails at once with ENOENT.
 */
function makeDirs(dir: string): void {
  try {
    statSync(dir);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  mkdirSync(dir, { mode: 0o700 });
}

/** A leading `~/` or `${HOME}/` (as an MCP Bundle's default directory is written) means the home folder. */
function homeExpanded(path: string | undefined): string | undefined {
  const home = /^(?:~|\$\{HOME\})(?=$|[/\\])/;
  return path && home.test(path) ? join(homedir(), path.replace(home, '')) : path;
}

export function loadConfig(env: Env, flags: ConfigFlags = {}): Config {
  // VAPI_SIMULATE=1 is --simulate for launchers that set only variables (the MCP Bundle's user_config).
  const simulated = flags.simulate === true || readBoolean(env, 'VAPI_SIMULATE');
  const apiKey = read(env, 'VAPI_API_KEY') ?? read(env, 'VAPI_TOKEN');
  if (!apiKey && !simulated) {
    throw new ConfigError(
      'No Vapi API key: set VAPI_API_KEY (or VAPI_TOKEN) to your private key from the Vapi dashboard, or start with --simulate to try the built-in simulator.',
    );
  }

  const recordingsDirRaw = homeExpanded(read(env, 'VAPI_RECORDINGS_DIR'));
  const recordingsDir = recordingsDirRaw
    ? isAbsolute(recordingsDirRaw)
      ? recordingsDirRaw
      : resolve(recordingsDirRaw)
    : DEFAULT_RECORDINGS_DIR;

  const logLevel = (read(env, 'VAPI_LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`VAPI_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${logLevel}".`);
  }

  const allowedNumbers = readList(env, 'VAPI_ALLOWED_NUMBERS');
  const allowedCountries = readList(env, 'VAPI_ALLOWED_COUNTRIES')?.map((c) => c.toUpperCase());
  try {
    new DialPolicy({ allowedNumbers, allowedCountries });
  } catch (err) {
    throw new ConfigError(`VAPI_ALLOWED_NUMBERS / VAPI_ALLOWED_COUNTRIES: ${(err as Error).message}`);
  }

  return {
    apiKey: apiKey ?? '',
    baseUrl: readBaseUrl(env),
    publicKey: read(env, 'VAPI_PUBLIC_KEY'),
    assistantId: read(env, 'VAPI_ASSISTANT_ID'),
    phoneNumberId: read(env, 'VAPI_PHONE_NUMBER_ID'),
    recordingsDir,
    readOnly: flags.readOnly === true || readBoolean(env, 'VAPI_READ_ONLY'),
    confirmCalls: readBoolean(env, 'VAPI_CONFIRM_CALLS'),
    allowedNumbers,
    allowedCountries,
    maxConcurrentCalls: readCount(env, 'VAPI_MAX_CONCURRENT_CALLS', DEFAULT_MAX_CONCURRENT_CALLS, 1000),
    maxCallsPerHour: readCount(env, 'VAPI_MAX_CALLS_PER_HOUR', DEFAULT_MAX_CALLS_PER_HOUR, 100_000),
    quietHours: readQuietHours(env),
    maxCallMinutes: readMaxCallMinutes(env),
    duplicateWindowSeconds: readDuplicateWindow(env),
    transcriptMaxLines: readCount(env, 'VAPI_TRANSCRIPT_MAX_LINES', DEFAULT_TRANSCRIPT_MAX_LINES, 100_000) || 1,
    audioAnalysis: read(env, 'VAPI_AUDIO_ANALYSIS') === undefined || readBoolean(env, 'VAPI_AUDIO_ANALYSIS'),
    logLevel,
    simulated,
    redisUrl: readRedisUrl(env),
    leaseMs: Math.max(500, readCount(env, 'VAPI_MCP_LEASE_MS', 5000, 600_000)),
  };
}
