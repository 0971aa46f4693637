// Hostile input end to end on the real cluster (issue 14, item 4): arguments, env values, placeholders, sweep
// parameters, --extra-args, odd file names and links in srcDir, job names, sbatch options, a YAML bomb, and
// remote files a task left behind (links to /etc, folders swapped for links). Every hostile string tries to
// create MARKER: it must never appear. What pilot refuses, it refuses with exit 2 before anything is sent.
// (The hostile argv corpus over 50 tasks is in schedule.test.ts; links in `pilot download` in download-links.)
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeArgsLine } from '../../src/model/args.js';
import type { SshTransport } from '../../src/transport/ssh.js';
import { quote } from '../../src/util/quote.js';
import { pilot } from '../support/cli.js';
import { connect, makeHome } from '../support/cluster.js';

const MARKER = `/tmp/pilot-hostile-pwned-${process.pid}`;
const TOUCH = `touch ${MARKER}`;
const ATTACKS = [`$(${TOUCH})`, `\`${TOUCH}\``, `;${TOUCH};`, `|${TOUCH}`, `\n${TOUCH}\n`, `'; ${TOUCH}; '`, `"; ${TOUCH}; "`, `&& ${TOUCH}`];

/** The task: prints its attempt, argv, three env values, params and work dir listing, each exact (base64). */
const SHOW = `#!/bin/bash
b64() { base64 -w0; }
echo "task=$PILOT_TASK_INDEX attempt=$PILOT_ATTEMPT"
echo "argv=$(printf '%s\\0' "$@" | b64)"
echo "env=$(printf '%s\\0' "$EVIL" "$OUT" "$ODD" | b64)"
echo "params=$(printf '%s' "$PILOT_PARAMS_JSON" | b64)"
echo "outdir=$PILOT_OUTPUT_DIR"
echo "files=$(find . -mindepth 1 -print0 | LC_ALL=C sort -z | b64)"
if [ -n "\${FAIL_FIRST:-}" ] && [ "$PILOT_ATTEMPT" = 1 ] && [ "$PILOT_TASK_INDEX" = "$FAIL_FIRST" ]; then exit 3; fi
exit 0
`;

interface Shown { argv: string[]; env: string[]; params: string; outdir: string; files: string[] }

function parseShow(stdout: string): Shown {
  const field = (k: string) => (new RegExp(`^${k}=(.*)$`, 'm').exec(stdout) ?? [])[1] ?? '';
  const nul = (b64: string) => decodeArgsLine(b64);
  return { argv: nul(field('argv')), env: nul(field('env')), params: Buffer.from(field('params'), 'base64').toString('utf8'), outdir: field('outdir'), files: nul(field('files')) };
}

/** A project folder with show.sh and a job file written as JSON (YAML's superset: every string exact). */
function project(job: Record<string, unknown>, files: Record<string, string> = {}): { yaml: string; src: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-hostile-'));
  const src = join(dir, 'code');
  mkdirSync(src);
  writeFileSync(join(src, 'show.sh'), SHOW, { mode: 0o755 });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), text);
  }
  writeFileSync(join(dir, 'job.yaml'), JSON.stringify({ cluster: 'lab', srcDir: 'code', entrypoint: 'show.sh', ...job }));
  return { yaml: join(dir, 'job.yaml'), src };
}

const WAIT = ['--timeout', '120', '--no-progress'];

