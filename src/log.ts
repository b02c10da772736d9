/**
 * The one logger: human-readable lines on stderr (stdout carries only JSON-RPC in stdio mode), with every
 * registered secret masked. A sink can mirror records elsewhere (MCP logging notifications).
 */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };

export function isAtLeast(level: LogLevel, threshold: LogLevel): boolean {
  return LEVEL_ORDER[level] >= LEVEL_ORDER[threshold];
}

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
  redact?: (text: string) => string;
}

export class StderrLogger implements Logger {
  private readonly threshold: LogLevel;
  private readonly write: (line: string) => void;
  private readonly redact: (text: string) => string;
  private readonly sinks = new Set<(record: LogRecord) => void>();

  constructor(options: LoggerOptions = {}) {
    this.threshold = options.level ?? 'info';
    this.write = options.write ?? ((line) => process.stderr.write(line));
    this.redact = options.redact ?? ((text) => text);
  }

  /** The same lines on stderr, mirrored to no sink: for what only the operator should read (who connected from where). */
  operatorOnly(): StderrLogger {
    return new StderrLogger({ level: this.threshold, write: this.write, redact: this.redact });
  }

  /** Mirror every record (already redacted) to another destination; returns a function that removes it. */
  addSink(sink: (record: LogRecord) => void): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warning', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }

  private log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    const safeMessage = this.redact(message);
    const safeFields = fields === undefined ? undefined : (JSON.parse(this.redact(safeJson(fields))) as Record<string, unknown>);
    for (const sink of this.sinks) {
      try {
        sink({ level, message: safeMessage, fields: safeFields });
      } catch {
        // a broken mirror must never break logging
      }
    }
    if (!isAtLeast(level, this.threshold)) return;
    const suffix = safeFields === undefined ? '' : ` ${JSON.stringify(safeFields)}`;
    this.write(`${new Date().toISOString()} ${level.toUpperCase()} vapi-call-mcp: ${safeMessage}${suffix}\n`);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v)) ?? '{}';
  } catch {
    return '{"unserialisable":true}';
  }
}

/** A logger that drops everything: for tests and in-process embedding that wants silence. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** `logger` without its MCP mirrors, when it has any. */
export function operatorOnly(logger: Logger): Logger {
  return logger instanceof StderrLogger ? logger.operatorOnly() : logger;
}
