/** Small helpers shared by CLI commands (and main.ts: this module loads nothing at start-up). */

export async function withWrapper<T>(fn: (pilot: import('../engine/wrapper.js').SlurmWrapper) => Promise<T>): Promise<T> {
  const { SlurmWrapper } = await import('../engine/wrapper.js');
  const pilot = new SlurmWrapper();
  try {
    return await fn(pilot);
  } finally {
    await pilot.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * How the CLI shows a problem on stderr: `error: …` (the command failed) or `warning: …` (it went on without
 * that part), then `hint: …` when there is one.
 */
export function printProblem(kind: 'error' | 'warning', problem: { message: string; hint?: string }): void {
  process.stderr.write(`${kind}: ${problem.message}\n${problem.hint ? `hint: ${problem.hint}\n` : ''}`);
}
