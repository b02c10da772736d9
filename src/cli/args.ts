/** Command-line parsing shared by the terminal commands: Node's parseArgs, strict, with --help and --simulate. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, EXIT_USAGE } from './failure.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  simulate: { type: 'boolean' },
  'sim-speed': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const COMMON_HELP = `  --simulate         use the built-in Vapi simulator in this process: no account, no real calls
  --sim-speed N      with --simulate: run simulated calls N times faster than real time
  -h, --help         show this help`;

export interface CommandSpec<O extends Options> {
  name: string;
  help: string;
  options: O;
  /** Names of the positional arguments, in order; the last may be optional when `optional` says so. */
  positionals: string[];
  optionalPositionals?: number;
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** The parsed command line, or undefined when --help was asked for (the help is then printed to stdout). */
export function parseCommand<O extends Options>(spec: CommandSpec<O>, argv: string[]): Parsed | undefined {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...spec.options, ...COMMON_OPTIONS }, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(spec.name, (err as Error).message.replace(/\s*[\r\n]+\s*/g, ' '));
  }
  if (parsed.values.help) {
    process.stdout.write(spec.help);
    return undefined;
  }
  const required = spec.positionals.length - (spec.optionalPositionals ?? 0);
  if (parsed.positionals.length < required) {
    throw usage(spec.name, `missing ${spec.positionals.slice(parsed.positionals.length, required).map((p) => `<${p}>`).join(' ')}`);
  }
  if (parsed.positionals.length > spec.positionals.length) {
    throw usage(spec.name, `unexpected argument "${parsed.positionals[spec.positionals.length].slice(0, 60)}"`);
  }
  return parsed;
}

export function usage(command: string, problem: string): CliError {
  return new CliError(`${problem}. Run vapi-call-mcp ${command} --help for usage.`, EXIT_USAGE);
}

/** Free text within the length the matching tool accepts (the core leaves lengths to the faces' schemas). */
export function textArgument(command: string, what: string, text: string, max: number, min = 0): string {
  if (text.length < min || text.length > max) throw usage(command, `${what} must be ${min > 0 ? `${min} to ` : 'at most '}${max} characters, not ${text.length}`);
  return text;
}

/** A whole number within bounds, from an option's text. */
export function intOption(command: string, name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw usage(command, `--${name} must be a whole number from ${min} to ${max}, not "${text.slice(0, 40)}"`);
  return value;
}
