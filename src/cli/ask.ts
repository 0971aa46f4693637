/** Questions on the terminal for the interactive commands (`pilot trust`, `pilot add-cluster`). */
import { PilotError } from '../model/errors.js';

export function canAsk(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** Asks one question on stderr and reads one line; `fallback` when the answer is empty. */
export async function askLine(question: string, fallback = ''): Promise<string> {
  if (!canAsk()) {
    throw new PilotError('BAD_INPUT', `cannot ask "${question}": not on a terminal`, { hint: 'pass the answer as an option (see --help)' });
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(fallback ? `${question} [${fallback}] ` : `${question} `)).trim();
    return answer || fallback;
  } finally {
    rl.close();
  }
}
