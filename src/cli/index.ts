/**
 * The terminal commands for people (watch, calls, call, say, end). Loaded by the entry point only when one of
 * them is asked for, so the MCP server starts without this code. Each command module exports run(argv), which
 * resolves to the exit code; a failure prints one line on stderr.
 */
import { failureLine } from './failure.js';

const COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  watch: () => import('./watch.js'),
  calls: () => import('./calls.js'),
  call: () => import('./call.js'),
  say: () => import('./say.js'),
  end: () => import('./end.js'),
};

export const TERMINAL_COMMANDS = Object.keys(COMMANDS);

export async function runTerminalCommand(command: string, argv: string[]): Promise<never> {
  let exitCode: number;
  try {
    const module = await COMMANDS[command]();
    exitCode = await module.run(argv);
  } catch (err) {
    const failure = failureLine(err);
    process.stderr.write(`vapi-call-mcp ${command}: ${failure.line}\n`);
    exitCode = failure.exitCode;
  }
  // Every event line has left before the process does, even into a slow pipe.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(exitCode);
}
