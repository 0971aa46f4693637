/**
 * Pure parsing of what `ssh -G` prints (one lowercase `key value` line per option, as resolved for one host)
 * into an SshHop, and of ProxyJump specs. Spawning ssh lives in ssh-config.ts; these functions are unit-tested
 * on output recorded from a real OpenSSH client.
 *
 * Checked on OpenSSH 9.2: `ssh -G` expands `~` in UserKnownHostsFile and IdentityAgent but NOT in IdentityFile,
 * nor its `%` tokens (`~/.ssh/id_%h` is printed as written), so both are expanded here as ssh does when it
 * connects. Expanding again what a newer ssh already expanded changes nothing. StrictHostKeyChecking is
 * printed as `true` / `false` / `ask` / `accept-new`; booleans as `yes`/`no` or `true`/`false`; ProxyJump is
 * absent when unset or `none`, and URIs are printed back as `user@host:port`.
 */
import { createHash } from 'node:crypto';
import { hostname as localHostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { HostKeyPolicy, SshHop } from '../model/cluster.js';

/** `ssh -G` output as key → values (keys such as identityfile appear on several lines, kept in order). */
export type SshGOutput = Map<string, string[]>;

export function parseSshG(text: string): SshGOutput {
  const out: SshGOutput = new Map();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const space = line.indexOf(' ');
    const key = (space < 0 ? line : line.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : line.slice(space + 1).trim();
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

/** One hop of a ProxyJump spec: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface JumpSpec {
  host: string;
  user?: string;
  port?: number;
}

/** Parses a ProxyJump value: `none` (or empty) → [], else the comma-separated hops, first one connected first. */
export function parseProxyJump(spec: string): JumpSpec[] {
  const text = spec.trim();
  if (!text || text.toLowerCase() === 'none') return [];
  return text.split(',').map((part) => parseJumpHop(part.trim(), spec));
}

function parseJumpHop(part: string, whole: string): JumpSpec {
  const bad = (why: string) => new Error(`invalid ProxyJump '${whole}': '${part}' ${why}`);
  let rest = part;
  if (/^ssh:\/\//i.test(rest)) rest = rest.slice(6).replace(/\/$/, '');
  if (!rest) throw bad('names no host');
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) throw bad('has an empty user');
  }
  let host = rest;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if (rest.split(':').length === 2) {
    [host, portText] = rest.split(':') as [string, string];
  } // more than one colon without brackets: a bare IPv6 address
  if (!host) throw bad('names no host');
  if (portText === undefined) return { host, user };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw bad(`has an invalid port '${portText}'`);
  return { host, user, port };
}

/** The ProxyJump spec of a list of hops, as ssh's `-J` takes it. */
export function formatProxyJump(hops: JumpSpec[]): string {
  return hops.map((h) => `${h.user ? `${h.user}@` : ''}${h.host.includes(':') ? `[${h.host}]` : h.host}${h.port ? `:${h.port}` : ''}`).join(',');
}

/**
 * StrictHostKeyChecking → pilot's policy. `no`/`off` become 'accept-new': like OpenSSH with `no`, an unknown
 * host is trusted on first use, but pilot never connects to a host whose key CHANGED (OpenSSH with `no` still
 * connects then, only disabling agent and X11 forwarding): a changed key means a man in the middle or a
 * reinstalled host, and either way pilot is about to upload code and run it under the user's account.
 */
export function hostKeyPolicy(value: string | undefined): HostKeyPolicy {
  switch ((value ?? 'ask').toLowerCase()) {
    case 'yes': case 'true': return 'yes';
    case 'no': case 'off': case 'false': case 'accept-new': return 'accept-new';
    default: return 'ask';
  }
}

/** What `%` tokens and `~` expand to: the local side (defaults from this process) and the hop. */
export interface ExpandContext {
  /** The local home as OpenSSH sees it (the passwd entry, not $HOME). */
  home?: string;
  localUser?: string;
  uid?: number;
  localHost?: string;
  env?: NodeJS.ProcessEnv;
}

interface HopTokens { host: string; port: number; user: string; alias: string; hostKeyAlias?: string; proxyJump: string }

/** Expands `~/`, `${VAR}` and the `%` tokens of ssh_config(5) "TOKENS" that apply to IdentityFile and friends. */
export function expandSshPath(path: string, hop: HopTokens, ctx: ExpandContext = {}): string {
  const info = ctx.home === undefined || ctx.localUser === undefined || ctx.uid === undefined ? userInfo() : undefined;
  const home = ctx.home ?? info!.homedir;
  const local = ctx.localHost ?? localHostname();
  let p = path.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => (ctx.env ?? process.env)[name] ?? m);
  if (p === '~') p = home;
  else if (p.startsWith('~/')) p = join(home, p.slice(2));
  const tokens: Record<string, () => string> = {
    '%': () => '%',
    d: () => home,
    h: () => hop.host,
    p: () => String(hop.port),
    r: () => hop.user,
    n: () => hop.alias,
    u: () => ctx.localUser ?? info!.username,
    i: () => String(ctx.uid ?? info!.uid),
    l: () => local,
    L: () => local.split('.')[0]!,
    k: () => hop.hostKeyAlias ?? hop.alias,
    j: () => hop.proxyJump,
    C: () => createHash('sha1').update(`${local}${hop.host}${hop.port}${hop.user}${hop.proxyJump}`).digest('hex'),
  };
  return p.replace(/%(.)/g, (m, t: string) => tokens[t]?.() ?? m);
}

/** What one `ssh -G` says about a host beyond the hop itself. */
export interface ParsedHop {
  hop: SshHop;
  /** The host's own ProxyJump hops ([] when none). */
  proxyJump: JumpSpec[];
  /** ProxyCommand, when set (not `none`). */
  proxyCommand?: string;
}

/** Pilot's defaults where OpenSSH has none: a connect timeout, and a keepalive (see hopFromSshG). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
export const DEFAULT_KEEPALIVE_MS = 10_000;

/**
 * Builds the hop that `ssh -G` describes. `alias` is the name the user gave. Known-hosts files are the user
 * files then the global ones, without /dev/null (`UserKnownHostsFile /dev/null` means "remember nothing").
 * Known-hosts paths are split on spaces, as `ssh -G` prints them: a path holding a space cannot be told apart.
 *
 * ServerAliveInterval 0 (OpenSSH's default: no keepalive, relying on TCPKeepAlive) becomes pilot's 10 s: pilot
 * keeps one connection open through long waits and must notice a dead one (VPN dropped, laptop asleep) within
 * ~30 s instead of hanging for the kernel's two-hour TCP keepalive. A non-zero interval is used as written.
 */
export function hopFromSshG(alias: string, text: string, ctx: ExpandContext = {}): ParsedHop {
  const g = parseSshG(text);
  const one = (key: string) => g.get(key)?.[0];
  const yes = (key: string, dflt: boolean) => {
    const v = one(key)?.toLowerCase();
    return v === undefined ? dflt : v === 'yes' || v === 'true';
  };
  const host = one('hostname');
  const user = one('user');
  if (!host || !user) throw new Error(`ssh -G printed no hostname/user for '${alias}'`);
  const port = Number(one('port') ?? 22);
  const proxyJumpText = one('proxyjump') ?? '';
  const hostKeyAlias = one('hostkeyalias');
  const tokens: HopTokens = { host, port, user, alias, hostKeyAlias, proxyJump: proxyJumpText };
  const files = (key: string) => (g.get(key) ?? []).flatMap((v) => v.split(/\s+/)).filter((f) => f && f !== 'none' && f !== '/dev/null');
  const seconds = (key: string) => {
    const v = Number(one(key));
    return Number.isFinite(v) && v > 0 ? v * 1000 : 0;
  };
  const agent = one('identityagent');
  const proxyCommand = one('proxycommand');
  const hop: SshHop = {
    alias,
    host,
    port,
    user,
    identityFiles: (g.get('identityfile') ?? []).map((f) => expandSshPath(f, tokens, ctx)),
    identitiesOnly: yes('identitiesonly', false),
    knownHostsFiles: [...files('userknownhostsfile'), ...files('globalknownhostsfile')].map((f) => expandSshPath(f, tokens, ctx)),
    strictHostKeyChecking: hostKeyPolicy(one('stricthostkeychecking')),
    connectTimeoutMs: seconds('connecttimeout') || DEFAULT_CONNECT_TIMEOUT_MS,
    serverAliveIntervalMs: seconds('serveraliveinterval') || DEFAULT_KEEPALIVE_MS,
    serverAliveCountMax: Number(one('serveralivecountmax') ?? 3) || 3,
    pubkeyAuthentication: yes('pubkeyauthentication', true),
    kbdInteractiveAuthentication: yes('kbdinteractiveauthentication', true),
    passwordAuthentication: yes('passwordauthentication', true),
  };
  const agentPath = agentSocket(agent, tokens, ctx);
  if (agentPath !== undefined) hop.identityAgent = agentPath;
  if (hostKeyAlias && hostKeyAlias !== 'none') hop.hostKeyAlias = hostKeyAlias;
  return {
    hop,
    proxyJump: parseProxyJump(proxyJumpText),
    ...(proxyCommand && proxyCommand.toLowerCase() !== 'none' ? { proxyCommand } : {}),
  };
}

/** IdentityAgent: absent or SSH_AUTH_SOCK → undefined ($SSH_AUTH_SOCK), none, `$VAR` → its value, else a path. */
function agentSocket(value: string | undefined, tokens: HopTokens, ctx: ExpandContext): string | undefined {
  if (value === undefined || value === 'SSH_AUTH_SOCK') return undefined;
  if (value.toLowerCase() === 'none') return 'none';
  const envVar = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  if (envVar) return (ctx.env ?? process.env)[envVar[1]!] ?? 'none';
  return expandSshPath(value, tokens, ctx);
}
