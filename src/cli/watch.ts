/** `vapi-call-mcp watch <callId>`: follow a live call in the terminal, or as a JSON event stream. */
import { COMMON_HELP, parseCommand } from './args.js';
import { watchOnStdout } from './follow.js';
import { interruptSignal } from './interrupt.js';
import { openSession } from './session.js';

export const HELP = `Usage: vapi-call-mcp watch <callId> [--json [--partials]]

Follow a live call: final lines with speaker and time, what is being said now, and a status line with the
call's status, a timer and who is talking. Saves the audio (WAV) and every event (JSONL) in
VAPI_RECORDINGS_DIR, as the server does. Exits 0 when the call ends; Ctrl-C stops watching (the call goes
on), finalises the files, prints where they are and exits 130.

Options:
  --json             one JSON object per line per event (status, line, ended; see the README)
  --partials         with --json: also the words being spoken now (partial events)
${COMMON_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand({ name: 'watch', help: HELP, options: { json: { type: 'boolean' }, partials: { type: 'boolean' } }, positionals: ['callId'] }, argv);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const session = await openSession({ simulate: values.simulate === true, simSpeed: values['sim-speed'] as string | undefined });
  const interrupt = interruptSignal();
  try {
    return await watchOnStdout(session.core, positionals[0], { json: values.json === true, partials: values.partials === true, signal: interrupt.signal });
  } finally {
    await session.close();
    interrupt.dispose();
  }
}