describe('hostile input on the real cluster', () => {
  let ssh: SshTransport;
  beforeAll(async () => { ssh = await connect(); });
  afterAll(async () => { await ssh?.close(); });

  /** The marker exists neither here nor on the cluster (the same machine, asked both ways). */
  async function expectNothingExecuted(): Promise<void> {
    expect(existsSync(MARKER), MARKER).toBe(false);
    expect((await ssh.exec(`test -e ${MARKER} && echo pwned || echo clean`)).stdout.trim()).toBe('clean');
  }
  const remoteRoot = (home: string) => `~/pilot-tests/${home.split('/').pop()}`;
  const show = async (home: string, ref: string, attempt: number) => {
    const r = await pilot(['logs', ref, '--attempt', String(attempt)], home);
    expect(r.code, r.stderr).toBe(0);
    return parseShow(r.stdout);
  };

  it('args, env values and placeholders, then --extra-args of restart-failed and resubmit, reach the task exactly; nothing runs', async () => {
    const home = makeHome();
    const name = 'hostile-argv';
    const task1 = [...ATTACKS, '{outputDir}/r.json', '{{outputDir}', `$(${TOUCH}){index}`, `{job}\`${TOUCH}\``, '{outputDir}{index0}${HOME}', '{a,b}', '{ "json": 1 }', '-', '--'];
    const task2 = ['{index0}', `'{index}'"${TOUCH}"`, ''];
    const env = { EVIL: `$(${TOUCH})`, OUT: `{outputDir}$(${TOUCH})`, ODD: `a'b"c\nd\\e\`${TOUCH}\`\${HOME}{{job}`, FAIL_FIRST: '2' };
    const { yaml } = project({ jobName: name, collection: 'hostile', args: [task1, task2], env });
    const launched = await pilot(['launch', yaml, '--wait', '--json', ...WAIT], home);
    expect(launched.code, launched.stderr).toBe(1);   // task 2 fails its first attempt on purpose
    expect(launched.stderr).toMatch(/\$HOME in args or env is not expanded/);   // the warning, not an expansion

    const a1 = await show(home, `${name}/1`, 1);
    expect(a1.outdir).toMatch(/^\/.*\/jobs\/hostile-argv-[0-9a-f]{8}\/outputs\/1\/1$/);
    const expected1 = [...ATTACKS, `${a1.outdir}/r.json`, '{outputDir}', `$(${TOUCH})1`, `hostile-argv\`${TOUCH}\``, `${a1.outdir}0\${HOME}`, '{a,b}', '{ "json": 1 }', '-', '--'];
    expect(a1.argv).toEqual(expected1);
    expect(a1.env).toEqual([`$(${TOUCH})`, `${a1.outdir}$(${TOUCH})`, `a'b"c\nd\\e\`${TOUCH}\`\${HOME}{job}`]);
    const a2 = await show(home, `${name}/2`, 1);
    expect(a2.argv).toEqual(['1', `'2'"${TOUCH}"`, '']);

    // restart-failed: the extra words are split as shell words (quotes honoured), never expanded
    const extra = `'$(${TOUCH})' "\\\`${TOUCH}\\\`" ';' 'a b' \\$HOME`;
    const restarted = await pilot(['restart-failed', name, '--extra-args', extra, '--json'], home);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(JSON.parse(restarted.stdout)).toMatchObject({ attempt: 2, indices: [2] });
    expect((await pilot(['wait', name, ...WAIT], home)).code).toBe(0);
    const extraWords = [`$(${TOUCH})`, `\`${TOUCH}\``, ';', 'a b', '$HOME'];
    expect((await show(home, `${name}/2`, 2)).argv).toEqual(['1', `'2'"${TOUCH}"`, '', ...extraWords]);

    // resubmit every task of the collection with other extra words: attempt 3, the argv of attempt 1 + them
    const resub = await pilot(['resubmit', '--collection', 'hostile', '--filter', 'all', '--extra-args', `"$(${TOUCH})" x\\;y`, '--json'], home);
    expect(resub.code, resub.stderr).toBe(0);
    expect((await pilot(['wait', name, ...WAIT], home)).code).toBe(0);
    const a3 = await show(home, `${name}/1`, 3);
    expect(a3.outdir).toBe(a1.outdir.replace(/1$/, '3'));
    expect(a3.argv).toEqual([...expected1.map((w) => w.split(a1.outdir).join(a3.outdir)), `$(${TOUCH})`, 'x;y']);
    await expectNothingExecuted();
  });

  it('sweep parameters with hostile values: PILOT_PARAMS_JSON is exact and the argv is --key value, nothing runs', async () => {
    const home = makeHome();
    const values = [
      { name: `$(${TOUCH})`, q: `'"\\`, nl: `a\n${TOUCH}\nb`, list: [`\`${TOUCH}\``, 2, true], uni: '日本 🚀 ключ' },
      { name: `;${TOUCH};`, q: '', nl: '\r\n', list: [], uni: '{index}{{job}' },
    ];
    const { yaml } = project({ jobName: 'hostile-sweep', parameters: { mode: 'list', values } });
    const r = await pilot(['launch', yaml, '--wait', '--json', ...WAIT], home);
    expect(r.code, r.stderr).toBe(0);
    for (const [i, p] of values.entries()) {
      const s = await show(home, `hostile-sweep/${i + 1}`, 1);
      expect(JSON.parse(s.params)).toEqual(p);
      const argv = ['--name', p.name, '--q', p.q, '--nl', p.nl, '--list', ...p.list.map(String), '--uni', p.uni];
      // a placeholder in a parameter value is filled like one in args ({{ is a literal {)
      expect(s.argv).toEqual(argv.map((w) => (w === '{index}{{job}' ? '2{job}' : w)));
    }
    await expectNothingExecuted();
  });

  it('file names in srcDir with newlines, quotes, leading dashes and shell syntax arrive exactly in the work dir', async () => {
    const home = makeHome();
    // (no `/` in a name: the marker's path cannot be one; `pwned` would appear in the listing below)
    const odd = ['new\nline', '"dq"', "'sq'", '-rf', '--help', '$(touch pwned)', '`touch pwned`', ';touch pwned', '$HOME', ' lead space ', 'back\\slash', 'star*', '?', '日本語',
      'tab\there', '-dir/-x', 'a b/c d', '..dots..', '#hash', '~tilde'];
    const { yaml } = project({ jobName: 'hostile-names', args: ['1'] }, Object.fromEntries(odd.map((n) => [n, `content of ${n}\n`])));
    const r = await pilot(['launch', yaml, '--wait', ...WAIT], home);
    expect(r.code, r.stderr).toBe(0);
    const s = await show(home, 'hostile-names/1', 1);
    const want = ['show.sh', ...odd, '-dir', 'a b'].map((n) => `./${n}`);
    expect(s.files.filter((f) => f !== './outputs').sort()).toEqual([...new Set(want)].sort());
    // and their content, read back on the cluster through the job's work/ folder
    const remote = JSON.parse((await pilot(['status', 'hostile-names', '--json'], home)).stdout).remoteDir as string;
    for (const n of odd) {
      const c = await ssh.exec(`cat -- ${quote(`${remote}/work/${n}`)}`);
      expect(c.stdout, n).toBe(`content of ${n}\n`);
    }
    await expectNothingExecuted();
  });

  it('refused with exit 2 before anything is sent: job names, sbatch options, links out of srcDir, unknown placeholders, a YAML bomb', async () => {
    const home = makeHome();
    const outside = mkdtempSync(join(tmpdir(), 'pilot-hostile-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'SECRET');
    const cases: { what: string; job?: Record<string, unknown>; link?: [string, string]; text?: string; error: RegExp }[] = [
      ...['../escape', `a;${TOUCH}`, 'a\nb', '-rf', `$(${TOUCH})`, 'a/b', ''].map((jobName) => ({ what: `jobName ${JSON.stringify(jobName)}`, job: { jobName }, error: /jobName/ })),
      { what: 'sbatchArgs newline', job: { sbatchArgs: [`--comment=x\n${TOUCH}`] }, error: /sbatchArgs.*(newline|control character)/ },
      { what: 'sbatchArgs CR', job: { sbatchArgs: [`--comment=x\r#SBATCH --wrap=${TOUCH}`] }, error: /sbatchArgs/ },
      { what: 'partition newline', job: { partition: `debug\n${TOUCH}` }, error: /partition/ },
      // not a partition name: refused here rather than left to sbatch (in the #SBATCH line, or on sbatch's
      // command line for a sweep's resource set)
      { what: 'partition "debug; touch x"', job: { partition: `debug; ${TOUCH}` }, error: /partition: must be a Slurm partition name/ },
      { what: 'a resource set\'s partition', job: { args: undefined, parameters: { mode: 'list', values: [{ a: 1 }] }, resources: { defaults: { partition: `debug$(${TOUCH})` } } },
        error: /partition/ },
      { what: 'account newline', job: { account: `a\n#SBATCH --wrap=${TOUCH}` }, error: /account/ },
      { what: 'time newline', job: { time: `1:00\n${TOUCH}` }, error: /time/ },
      { what: 'env name', job: { env: { [`A;${TOUCH}`]: 'x' } }, error: /env/ },
      { what: 'unknown placeholder in a hostile arg', job: { args: [[`{evil}$(${TOUCH})`]] }, error: /unknown placeholder \{evil\}/ },
      { what: 'link to a file outside', link: ['leak.txt', join(outside, 'secret.txt')], error: /symlink leak.txt -> .* is absolute/ },
      { what: 'relative link out', link: ['up', '../../'], error: /symlink up -> \.\.\/\.\.\/ points outside the bundled folder/ },
      { what: 'link to /etc', link: ['etc', '/etc'], error: /symlink etc -> \/etc is absolute/ },
      { what: 'YAML bomb', text: bomb(), error: /not valid YAML: Excessive alias count/ },
    ];
    const problems: string[] = [];
    for (const c of cases) {
      const { yaml, src } = project({ jobName: 'hostile-refused', args: ['1'], ...c.job });
      if (c.link) symlinkSync(c.link[1], join(src, c.link[0]));
      if (c.text) writeFileSync(yaml, c.text);
      const r = await pilot(['launch', yaml], home);
      // every case is tried, then all that went wrong are shown at once
      if (r.code !== 2 || !c.error.test(r.stderr) || r.stderr.match(/^error: /gm)?.length !== 1 || r.stderr.includes('SECRET')) problems.push(`${c.what}: exit ${r.code}: ${r.stderr}`);
    }
    expect(problems).toEqual([]);
    expect(existsSync(join(home, 'jobs')) ? readdirSync(join(home, 'jobs')) : []).toEqual([]);
    expect((await ssh.exec(`test -e ${remoteRoot(home)} && echo sent || echo nothing`)).stdout.trim()).toBe('nothing');
    await expectNothingExecuted();
  });
  it('remote files that lead to /etc: download, results, logs and why read or write nothing outside their folder', async () => {
    const home = makeHome();
    const name = 'hostile-remote';
    // task 1 leaves links to /etc where pilot looks (results.json, its output folder) and fails; task 2 is sane
    const evil = ['#!/bin/bash', 'o=$PILOT_OUTPUT_DIR',
      'if [ "$PILOT_TASK_INDEX" = 1 ]; then',
      '  ln -s /etc/passwd "$o/results.json"; ln -s /etc "$o/etc"; ln -s /etc/passwd "$o/passwd"; ln -s ../../../../../.. "$o/up"',
      '  echo kept > "$o/..x"; ln -s /etc/passwd "$PILOT_WORK_DIR/passwd-in-work"; echo "task 1 fails" >&2; exit 1',
      'fi', 'echo \'{"score": 7}\' > "$o/results.json"', ''].join('\n');
    const { yaml, src } = project({ jobName: name, entrypoint: 'evil.sh', args: ['1', '2'] });
    writeFileSync(join(src, 'evil.sh'), evil, { mode: 0o755 });
    const launched = await pilot(['launch', yaml, '--wait', '--json', ...WAIT], home);
    expect(launched.code, launched.stderr).toBe(1);
    const status = JSON.parse((await pilot(['status', name, '--json'], home)).stdout) as { remoteDir: string; slurmJobIds: string[] };
    const logs = `${status.remoteDir}/logs/${status.slurmJobIds[0]}_1`;
    // then its logs are swapped for links to /etc/passwd, as a task (or anyone with the account) could do
    expect((await ssh.exec(`ln -sf /etc/passwd ${quote(`${logs}.out`)} && ln -sf /etc/passwd ${quote(`${logs}.err`)}`)).code).toBe(0);
    const leaked = (text: string) => /root:.*:0:0:/.test(text);

    const results = await pilot(['results', name, '--format', 'json', '--all'], home);
    expect(results.code, results.stderr).toBe(0);
    expect(leaked(results.stdout + results.stderr)).toBe(false);
    const rows = (JSON.parse(results.stdout) as { rows: Record<string, unknown>[] }[])[0]!.rows;
    expect(rows.find((r) => r.index === 2), results.stdout).toMatchObject({ score: 7 });
    expect(rows.find((r) => r.index === 1), results.stdout).toMatchObject({ state: 'FAILED' });
    expect(Object.keys(rows.find((r) => r.index === 1)!)).not.toContain('score');
    // a result file named outside the task's folder is refused before anything is read
    for (const file of ['../../../../../../etc/passwd', '/etc/passwd', '../2/results.json', "a'b"]) {
      const r = await pilot(['results', name, '--file', file], home);
      expect(r.code, `${file}: ${r.stderr}`).toBe(2);
      expect(r.stderr.match(/^error: /gm), file).toHaveLength(1);
      expect(leaked(r.stdout + r.stderr)).toBe(false);
    }

    // both transports read a log their own way (ssh2: SFTP lstat + fstat; openssh: a remote script): the same
    // records in a copy of the home whose `lab` uses the system ssh client (this file runs once, over ssh2)
    const viaOpenssh = mkdtempSync(join(tmpdir(), 'pilot-home-openssh-'));
    cpSync(home, viaOpenssh, { recursive: true });
    writeFileSync(join(viaOpenssh, 'config.yaml'), `${readFileSync(join(home, 'config.yaml'), 'utf8').replace(/^ {4}transport: .*$/m, '')}\n    transport: openssh\n`);
    const reads = [];
    for (const h of [home, viaOpenssh]) reads.push(await pilot(['logs', `${name}/1`], h), await pilot(['logs', `${name}/1`, '--stderr'], h));
    for (const r of reads) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error: refusing to read .*_1\.(out|err).*: it is a symbolic link, not a regular file$/m);
      expect(r.stderr.match(/^error: /gm)).toHaveLength(1);
      expect(leaked(r.stdout + r.stderr)).toBe(false);
    }
    const why = await pilot(['why', `${name}/1`, '--json'], home);
    expect(why.code, why.stderr).not.toBe(2);
    expect(leaked(why.stdout + why.stderr)).toBe(false);

    const parent = mkdtempSync(join(tmpdir(), 'pilot-hostile-dl-'));
    const to = join(parent, 'dl');
    const dl = await pilot(['download', name, '--to', to, '--json'], home);
    expect(dl.code, dl.stderr).toBe(2);   // the rest comes home; each link out is left out with one warning
    expect(dl.stderr.match(/^error: /gm), dl.stderr).toHaveLength(1);
    const skipped = (JSON.parse(dl.stdout) as { skipped: { path: string }[] }).skipped.map((x) => x.path).sort();
    expect(skipped).toEqual(['outputs/1/1/etc', 'outputs/1/1/passwd', 'outputs/1/1/results.json', 'outputs/1/1/up', 'work/passwd-in-work',
      `logs/${status.slurmJobIds[0]}_1.err`, `logs/${status.slurmJobIds[0]}_1.out`].sort());
    for (const p of skipped) expect(dl.stderr).toContain(`warning: skipped ${p}: `);
    for (const glob of ['../../*', '/etc/*', 'outputs/../../*']) {
      const r = await pilot(['download', name, '--to', join(parent, 'globbed'), '--glob', glob], home);
      expect(r.code, `${glob}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^error: --glob .* must be a relative pattern$/m);
    }
    expect(readdirSync(parent)).toEqual(['dl']);   // nothing written next to the destination
    expect(readdirSync(join(to, 'outputs', '1', '1')).sort()).toEqual(['..x']);
    expect(readdirSync(join(to, 'outputs', '2', '1'))).toEqual(['results.json']);
    await expectNothingExecuted();
  });
});

/** A billion-laughs document: 9 levels of 9 aliases each (9^9 strings once expanded). */
function bomb(): string {
  const lines = ['jobName: bomb', 'cluster: lab', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const [prev, cur] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${lines.join('\n')}\nargs: *i\n`;
}
