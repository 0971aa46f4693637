/** Small helpers shared by CLI commands (and main.ts: this module loads nothing heavy at start-up, only the pure range formatter). */

import { compressRanges } from '../model/ranges.js';

/** Global options, set by main() once parsed. */
export const cli = { verbose: false };

export async function withWrapper<T>(fn: (pilot: import('../engine/wrapper.js').SlurmWrapper) => Promise<T>): Promise<T> {
  const { SlurmWrapper } = await import('../engine/wrapper.js');
  const pilot = new SlurmWrapper();
  // the engine never prints: what it finds worth a warning (checks before launching, changed sources) goes to stderr
  pilot.on('warning', (w) => process.stderr.write(`warning: ${w.message}\n${w.hint ? `  ${w.hint}\n` : ''}`));
  // automatic retries happen inside wait, launch --wait and watch: each is said once, on stderr
  pilot.on('retried', (r) => {
    const res = Object.entries(r.resources).map(([k, v]) => `${k} ${v}`).join(', ');
    process.stderr.write(`${r.name}: retrying task${r.indices.length === 1 ? '' : 's'} ${compressRanges(r.indices)} as attempt ${r.attempt}${res ? ` (${res})` : ''}\n`);
  });
  try {
    return await fn(pilot);
  } finally {
    // a 2FA user cares how often they were asked: everything one command does shares one connection
    if (cli.verbose) {
      for (const c of await pilot.connections()) {
        const s = c.stats;
        process.stderr.write(`verbose: ${c.cluster}: ${c.opened} connection${c.opened === 1 ? '' : 's'}` +
          (s ? `, ${s.prompts} prompt${s.prompts === 1 ? '' : 's'}, ${s.commands} remote commands, ${s.uploads} uploads, ${s.bytesUp} bytes up, ${s.bytesDown} bytes down` : '') + '\n');
      }
    }
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
