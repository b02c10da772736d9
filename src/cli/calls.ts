/** `vapi-call-mcp calls`: recent calls as a table (or the list as JSON). */
import { COMMON_HELP, intOption, parseCommand, usage } from './args.js';
import type { CallList } from '../core/operations/list-calls.js';
import { CALL_STATUSES, type CallStatus } from '../vapi/schemas.js';
import { clock, safe, table, terminalFor } from './render.js';
import { openSession } from './session.js';

export const HELP = `Usage: vapi-call-mcp calls [--status STATUS] [--limit N] [--before TIME] [--json]

Recent calls, newest first.

Options:
  --status STATUS    only calls with this status (scheduled, queued, ringing, in-progress, forwarding, ended, ...)
  --limit N          how many calls to ask Vapi for (default 20, at most 1000)
  --before TIME      only calls created before this ISO 8601 time (the next, older page)
  --json             the list as one JSON object instead of a table
${COMMON_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    {
      name: 'calls',
      help: HELP,
      options: { status: { type: 'string' }, limit: { type: 'string' }, before: { type: 'string' }, json: { type: 'boolean' } },
      positionals: [],
    },
    argv,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const limit = intOption('calls', 'limit', values.limit as string | undefined, 1, 1000);
  const status = values.status as string | undefined;
  if (status !== undefined && !(CALL_STATUSES as readonly string[]).includes(status)) {
    throw usage('calls', `--status must be one of ${CALL_STATUSES.join(', ')}, not "${status.slice(0, 40)}"`);
  }
  const session = await openSession({ simulate: values.simulate === true, simSpeed: values['sim-speed'] as string | undefined });
  try {
    const list = await session.core.listCalls(
      {
        ...(limit !== undefined ? { limit } : {}),
        ...(status !== undefined ? { status: status as CallStatus } : {}),
        ...(values.before !== undefined ? { createdAtLt: values.before as string } : {}),
      },
      { signal: new AbortController().signal },
    );
    process.stdout.write(values.json ? `${JSON.stringify(list)}\n` : render(list));
    return 0;
  } finally {
    await session.close();
  }
}

function render(list: CallList): string {
  const paint = terminalFor(process.stdout).paint;
  let out = list.calls.length
    ? table(
        paint,
        ['ID', 'STATUS', 'NUMBER', 'CREATED (UTC)', 'DURATION', 'ENDED REASON'],
        list.calls.map((call) => [
          call.id,
          safe(call.status ?? '?'),
          safe(call.customerNumber ?? ''),
          call.createdAt ? safe(call.createdAt.slice(0, 19).replace('T', ' ')) : '',
          call.durationSeconds !== undefined ? clock(call.durationSeconds) : '',
          safe(call.endedReason ?? ''),
        ]),
      )
    : 'No calls.\n';
  if (list.next) out += `Older calls may exist: vapi-call-mcp calls --before ${list.next.createdAtLt}\n`;
  return out;
}
