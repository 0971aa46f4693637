/** The commands about clusters rather than jobs: checking a connection, trusting a host key, adding a cluster. */
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { examples, wholeNumber, type Finish } from './define.js';

export function addClusterCommands(parent: CommandUnknownOpts, finish: Finish): void {
  parent.command('test-ssh')
    .description('Connect to a cluster and check everything pilot needs there')
    .argument('<cluster>', 'cluster name from $PILOT_HOME/config.yaml, a Host alias of ~/.ssh/config, or `local`')
    .option('--json', 'Print the result as JSON')
    .addHelpText('after', `
Reports the route (jump hosts), each hop's host key fingerprint and the login
method that worked, the round trip, the Slurm commands and version, the
controller, MaxArraySize, accounting (sacct), and whether the remote folder is
writable. Exits 1 when something pilot needs is missing.
` + examples(
      'pilot test-ssh lab               # a cluster of config.yaml',
      'pilot test-ssh hpc-login         # a Host of ~/.ssh/config: ProxyJump, keys, agent as ssh uses them',
      'pilot test-ssh lab --json',
    ))
    .action(async (cluster, opts) => finish(await (await import('./commands/test-ssh.js')).run(cluster, opts)));

  parent.command('trust')
    .description("Record a cluster's host key (and its jump hosts') in known_hosts, after you confirm it")
    .argument('<cluster>', 'cluster name from $PILOT_HOME/config.yaml or a Host alias of ~/.ssh/config')
    .option('--fingerprint <sha256>', 'Accept only a key with this fingerprint (SHA256:…), without asking: for scripts')
    .addHelpText('after', `
pilot refuses hosts that are in no known_hosts file. This command connects,
shows each unknown host's fingerprint, and appends the key to your known_hosts
only when you say yes (or when it equals --fingerprint). A key that CHANGED is
never replaced: remove the old line yourself (ssh-keygen -R HOST) once your
cluster admins confirm the new fingerprint.
` + examples(
      'pilot trust lab',
      'pilot trust lab --fingerprint SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
    ))
    .action(async (cluster, opts) => finish(await (await import('./commands/trust.js')).run(cluster, opts)));

  parent.command('add-cluster')
    .description('Add a cluster to $PILOT_HOME/config.yaml (asks what is missing), then test it')
    .argument('<name>', 'the name to use in `cluster:` and --cluster')
    .option('--alias <host>', 'a Host of ~/.ssh/config to take everything from (ProxyJump, keys, user...)')
    .option('--host <host>', 'host name or address (when there is no ssh alias)')
    .option('--user <user>', 'user name on the cluster')
    .option('--port <port>', 'ssh port', wholeNumber)
    .option('--identity-file <file>', 'private key file')
    .option('--known-hosts <file>', 'known_hosts file to check (default ~/.ssh/known_hosts)')
    .option('--proxy-jump <hops>', 'jump hosts, as ssh -J takes them: [user@]host[:port],...')
    .option('--remote-dir <dir>', "pilot's folder on the cluster (default ~/pilot)")
    .option('--partition <name>', 'default Slurm partition')
    .option('--account <name>', 'default Slurm account')
    .option('--transport <kind>', 'ssh2 (built in, default) or openssh (the system ssh client, for certificates/Kerberos/FIDO)')
    .option('--force', 'replace an existing entry of that name')
    .option('--no-test', 'do not connect afterwards')
    .addHelpText('after', examples(
      'pilot add-cluster hpc --alias hpc-login            # reuse ~/.ssh/config (jump hosts, keys, agent)',
      'pilot add-cluster lab --host 10.0.0.5 --user me --port 2222 --identity-file ~/.ssh/id_ed25519',
      'pilot add-cluster hpc                              # asks on the terminal',
    ))
    .action(async (name, opts) => finish(await (await import('./commands/add-cluster.js')).run(name, opts)));
}
