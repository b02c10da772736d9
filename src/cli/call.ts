/**
 * `vapi-call-mcp call <number>`: place a call through the same checks as create_call. A dry run shows exactly
 * what would be placed; a person confirms it with y at the terminal, or a script with --yes. Without a terminal
 * and without --yes nothing is placed.
 */
import { COMMON_HELP, parseCommand, textArgument } from './args.js';
import type { PlaceCallRequest, PlaceCallResult } from '../core/operations/place-call.js';
import { eventLine } from './events.js';
import { CliError } from './failure.js';
import { watchOnStdout } from './follow.js';
import { interruptSignal } from './interrupt.js';
import { askYesNo, canAsk } from './prompt.js';
import { safe } from './render.js';
import { openSession } from './session.js';

export const HELP = `Usage: vapi-call-mcp call <number> [--assistant ID] [--phone-number ID] [--first-message TEXT]
                          [--name LABEL] [--yes] [--watch [--json [--partials]]]

Place an outbound call to <number> (E.164, e.g. +14155552671) through the same checks as the create_call tool:
emergency, short-code and premium numbers are always refused, and VAPI_ALLOWED_NUMBERS, VAPI_ALLOWED_COUNTRIES
and the call limits apply. Shows what would be placed and asks for y; without a terminal it refuses unless
--yes is given.

Options:
  --assistant ID        Vapi assistant to run the call (default VAPI_ASSISTANT_ID)
  --phone-number ID     Vapi phone number to call from (default VAPI_PHONE_NUMBER_ID)
  --first-message TEXT  what the assistant says first
  --name LABEL          a label for the call
  -y, --yes             place it without asking (for scripts)
  --watch               follow the call once placed, as vapi-call-mcp watch does
  --json                with --watch: the JSON event stream (a placed event first)
  --partials            with --json: also partial transcripts
${COMMON_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    {
      name: 'call',
      help: HELP,
      options: {
        assistant: { type: 'string' },
        'phone-number': { type: 'string' },
        'first-message': { type: 'string' },
        name: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        watch: { type: 'boolean' },
        json: { type: 'boolean' },
        partials: { type: 'boolean' },
      },
      positionals: ['number'],
    },
    argv,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const json = values.json === true;
  if (json && !values.watch) throw new CliError('--json applies with --watch. Run vapi-call-mcp call --help for usage.', 2);
  // In JSON mode stdout carries only events, so the preview and the question go to stderr.
  const human = json ? process.stderr : process.stdout;

  const request: PlaceCallRequest = {
    customer: { number: positionals[0] },
    ...(values.assistant !== undefined ? { assistantId: values.assistant as string } : {}),
    ...(values['phone-number'] !== undefined ? { phoneNumberId: values['phone-number'] as string } : {}),
    ...(values['first-message'] !== undefined ? { firstMessage: textArgument('call', '--first-message', values['first-message'] as string, 1000) } : {}),
    ...(values.name !== undefined ? { name: textArgument('call', '--name', values.name as string, 40) } : {}),
    // Listening belongs to watch: a call placed without --watch is left for `watch` to follow.
    listen: values.watch === true,
  };

  const session = await openSession({ simulate: values.simulate === true, simSpeed: values['sim-speed'] as string | undefined, changesCalls: true });
  const interrupt = interruptSignal();
  try {
    const context = { signal: interrupt.signal };
    const preview = await session.core.placeCall({ ...request, dryRun: true }, context);
    human.write(describe(preview, session.config.simulated));

    if (!values.yes) {
      if (!canAsk()) {
        throw new CliError('Not placing the call: there is no terminal to confirm it at. Pass --yes to place it without asking.');
      }
      if (!(await askYesNo('Place this call?', human))) throw new CliError('Not placed: the call was not confirmed.');
    }

    const placed = await session.core.placeCall(
      { ...request, confirmationToken: preview.confirmationToken },
      // The person answered y above (or chose --yes): that is the confirmation VAPI_CONFIRM_CALLS asks for.
      { ...context, confirm: async () => (values.yes ? 'unsupported' : 'accepted') },
    );
    const callId = placed.callId!;
    if (json) process.stdout.write(eventLine({ type: 'placed', callId, status: placed.status, number: placed.destination.e164 }));
    else human.write(`Placed call ${callId} to ${placed.destination.e164} (${safe(placed.status)}).\n`);

    if (!values.watch) {
      if (!session.config.simulated) human.write(`Follow it with: vapi-call-mcp watch ${callId}\n`);
      return 0;
    }
    return await watchOnStdout(session.core, callId, { json: json, partials: values.partials === true, signal: interrupt.signal });
  } finally {
    await session.close();
    interrupt.dispose();
  }
}

/** The preview: what the dry run says would be placed. */
function describe(preview: PlaceCallResult, simulated: boolean): string {
  const body = (preview.request?.body ?? {}) as { assistantId?: string; assistant?: unknown; phoneNumberId?: string; name?: string; assistantOverrides?: { firstMessage?: string } };
  const rows: [string, string | undefined][] = [
    ['Number', `${preview.destination.e164}${preview.destination.country ? ` (${preview.destination.country})` : ''}`],
    ['Assistant', body.assistantId ?? (body.assistant ? 'inline assistant' : undefined)],
    ['From', body.phoneNumberId],
    ['First message', body.assistantOverrides?.firstMessage],
    ['Label', body.name],
  ];
  const lines = rows.filter(([, v]) => v !== undefined).map(([k, v]) => `  ${`${k}:`.padEnd(15)}${safe(v!)}`);
  return `${simulated ? 'Simulated call (built-in simulator, no real phone call):' : 'About to place a real phone call:'}\n${lines.join('\n')}\n`;
}
