/** `pilot test-ssh CLUSTER`: connect (strict host key), run the scheduler's health command, report what works. */
import { printJson, withWrapper } from '../common.js';

export async function run(name: string, opts: { json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    const c = await pilot.checkConnection(name);
    if (opts.json) printJson({ cluster: c.cluster, connected: true, connectMs: c.connectMs, slurm: c.ok, sinfo: c.output });
    else if (c.target === 'local') process.stdout.write(`local: ${c.output}\n`);
    else process.stdout.write(`${c.cluster}: connected to ${c.target} in ${c.connectMs} ms, host key verified\n` +
      (c.ok ? `sinfo:\n${c.output}\n` : `but sinfo failed: ${c.output}\n`));
    return c.ok ? 0 : 1;
  });
}
