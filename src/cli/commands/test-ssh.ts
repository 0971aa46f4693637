/** `pilot test-ssh CLUSTER`: connect (strict host key), run sinfo, report what works. */
import { resolveCluster } from '../../engine/config.js';
import { defaultHome } from '../../util/paths.js';
import { printJson } from '../common.js';

export async function run([name]: unknown[], opts: Record<string, unknown>): Promise<number> {
  const cluster = await resolveCluster(defaultHome(), String(name));
  if (cluster.kind === 'local') {
    process.stdout.write('local: runs on this machine, no SSH needed\n');
    return 0;
  }
  const { connectSsh } = await import('../../transport/ssh.js');
  const t0 = Date.now();
  const ssh = await connectSsh({ host: cluster.host, port: cluster.port, user: cluster.user, identityFile: cluster.identityFile, knownHosts: cluster.knownHosts });
  const connectMs = Date.now() - t0;
  try {
    const r = await ssh.exec('sinfo -h -o "%P %a %D %T" 2>&1; echo "@@rc=$?"');
    const ok = /@@rc=0/.test(r.stdout);
    const sinfo = r.stdout.replace(/@@rc=\d+\s*$/, '').trim();
    if (opts.json) printJson({ cluster: cluster.name, connected: true, connectMs, slurm: ok, sinfo });
    else process.stdout.write(`${cluster.name}: connected to ${cluster.user}@${cluster.host}:${cluster.port} in ${connectMs} ms, host key verified\n` +
      (ok ? `sinfo:\n${sinfo}\n` : `but sinfo failed: ${sinfo}\n`));
    return ok ? 0 : 1;
  } finally {
    await ssh.close();
  }
}
