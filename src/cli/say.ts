/** `vapi-call-mcp say <callId> "…"`: the assistant says these exact words in the live call now. */
import { COMMON_HELP, parseCommand, textArgument } from './args.js';
import { openSession } from './session.js';

export const HELP = `Usage: vapi-call-mcp say <callId> <text> [--interrupt] [--then-end]

The assistant says <text>, word for word, in the live call (the inject_say tool).

Options:
  --interrupt        cut off whatever the assistant is saying to say it now
  --then-end         hang up once the text has been spoken
${COMMON_HELP}
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    { name: 'say', help: HELP, options: { interrupt: { type: 'boolean' }, 'then-end': { type: 'boolean' } }, positionals: ['callId', 'text'] },
    argv,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const content = textArgument('say', '<text>', positionals[1], 2000, 1);
  const session = await openSession({ simulate: values.simulate === true, simSpeed: values['sim-speed'] as string | undefined, changesCalls: true });
  try {
    const result = await session.core.say(
      positionals[0],
      {
        content,
        ...(values.interrupt ? { interruptAssistant: true } : {}),
        ...(values['then-end'] ? { endCallAfterSpoken: true } : {}),
      },
      { signal: new AbortController().signal },
    );
    process.stdout.write(`Said in call ${result.callId}.${result.note ? ` ${result.note}` : ''}\n`);
    return 0;
  } finally {
    await session.close();
  }
}
