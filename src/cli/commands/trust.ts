/** `pilot trust CLUSTER`: show each unknown hop's host key fingerprint, append it to known_hosts on yes. */
import { PilotError } from '../../model/errors.js';
import { askLine, canAsk } from '../ask.js';
import { withWrapper } from '../common.js';

export async function run(cluster: string, opts: { fingerprint?: string }): Promise<number> {
  if (opts.fingerprint !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(opts.fingerprint)) {
    throw new PilotError('BAD_INPUT', `--fingerprint ${opts.fingerprint} is not a SHA256 fingerprint`, { hint: 'copy it as ssh-keygen -lf prints it: SHA256: followed by 43 characters' });
  }
  if (opts.fingerprint === undefined && !canAsk()) {
    throw new PilotError('BAD_INPUT', 'pilot trust asks before writing to known_hosts, and this is not a terminal', {
      hint: 'run it in a terminal, or pass --fingerprint SHA256:… (the key is then accepted only if it has exactly that fingerprint)',
    });
  }
  return withWrapper(async (pilot) => {
    const refused: string[] = [];
    const result = await pilot.trust(cluster, async (q) => {
      process.stderr.write(`The host ${q.name} (${q.hop}) is not in known_hosts.\n  ${q.keyType} key fingerprint: ${q.fingerprint}\n`);
      if (opts.fingerprint !== undefined) {
        const same = q.fingerprint === opts.fingerprint;
        if (!same) refused.push(q.name);
        process.stderr.write(same ? '  matches --fingerprint\n' : `  does NOT match --fingerprint ${opts.fingerprint}\n`);
        return same;
      }
      const answer = await askLine(`Compare it with the fingerprint your cluster documents. Add it to ${q.file}? (yes/no)`);
      return /^y(es)?$/i.test(answer);
    });
    for (const q of result.added) process.stdout.write(`added ${q.name} ${q.keyType} ${q.fingerprint} to ${q.file}\n`);
    if (!result.added.length) process.stdout.write(`${result.cluster}: every host key on the way is already trusted (${result.target})\n`);
    return refused.length ? 1 : 0;
  });
}
