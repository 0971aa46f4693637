// A fake Transport for the engine's unit tier: it answers the driver's remote commands with outputs recorded on
// the real test cluster (test/fixtures/slurm/), as submitit mocks its subprocess. It runs no shell: each command
// is recognised by what it does, and every command is kept so tests can count round trips. The real cluster
// (integration tier) stays the judge of what the commands really do.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlurmWrapper } from '../../src/engine/wrapper.js';
import type { ExecOptions, ExecResult, ReadStreamOptions, Transport, TransportStats } from '../../src/transport/types.js';
import { emptyStats } from '../../src/transport/types.js';
import { PilotError } from '../../src/model/errors.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'slurm');

/** The recorded stdout of a fixture (its `#` header stripped). */
export function fixture(name: string): string {
  const lines = readFileSync(join(FIXTURES, `${name}.txt`), 'utf8').split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('#')) i++;
  return lines.slice(i).join('\n');
}

/** Frames recorded outputs as the status command's sections. */
export function framed(sections: Record<string, string>): string {
  return Object.entries(sections).map(([name, stdout]) =>
    [`@@pilot:begin ${name}`, stdout.replace(/\n$/, ''), `@@pilot:end ${name} rc=0`].filter(Boolean).join('\n')).join('\n') + '\n';
}

export interface FakeClusterOptions {
  /** MaxArraySize the probe reports */
  maxArraySize?: number;
  /** array job ids handed out by sbatch, in order */
  jobIds?: string[];
  /** stdout of each status query, in order (the last one repeats) */
  status?: string[];
  controllerUp?: boolean;
  /** the submit command runs, but its reply is lost (the connection drops) */
  loseSubmitReply?: boolean;
  /** what the search for a lost submission prints */
  adopt?: string;
  /** the stderr files the status command reads, by `<job id>_<index>` (absent: no such file) */
  stderr?: Record<string, string>;
  /** commands `command -v` does not find (default: those named `no-such-…`) */
  missingCommands?: string[];
}

export class FakeCluster implements Transport {
  readonly stats: TransportStats = emptyStats();
  readonly commands: string[] = [];
  readonly uploads: string[] = [];
  /** set it to play a dropped connection */
  closed = false;
  private readonly ids: string[];
  private statusCalls = 0;
  /** bundles removed on the cluster since they were uploaded (as `pilot gc` on another machine would) */
  readonly gone = new Set<string>();

  constructor(private readonly options: FakeClusterOptions = {}) {
    this.ids = [...(options.jobIds ?? ['14'])];
  }

  async exec(command: string, _options: ExecOptions = {}): Promise<ExecResult> {
    this.stats.commands++;
    this.commands.push(command);
    const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });
    if (command.includes('bundle=present')) {
      // the bundle is there once a tarball of that hash was uploaded (the submit command unpacks it)
      const sha = /bundles\/"([0-9a-f]{64})\/\.pilot-complete/.exec(command)?.[1];
      const present = this.uploads.some((u) => u.includes(`/bundles/${sha}.`)) && !this.gone.has(sha!);
      const lookup = /command -v (\S+) 2>/.exec(command)?.[1];
      const missing = lookup && (this.options.missingCommands ?? []).concat(lookup.startsWith('no-such-') ? [lookup] : []).includes(lookup);
      return ok(`home=/home/pilot\nroot=/home/pilot/pilot\nbundle=${present ? 'present' : 'missing'}\n` +
        `maxArraySize=${this.options.maxArraySize ?? 100001}\ncontroller=${this.options.controllerUp === false ? 0 : 1}\n` +
        (lookup ? `interpreter=${missing ? '' : `/usr/bin/${lookup}`}\n` : ''));
    }
    if (command.includes('@@unready')) {
      // a launch that skipped the probe: the submit command checks the bundle, the interpreter, the controller
      const sha = /bundles\/([0-9a-f]{64})/.exec(command)?.[1];
      if (!this.uploads.some((u) => u.includes(`/bundles/${sha}.`)) || this.gone.has(sha!)) return ok('@@unready bundle\n');
      const lookup = /command -v (\S+) 2>/.exec(command)?.[1];
      const missing = lookup && (this.options.missingCommands ?? []).concat(lookup.startsWith('no-such-') ? [lookup] : []).includes(lookup);
      if (missing && command.includes('@@unready interpreter')) return ok('@@unready interpreter\n');
      if (this.options.controllerUp === false) return { code: 8, stdout: `${lookup ? `@@interpreter=${missing ? '' : `/usr/bin/${lookup}`}\n` : ''}@@error controller\n`, stderr: '' };
      const reply = this.submitted(command);
      return ok(lookup ? `@@interpreter=${missing ? '' : `/usr/bin/${lookup}`}\n${reply}` : reply);
    }
    if (command.includes('sbatch --parsable')) return ok(this.submitted(command));
    if (command.includes('@@pilot-adopt:marker')) return ok(this.options.adopt ?? '@@pilot-adopt:marker\nnone\n');
    if (command.includes('@@pilot:begin')) {
      const answers = this.options.status ?? [''];
      const states = command.includes('s sacct') || command.includes('s squeue') ? answers[Math.min(this.statusCalls++, answers.length - 1)]! : '';
      return ok(states + this.tails(command));
    }
    if (command.startsWith('scancel ')) return ok('');
    throw new Error(`the fake cluster does not know this command: ${command.slice(0, 200)}`);
  }

  /** One `@@submitted <id> <offset> <spec>` per sbatch in a submit command, as the real script prints them. */
  private submitted(command: string): string {
    const sbatches = [...command.matchAll(/sbatch --parsable (?:\S+ )*?--array=(\S+?)(?: --dependency=\S+)? job\.sh (\d+) \d+/g)];
    const reply = sbatches.map((m) => `@@submitted ${this.ids.shift() ?? '999'} ${m[2]} ${m[1]!.replace(/'/g, '')}`).join('\n') + '\n';
    if (this.options.loseSubmitReply) throw new PilotError('SSH', 'the connection to the fake cluster was lost');
    return reply;
  }

  /** The `tails` sections the status command asks for (`s tails t DIR KEY…`), as the real shell function prints them. */
  private tails(command: string): string {
    let out = '';
    for (const m of command.matchAll(/ s tails t \S+ ([\d_ ]+?);/g)) {
      const body = m[1]!.split(' ').map((key) => {
        const text = this.options.stderr?.[key];
        return text === undefined ? key : `${key}\n${Buffer.from(text.slice(-512)).toString('base64')}`;
      });
      out += `@@pilot:begin tails\n${body.join('\n')}\n@@pilot:end tails rc=0\n`;
    }
    return out;
  }

  async put(localPathOrData: string | Buffer, remotePath: string): Promise<void> {
    this.stats.uploads++;
    this.uploads.push(remotePath);
    for (const sha of this.gone) if (remotePath.includes(`/bundles/${sha}.`)) this.gone.delete(sha);
  }

  async readStream(_path: string, _options: ReadStreamOptions): Promise<number | null> {
    return null;
  }

  async close(): Promise<void> {}
}

/** A fresh PILOT_HOME whose config.yaml names the fake cluster `lab`, and a wrapper that connects to it. */
export function fakeLab(options: FakeClusterOptions = {}) {
  const home = mkdtempSync(join(tmpdir(), 'pilot-engine-'));
  writeFileSync(join(home, 'config.yaml'), 'clusters:\n  lab: { host: fake.invalid, partition: debug }\n');
  const cluster = new FakeCluster(options);
  const pilot = new SlurmWrapper({ home, connect: async () => cluster });
  return { home, cluster, pilot };
}
