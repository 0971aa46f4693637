/** Small helpers shared by CLI commands. */

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
