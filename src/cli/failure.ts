/** How a terminal command fails: one line on stderr and a non-zero exit code, never a stack trace. */
import { CallError, type CallFailure } from '../core/errors.js';

/** Exit codes: 1 the operation failed or was refused, 2 the command line was wrong, 130 stopped by Ctrl-C. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** The failure envelope of a core operation, or undefined for anything else (a bug, shown as such). */
export function failureOf(err: unknown): CallFailure | undefined {
  return err instanceof CallError ? err.failure : undefined;
}

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_FAILED) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The one line a failure prints: the core's reason and suggestion, or the message of anything else. */
export function failureLine(err: unknown): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: err.message, exitCode: err.exitCode };
  const failure = failureOf(err);
  if (failure) return { line: inCommandWords(oneLine(`${failure.reason} ${failure.suggestion}`)), exitCode: EXIT_FAILED };
  return { line: oneLine(`unexpected failure: ${err instanceof Error ? err.message : String(err)}`), exitCode: EXIT_FAILED };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** The core's suggestions name MCP tools; at the terminal, name the command that does the same. */
const COMMAND_FOR_TOOL: Record<string, string> = {
  list_calls: 'vapi-call-mcp calls',
  create_call: 'vapi-call-mcp call',
  listen_call: 'vapi-call-mcp watch',
  read_transcript: 'vapi-call-mcp watch',
  inject_say: 'vapi-call-mcp say',
  end_call: 'vapi-call-mcp end',
};

function inCommandWords(text: string): string {
  return text.replace(/\b(list_calls|create_call|listen_call|read_transcript|inject_say|end_call)\b/g, (tool) => COMMAND_FOR_TOOL[tool]);
}
