/** Yes/no questions at the terminal. Only asked when stdin is a TTY: scripts pass --yes instead. */
import { createInterface } from 'node:readline/promises';

export function canAsk(): boolean {
  return process.stdin.isTTY === true;
}

/** True only for an explicit y or yes; anything else (Enter, Ctrl-D, n) is no. */
export async function askYesNo(question: string, output: NodeJS.WritableStream): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('close', () => resolve(''));
      // Ctrl-C at the question (the terminal is in raw mode, so no signal reaches the process) means no.
      rl.once('SIGINT', () => {
        output.write('\n');
        rl.close();
      });
      rl.question(`${question} [y/N] `).then(resolve, () => resolve(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
