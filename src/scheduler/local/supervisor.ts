/**
 * Entry point of a detached local supervisor: `node supervisor.js <jobDir> <arrayId>`. Started by
 * LocalBackend with detached: true and stdio ignored, so it lives on in its own session after the CLI
 * exits or is killed. Nothing is printed (nobody is listening); an internal failure is written to
 * state/supervisor-<id>.err, and the tasks it leaves RUNNING are then reported as NODE_FAIL by observe.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { arrayFile, readJson, type ArrayFile } from './files.js';
import { ArrayRunner } from './runner.js';

function main(): void {
  const [jobDir, arrayId] = process.argv.slice(2);
  if (!jobDir || !arrayId) process.exit(2);
  const spec = readJson<ArrayFile>(arrayFile(jobDir, arrayId));
  const errFile = join(jobDir, 'state', `supervisor-${arrayId}.err`);
  if (!spec) {
    appendFileSync(errFile, `${new Date().toISOString()} cannot read ${arrayFile(jobDir, arrayId)}\n`);
    process.exit(1);
  }
  const runner = new ArrayRunner(jobDir, spec);
  // a shutdown or `kill` of the supervisor ends its tasks as NODE_FAIL (restartable) rather than orphaning them
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => runner.stop());
  process.on('uncaughtException', (err) => {
    try {
      appendFileSync(errFile, `${new Date().toISOString()} ${err.stack ?? err}\n`);
    } finally {
      runner.killAll();
      process.exit(1);
    }
  });
  // the process exits by itself once the last task ended and the last SIGKILL timer fired
  void runner.start();
}

main();
