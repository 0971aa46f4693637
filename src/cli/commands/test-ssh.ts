/** `pilot test-ssh CLUSTER`: connect (strict host key) and report everything pilot needs on the cluster. */
import type { ConnectionCheck } from '../../engine/types.js';
import { printJson, withWrapper } from '../common.js';

export async function run(name: string, opts: { json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    const c = await pilot.checkConnection(name);
    if (opts.json) printJson(c);
    else process.stdout.write(describe(c));
    return c.ok ? 0 : 1;
  });
}

export function describe(c: ConnectionCheck): string {
  if (c.target === 'local') return 'local: runs on this machine, no SSH needed\n';
  const row = (k: string, v: string) => `  ${k.padEnd(13)} ${v}\n`;
  const found = Object.entries(c.commands ?? {});
  const missing = found.filter(([, path]) => !path).map(([cmd]) => cmd);
  let text = `${c.cluster}: connected in ${c.connectMs} ms (${c.transport})\n` + row('route', c.target);
  text += (c.hops ?? []).map((h, i) => row(`hop ${i + 1}`, `${h.hop}  host key ${h.hostKey}  login: ${h.auth}${h.ms === undefined ? '' : `  (${h.ms} ms)`}`)).join('');
  // an openssh master that already ran (ControlPersist) was reused: no login happened to report on
  if (c.transport === 'openssh' && !c.hops?.length) text += row('login', 'through the running ssh master (no new login)');
  if (c.prompts !== undefined) text += row('prompts', String(c.prompts));
  if (c.roundTripMs !== undefined) text += row('round trip', `${c.roundTripMs} ms`);
  text += row('slurm', `${c.version ?? 'version unknown'}${missing.length ? `; NOT found: ${missing.join(', ')}` : `; ${found.length} commands found`}`);
  text += row('controller', c.controllerUp ? 'up' : 'NOT answering');
  text += row('MaxArraySize', c.maxArraySize === undefined ? 'unknown (1001 assumed)' : String(c.maxArraySize));
  text += row('accounting', c.accounting === undefined ? 'unknown' : c.accounting ? 'on (sacct knows finished jobs)' : 'off (states of finished jobs come from pilot\'s markers)');
  text += row('remote dir', c.remoteDir ? `${c.remoteDir} (writable)` : 'NOT writable');
  if (c.partitions?.length) text += row('partitions', c.partitions.join('; '));
  if (c.problems.length) text += `problems:\n${c.problems.map((p) => `  - ${p}\n`).join('')}`;
  return text;
}
