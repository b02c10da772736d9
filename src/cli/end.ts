/** `vapi-call-mcp end <callId>` hangs up one live call; `end --all` is the kill switch for every call placed through this tool. */
import type { OperationContext } from '../core/parts.js';
import { COMMON_HELP, parseCommand, usage } from './args.js';
import { askYesNo, canAsk } from './prompt.js';
import { openSession } from './session.js';

export const HELP = `Usage: vapi-call-mcp end <callId> [--yes]
       vapi-call-mcp end --all [--reason TEXT] [--yes]

Hang up the call now, for everyone on it (the end_call tool). With VAPI_CONFIRM_CALLS set it asks first;
--yes answers for scripts.

--all is the kill switch (the end_all_calls tool): it ends, in parallel, every live call among the account's
latest 100 that vapi-call-mcp placed (from any process), and prints one outcome per call. It always asks first on
a terminal; without a terminal it needs --yes.

Options:
  --all              end every live call placed through vapi-call-mcp
  --reason TEXT      with --all: why (recorded in the event log of each call this process listens to)
  -y, --yes          confirm without asking
${COMMON_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    {
      name: 'end',
      help: HELP,
      options: { yes: { type: 'boolean', short: 'y' }, all: { type: 'boolean' }, reason: { type: 'string' } },
      positionals: ['callId'],
      optionalPositionals: 1,
    },
    argv,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (values.all === true && positionals.length > 0) throw usage('end', 'give either a call id or --all, not both');
  if (values.all !== true && positionals.length === 0) throw usage('end', 'missing <callId> (or --all)');
  const session = await openSession({ simulate: values.simulate === true, simSpeed: values['sim-speed'] as string | undefined, changesCalls: true });
  const context: OperationContext = {
    signal: new AbortController().signal,
    async confirm(question) {
      if (values.yes) return 'accepted';
      if (!canAsk()) return 'unsupported';
      return (await askYesNo(question, process.stdout)) ? 'accepted' : 'declined';
    },
  };
  try {
    if (values.all === true) return await endAll(session.core, context, values.reason as string | undefined);
    const result = await session.core.endCall(positionals[0], {}, context);
    process.stdout.write(`Ending call ${result.callId}.\n`);
    return 0;
  } finally {
    await session.close();
  }
}

async function endAll(core: Awaited<ReturnType<typeof openSession>>['core'], context: OperationContext, reason: string | undefined): Promise<number> {
  const answer = await context.confirm!('End every live call placed through vapi-call-mcp?');
  if (answer !== 'accepted') {
    process.stderr.write(
      answer === 'declined' ? 'vapi-call-mcp end: nothing ended.\n' : 'vapi-call-mcp end: --all needs a terminal to ask, or --yes; nothing ended.\n',
    );
    return 1;
  }
  const result = await core.endAllCalls({ includePlacedElsewhere: true, ...(reason !== undefined ? { reason } : {}) }, context);
  for (const call of result.calls) {
    process.stdout.write(`${call.callId}  ${call.outcome}${call.reason && call.outcome !== 'ended' ? `: ${call.reason}` : ''}\n`);
  }
  process.stdout.write(`${result.note}\n`);
  return result.failed > 0 ? 1 : 0;
}
