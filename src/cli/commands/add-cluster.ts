/** `pilot add-cluster NAME`: write a config.yaml entry from options (asking on the terminal for what is missing), then test it. */
import { PilotError } from '../../model/errors.js';
import { askLine, canAsk } from '../ask.js';
import { withWrapper } from '../common.js';
import { describe } from './test-ssh.js';

export interface AddClusterOptions {
  alias?: string; host?: string; user?: string; port?: number; identityFile?: string; knownHosts?: string; proxyJump?: string;
  remoteDir?: string; partition?: string; account?: string; transport?: string; force?: boolean; test?: boolean;
}

export async function run(name: string, opts: AddClusterOptions): Promise<number> {
  if (opts.transport !== undefined && !['ssh2', 'openssh'].includes(opts.transport)) {
    throw new PilotError('BAD_INPUT', `--transport ${opts.transport}: expected ssh2 or openssh`, { hint: 'ssh2 is built in; openssh uses the system ssh client' });
  }
  let { alias, host } = opts;
  const interactive = !alias && !host;
  if (interactive) {
    if (!canAsk()) {
      throw new PilotError('BAD_INPUT', 'pilot add-cluster needs --alias or --host when it cannot ask on a terminal', { hint: 'e.g. pilot add-cluster hpc --alias hpc-login' });
    }
    alias = await askLine('Host alias from ~/.ssh/config (empty: type host, user and port instead)?') || undefined;
    if (!alias) host = await askLine('Host name or address?');
    if (!alias && !host) throw new PilotError('BAD_INPUT', 'no alias and no host given: nothing written', { hint: 'run it again and answer one of the two' });
  }
  const ask = async (question: string, given: string | undefined, fallback = '') =>
    given ?? (interactive && !alias ? (await askLine(question, fallback)) || undefined : undefined);
  const entry = {
    ...(alias ? { sshAlias: alias } : {}),
    host,
    user: await ask('User name on the cluster?', opts.user, process.env.USER ?? ''),
    port: opts.port ?? (interactive && !alias ? Number(await askLine('Port?', '22')) : undefined),
    identityFile: await ask('Private key file (empty: agent and the default keys)?', opts.identityFile),
    knownHosts: opts.knownHosts,
    proxyJump: opts.proxyJump,
    remoteDir: opts.remoteDir ?? (interactive ? await askLine("pilot's folder on the cluster?", '~/pilot') : undefined),
    partition: opts.partition ?? (interactive ? (await askLine('Default Slurm partition (empty: the cluster default)?')) || undefined : undefined),
    account: opts.account,
    transport: opts.transport,
  };
  if (entry.port !== undefined && (!Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65535)) {
    throw new PilotError('BAD_INPUT', `port ${entry.port} is not a port number`, { hint: 'a whole number from 1 to 65535' });
  }
  return withWrapper(async (pilot) => {
    const file = await pilot.addCluster(name, entry, { force: opts.force });
    process.stdout.write(`added cluster ${name} to ${file}\n`);
    if (opts.test === false) return 0;
    try {
      const c = await pilot.checkConnection(name);
      process.stdout.write(describe(c));
      return c.ok ? 0 : 1;
    } catch (err) {
      if (err instanceof PilotError && err.code === 'HOST_KEY') {
        // the hint of an unknown host already names `pilot trust NAME`: say it once
        const trust = `\`pilot trust ${name}\``;
        const hint = err.hint ?? '';
        err.hint = hint.includes(trust) ? `${hint}. The entry is saved: then \`pilot test-ssh ${name}\`.`
          : `${hint} The entry is saved; run ${trust}, then \`pilot test-ssh ${name}\`.`.trim();
      }
      throw err;
    }
  });
}
