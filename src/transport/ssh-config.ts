/**
 * Resolves an OpenSSH host alias the way `ssh` itself would: by asking the system client (`ssh -G alias`),
 * so Include, Match, wildcards, tokens and every other ssh_config rule are OpenSSH's own, never a second parser.
 * `$PILOT_SSH_CONFIG` names a config file passed as `-F` (OpenSSH reads ~/.ssh/config from the passwd home,
 * not $HOME, so this is how tests and unusual setups choose the file).
 *
 * ProxyJump follows OpenSSH: for `ProxyJump a,b` ssh reaches b with `ssh -J a b`, so a is resolved with its own
 * config (its own ProxyJump included, whose hops come first) while b's own ProxyJump is overridden by the -J
 * and ignored; every hop gets `-l`/`-p` from the spec and the same -F.
 */
import { execFile } from 'node:child_process';
import { PilotError } from '../model/errors.js';
import type { SshHop, SshRoute } from '../model/cluster.js';
import { hopFromSshG, type ExpandContext, type JumpSpec, type ParsedHop } from './ssh-config-parse.js';

export { formatProxyJump, hopFromSshG, hostKeyPolicy, parseProxyJump, parseSshG } from './ssh-config-parse.js';
export type { ExpandContext, JumpSpec, ParsedHop } from './ssh-config-parse.js';

export interface SshConfigOptions {
  /** The environment: PATH finds ssh, PILOT_SSH_CONFIG names the -F file. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** More ssh options for the alias itself (`-l`, `-p`, `-o Key=value`, `-J`), before the alias. */
  args?: string[];
  /** ssh2 refuses ProxyCommand (it cannot run one); openssh lets ssh run it. Default ssh2. */
  transport?: 'ssh2' | 'openssh';
  /** For tests: how `~` and `%` tokens expand. */
  expand?: ExpandContext;
}

/** Most jump hosts in one route; a longer chain is taken for a misconfiguration. */
export const MAX_JUMPS = 8;

const noClient = new WeakSet<Error>();

/** True for the error runSshG throws when no `ssh` client is on PATH. */
export function isNoSshClient(err: unknown): boolean {
  return err instanceof Error && noClient.has(err);
}

/** `-F file` when PILOT_SSH_CONFIG is set, else []. */
export function sshConfigArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const file = env.PILOT_SSH_CONFIG;
  return file ? ['-F', file] : [];
}

/** Runs `ssh -G [-F file] args… alias` and returns what it prints. */
export function runSshG(alias: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  // -T: without it ssh warns "Pseudo-terminal will not be allocated" since stdin is not a terminal
  const argv = ['-G', '-T', ...sshConfigArgs(env), ...args, '--', alias];
  return new Promise((resolve, reject) => {
    const child = execFile('ssh', argv, { env, timeout: 15_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const e = new PilotError('CONFIG', `cannot resolve '${alias}' from the OpenSSH config: no \`ssh\` client found on PATH`, {
          hint: 'pilot asks `ssh -G` how to reach a host named in ~/.ssh/config. Install the OpenSSH client '
            + '(apt install openssh-client, dnf install openssh-clients, or Windows\' optional OpenSSH feature), '
            + 'or spell the cluster out in config.yaml (host, port, user, identityFile, knownHosts)',
          cause: err,
        });
        noClient.add(e);
        return reject(e);
      }
      const why = stderr.trim() || err.message;
      reject(new PilotError('CONFIG', `ssh -G ${argv.slice(2).join(' ')} failed: ${why}`, {
        hint: env.PILOT_SSH_CONFIG ? `fix ${env.PILOT_SSH_CONFIG} (PILOT_SSH_CONFIG) at the line shown` : 'fix your OpenSSH config (~/.ssh/config, /etc/ssh/ssh_config) at the line shown',
        cause: err,
      }));
    });
    child.stdin?.end();
  });
}

/** Resolves one host with `ssh -G`: the hop, its own ProxyJump and ProxyCommand. */
export async function resolveSshHop(alias: string, options: SshConfigOptions = {}): Promise<ParsedHop> {
  const env = options.env ?? process.env;
  const text = await runSshG(alias, options.args ?? [], env);
  try {
    return hopFromSshG(alias, text, { env, ...options.expand });
  } catch (err) {
    throw new PilotError('CONFIG', `cannot use the OpenSSH config of '${alias}': ${(err as Error).message}`, {
      hint: 'fix ProxyJump in your OpenSSH config, or spell the cluster out in config.yaml', cause: err,
    });
  }
}

/** `-l user -p port` for a ProxyJump hop, as ssh passes them to the jump's own ssh. */
function jumpArgs(spec: JumpSpec): string[] {
  return [...(spec.user ? ['-l', spec.user] : []), ...(spec.port ? ['-p', String(spec.port)] : [])];
}

function tooLong(chain: string[]): PilotError {
  return new PilotError('CONFIG', `ProxyJump chain longer than ${MAX_JUMPS} hops: ${chain.join(' -> ')}`, { hint: 'fix ProxyJump in your OpenSSH config' });
}

/** Resolves `alias` and every jump host before it into a route, as OpenSSH would connect. */
export async function resolveSshRoute(alias: string, options: SshConfigOptions = {}): Promise<SshRoute> {
  const parsed = await resolveSshHop(alias, options);
  const jumps = await resolveJumpChain(parsed, options, [alias]);
  return { jumps, target: parsed.hop, ...(parsed.proxyCommand === undefined ? {} : { proxyCommand: parsed.proxyCommand }) };
}

/**
 * The jump hosts in front of a resolved host (first one connected first). `path` is the chain of names
 * followed so far, to refuse loops (a → b → a) and chains longer than MAX_JUMPS.
 */
export async function resolveJumpChain(parsed: ParsedHop, options: SshConfigOptions, path: string[]): Promise<SshHop[]> {
  if (parsed.proxyCommand !== undefined) {
    if ((options.transport ?? 'ssh2') === 'ssh2') {
      throw new PilotError('CONFIG', `'${parsed.hop.alias}' is reached with ProxyCommand (${parsed.proxyCommand}), which the ssh2 transport cannot run`, {
        hint: `set \`transport: openssh\` for this cluster in config.yaml (the system ssh then runs the ProxyCommand), or use ProxyJump instead`,
      });
    }
    return []; // the system ssh runs it
  }
  const specs = parsed.proxyJump;
  if (!specs.length) return [];
  const jumps: SshHop[] = [];
  for (const [i, spec] of specs.entries()) {
    const chain = [...path, spec.host];
    if (path.some((p) => p.toLowerCase() === spec.host.toLowerCase())) {
      throw new PilotError('CONFIG', `ProxyJump loop: ${chain.join(' -> ')}`, { hint: 'fix ProxyJump in your OpenSSH config so no host is reached through itself' });
    }
    if (chain.length - 1 > MAX_JUMPS) throw tooLong(chain);
    const hop = await resolveSshHop(spec.host, { ...options, args: jumpArgs(spec) });
    // only the first hop's own ProxyJump applies: ssh reaches hop i+1 with `-J hops 1..i`, which overrides its own
    if (i === 0) jumps.push(...await resolveJumpChain(hop, options, chain));
    jumps.push(hop.hop);
    if (jumps.length > MAX_JUMPS) throw tooLong([...path, ...jumps.map((j) => j.alias)]);
  }
  return jumps;
}
