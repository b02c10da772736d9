/** `vapi-call-mcp end <callId>`: hang up a live call now. */
import { COMMON_HELP, parseCommand } from './args.js';
import { askYesNo, canAsk } from './prompt.js';
import { openSession } from './session.js';

export const HELP = `Usage: vapi-call-mcp end <callId> [--yes]

Hang up the call now, for everyone on it (the end_call tool). With VAPI_CONFIRM_CALLS set it asks first;
--yes answers for scripts.

Options:
  -y, --yes          confirm without asking (VAPI_CONFIRM_CALLS)
${COMMON_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand({ name: 'end', help: HELP, options: { yes: { type: 'boolean', short: 'y' } }, positionals: ['callId'] }, argv);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const session = await openSession({ simulate: values.simulate === true, simSpeed: values['sim-speed'] as string | undefined, changesCalls: true });
  try {
    const result = await session.core.endCall(positionals[0], {
      signal: new AbortController().signal,
      async confirm(question) {
        if (values.yes) return 'accepted';
        if (!canAsk()) return 'unsupported';
        return (await askYesNo(question, process.stdout)) ? 'accepted' : 'declined';
      },
    });
    process.stdout.write(`Ending call ${result.callId}.\n`);
    return 0;
  } finally {
    await session.close();
  }
}
