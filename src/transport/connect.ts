/**
 * Opening the ssh2 connection of a route: each jump host in turn, the next hop reached through the previous
 * one's `direct-tcpip` channel (no local port is opened), every hop's host key checked against its own
 * known_hosts and logged in with its own settings. Errors say which hop, and what failed: name resolution,
 * refused, timed out, which methods were offered and tried, the host key.
 */
import type { Client, ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';
import { describeHop, type SshHop, type SshRoute } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import { loginFailure, planLogin } from './auth.js';
import { hostCheck } from './host-trust.js';
import { cannotAsk, chooseAsker } from './prompt.js';
import { SshTransport } from './ssh.js';
import { emptyStats, type ConnectContext, type HopInfo, type PromptRequest, type TransportStats } from './types.js';

export async function connectSsh(route: SshRoute, context: ConnectContext = {}): Promise<SshTransport> {
  const stats = emptyStats();
  const hops = [...route.jumps, route.target];
  const clients: Client[] = [];
  const infos: HopInfo[] = [];
  try {
    for (const [i, hop] of hops.entries()) {
      const prefix = i < hops.length - 1 ? `jump host ${i + 1} (${hop.alias}): ` : route.jumps.length ? `${hop.alias} (through ${route.jumps.length} jump host${route.jumps.length > 1 ? 's' : ''}): ` : '';
      const sock = i === 0 ? undefined : await forward(clients[i - 1]!, hop, `jump host ${i} (${hops[i - 1]!.alias})`);
      const { client, info } = await connectHop(hop, sock, context, stats, prefix);
      clients.push(client);
      infos.push(info);
    }
  } catch (err) {
    for (const c of clients.reverse()) c.end();
    throw err;
  }
  return new SshTransport(clients.at(-1)!, describeHop(route.target), { stats, jumps: clients.slice(0, -1), hops: infos });
}

/** A channel from `via` to the hop's address: the socket the next ssh2 client runs on. */
function forward(via: Client, hop: SshHop, viaName: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, hop.host, hop.port, (err, stream) => {
      if (!err) return resolve(stream);
      const reason = (err as Error & { reason?: number }).reason;
      reject(new PilotError('SSH', `${viaName} would not forward to ${hop.host}:${hop.port}: ${err.message}`, {
        hint: reason === 1
          ? 'the jump host forbids forwarding there (AllowTcpForwarding / PermitOpen in its sshd_config); check HostName and Port of the target'
          : `the jump host cannot reach ${hop.host}:${hop.port}; check the target's HostName and Port as the jump host sees them`,
        cause: err,
      }));
    });
  });
}

async function connectHop(hop: SshHop, sock: Duplex | undefined, context: ConnectContext, stats: TransportStats, prefix: string): Promise<{ client: Client; info: HopInfo }> {
  const { Client } = await import('ssh2');
  const started = Date.now();
  const check = await hostCheck(hop, context, prefix);
  const client = new Client();
  const asker = chooseAsker(context.prompt);
  let failure: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finish!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  const fail = (err: Error) => {
    failure ??= err;
    client.destroy();
    finish(failure);
  };
  // whoever connected early found no use for the connection (a launch whose job is invalid): give up now, not
  // at the connect timeout, so that nothing waits for a host that does not answer
  context.promptsAfter?.catch((err: unknown) => fail(err instanceof Error ? err : new PilotError('BAD_INPUT', String(err))));
  // ConnectTimeout bounds the network part; the clock stops while the user is asked something
  const arm = () => {
    clearTimeout(timer);
    if (hop.connectTimeoutMs > 0) {
      timer = setTimeout(() => fail(new PilotError('SSH', `${prefix}timed out after ${Math.round(hop.connectTimeoutMs / 1000)} s connecting to ${describeHop(hop)}`, {
        hint: 'the host did not answer: check the network (VPN), HostName and Port, or raise ConnectTimeout in ~/.ssh/config',
      })), hop.connectTimeoutMs);
    }
  };
  const ask = async (request: PromptRequest) => {
    if (!asker) throw cannotAsk(request);
    clearTimeout(timer);
    try {
      await context.promptsAfter;
      stats.prompts++;
      return await asker(request);
    } finally {
      arm();
    }
  };
  const login = planLogin(hop, ask, fail);
  const config: ConnectConfig = {
    host: hop.host,
    port: hop.port,
    username: hop.user,
    ...(sock ? { sock } : {}),
    readyTimeout: 0,
    keepaliveInterval: hop.serverAliveIntervalMs,
    keepaliveCountMax: hop.serverAliveCountMax,
    algorithms: { serverHostKey: check.algorithms as never },
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      clearTimeout(timer);   // confirming a host key may wait for the user
      check.verify(key, (ok) => {
        arm();
        verify(ok);
      });
    },
    authHandler: login.handler,
  } as ConnectConfig;
  client.on('ready', () => finish());
  client.on('error', (err: Error & { level?: string; code?: string }) => {
    // the agent failing (stale socket, refused to sign) only means the next method is tried
    if (err.level === 'agent') return;
    fail(check.problem() ?? (err.level === 'client-authentication' ? loginFailure(hop, login, prefix) : networkError(hop, prefix, err)));
  });
  client.on('close', () => fail(check.problem() ?? new PilotError('SSH', `${prefix}${describeHop(hop)} closed the connection during login`, {
    hint: 'the server refused the session (AllowUsers, MaxStartups, a wrong one-time password on some sites); its log says why',
  })));
  arm();
  try {
    client.connect(config);
    // Nagle's algorithm would hold every small request until the previous one is acknowledged (~40-80 ms per
    // round trip on a submit); pilot's traffic is small requests and answers
    if (!sock) client.setNoDelay(true);
    await done;
  } catch (err) {
    client.destroy();
    // ssh2 throws synchronously for an unreadable key passed in config; ours are parsed in auth.ts
    throw err instanceof PilotError ? err : networkError(hop, prefix, err as Error);
  } finally {
    clearTimeout(timer);
  }
  client.removeAllListeners('close');
  client.removeAllListeners('error');
  return { client, info: { hop: describeHop(hop), hostKey: check.seen() ?? '?', auth: login.accepted().join(' + ') || 'none', ms: Date.now() - started } };
}

function networkError(hop: SshHop, prefix: string, err: Error & { code?: string }): PilotError {
  const where = `${hop.host}:${hop.port}`;
  const known: Record<string, [string, string]> = {
    ENOTFOUND: [`cannot resolve the host name ${hop.host}`, 'check HostName (in config.yaml or ~/.ssh/config) and your DNS/VPN'],
    EAI_AGAIN: [`cannot resolve the host name ${hop.host} (DNS not answering)`, 'check your network and DNS/VPN'],
    ECONNREFUSED: [`${where} refused the connection`, 'nothing listens there: check Port, and that the ssh server runs'],
    ETIMEDOUT: [`connecting to ${where} timed out`, 'check the network (VPN) and the address'],
    EHOSTUNREACH: [`${where} is unreachable`, 'check the network (VPN) and the address'],
    ENETUNREACH: [`the network of ${where} is unreachable`, 'check the network (VPN)'],
    ECONNRESET: [`${where} reset the connection`, 'the server or a firewall dropped it; try again, and check its sshd log'],
  };
  const [what, hint] = known[err.code ?? ''] ?? [`cannot connect to ${describeHop(hop)}: ${err.message}`, 'check host, port and user; `pilot test-ssh CLUSTER` tries the connection alone'];
  return new PilotError('SSH', `${prefix}${what}`, { hint, cause: err });
}
