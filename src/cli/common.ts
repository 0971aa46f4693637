/** Small helpers shared by CLI commands (and main.ts: this module loads nothing at start-up). */

export async function withWrapper<T>(fn: (pilot: import('../engine/wrapper.js').SlurmWrapper) => Promise<T>): Promise<T> {
  const { SlurmWrapper } = await import('../engine/wrapper.js');
  const pilot = new SlurmWrapper();
  // the engine never prints: what it finds worth a warning (checks before launching, changed sources) goes to stderr
  pilot.on('warning', (w) => process.stderr.write(`warning: ${w.message}\n${w.hint ? `  ${w.hint}\n` : ''}`));
  try {
    return await fn(pilot);
  } finally {
    await pilot.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export { formatBytes } from '../util/bytes.js';
/**
 * How the CLI shows a problem on stderr: `error: …` (the command failed) or `warning: …` (it went on without
 * that part), then `hint: …` when there is one.
 */
export function printProblem(kind: 'error' | 'warning', problem: { message: string; hint?: string }): void {
  process.stderr.write(`${kind}: ${problem.message}\n${problem.hint ? `hint: ${problem.hint}\n` : ''}`);
}
