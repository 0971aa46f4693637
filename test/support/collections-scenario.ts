// The collections scenario of issue 11, through the CLI, shared by test/integration/collections.test.ts (the real
// Slurm cluster) and local-collections.test.ts (the local backend): a learning-rate sweep where lr=0.1 always
// fails; analyze ranks it top risky (failure rate 1.0); resubmit --filter failed --extra-args appends the words
// to the argv of the failed tasks only (their printed argv says so); groups and show --show-history see both attempts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { pilot } from './cli.js';
import { makeHome } from './cluster.js';

const TRAIN = [
  '#!/bin/bash',
  'echo "task=$PILOT_TASK_INDEX attempt=$PILOT_ATTEMPT argv=$*"',
  // lr=0.1 diverges, whatever else it is given
  'if [ "$2" = 0.1 ]; then echo "loss is nan" >&2; exit 1; fi',
].join('\n') + '\n';

export async function collectionsScenario(cluster: string): Promise<void> {
  const home = makeHome();
  const dir = mkdtempSync(join(tmpdir(), 'pilot-coll-'));
  const tag = randomBytes(3).toString('hex');
  const name = `lrs-${cluster}-${tag}`;
  const coll = `exp-${tag}`;
  writeFileSync(join(dir, 'train.sh'), TRAIN);
  writeFileSync(join(dir, 'pick.mjs'), 'export const onlySix = (t) => t.index === 6 && t.params.lr === 0.1;\n');
  const lrs = [0.001, 0.01, 0.1, 0.001, 0.01, 0.1];
  writeFileSync(join(dir, 'job.yaml'), `jobName: ${name}\ncluster: ${cluster}\nentrypoint: train.sh\nmaxConcurrent: 3\nargs:\n${lrs.map((lr) => `  - { lr: ${lr} }\n`).join('')}`);
  const run = async (args: string[], code = 0) => {
    const r = await pilot(args, home);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
    return r.stdout;
  };
  const wait = () => run(['wait', name, '--timeout', '120', '--json'], 1);

  await run(['launch', join(dir, 'job.yaml'), '--collection', coll]);
  await wait();
  expect(await run(['collection', 'update', coll])).toBe(`${coll}: 6 tasks · 4 completed · 2 failed · 0 pending · 0 running\n`);
  expect(await run(['collection', 'list'])).toMatch(new RegExp(`^${coll} +1 +6 +4 +2 +0 +0$`, 'm'));

  const analysis = JSON.parse(await run(['collection', 'analyze', coll, '--param', 'lr', '--min-support', '2', '--format', 'json']));
  expect(analysis.topRisky[0]).toMatchObject({ param: 'lr', value: '0.1', n: 2, failed: 2, failureRate: 1, lowN: false });
  const table = await run(['collection', 'analyze', coll, '--min-support', '2']);
  expect(table).toContain('Top risky (failure rate)\n  1. lr=0.1  100% of 2\n');
  expect(table).toMatch(/lr=0\.1 +█{20}  1\.00  n=2/);

  const resubmitted = await run(['resubmit', '--collection', coll, '--filter', 'failed', '--extra-args', '--resume last.ckpt', '--submission-group', 'resume']);
  expect(resubmitted).toMatch(new RegExp(`^${name}: resubmitted 2 task\\(s\\) as attempt 2 \\(job \\d+\\): 3,6\\ngroup resume, extra args: --resume last\\.ckpt\\n$`));
  await wait();

  // the argv each task printed: the extra words on the resubmitted tasks' new attempt only
  const log = (task: number, attempt?: number) => run(['logs', `${name}/${task}`, ...(attempt ? ['--attempt', String(attempt)] : [])]);
  expect(await log(3)).toBe('task=3 attempt=2 argv=--lr 0.1 --resume last.ckpt\n');
  expect(await log(6)).toBe('task=6 attempt=2 argv=--lr 0.1 --resume last.ckpt\n');
  expect(await log(3, 1)).toBe('task=3 attempt=1 argv=--lr 0.1\n');
  expect(await log(1)).toBe('task=1 attempt=1 argv=--lr 0.001\n');

  const groups = JSON.parse(await run(['collection', 'groups', coll, '--json']));
  expect(groups.map((g: { name: string; slurmJobs: number; tasks: number }) => [g.name, g.slurmJobs, g.tasks])).toEqual([['initial', 1, 6], ['resume', 1, 2]]);
  expect(groups[1].extraArgs).toEqual(['--resume', 'last.ckpt']);
  expect(await run(['collection', 'groups', coll])).toMatch(/^resume +1 +2 +\d{4}-\d\d-\d\d \d\d:\d\d +\d{4}-\d\d-\d\d \d\d:\d\d +--resume last\.ckpt$/m);

  // words that a shell would run or split reach the argv as they are, and only through that attempt's file
  const hostile = await run(['resubmit', '--collection', coll, '--filter', 'failed', '--select', `${join(dir, 'pick.mjs')}:onlySix`, '--extra-args', `--note 'a b' "$(touch ${dir}/pwned)" ';' '\\x'`, '--json']);
  expect(JSON.parse(hostile).jobs).toMatchObject([{ name, attempt: 3, indices: [6] }]);
  await wait();
  expect(await log(6)).toBe(`task=6 attempt=3 argv=--lr 0.1 --note a b $(touch ${dir}/pwned) ; \\x\n`);
  expect(existsSync(join(dir, 'pwned'))).toBe(false);

  const shown = await run(['collection', 'show', coll, '--show-history', '--submission-group', 'resume']);
  expect(shown).toMatch(new RegExp(`^${name} +3 +FAILED +2 +1:FAILED\\(1\\) → 2:FAILED\\(1\\) +lr=0\\.1$`, 'm'));
  expect(shown).toMatch(new RegExp(`^${name} +6 +FAILED +3 +1:FAILED\\(1\\) → 2:FAILED\\(1\\) → 3:FAILED\\(1\\) +lr=0\\.1$`, 'm'));
  const doc = JSON.parse(await run(['collection', 'show', coll, '--show-history', '--format', 'json', '--state', 'completed']));
  expect(doc.tasks.map((t: { index: number; history: unknown[] }) => [t.index, t.history.length])).toEqual([[1, 1], [2, 1], [4, 1], [5, 1]]);
  expect(await run(['collection', 'show', coll, '--format', 'yaml', '--attempt-mode', 'primary', '--state', 'failed'])).toMatch(/index: 3\n[\s\S]*attempt: 1/);

  // results of every job of the collection: one row per task (--all), its params joined; no task wrote a file
  const rows = JSON.parse(await run(['results', '--collection', coll, '--all', '--format', 'json']));
  expect(rows.map((j: { name: string }) => j.name)).toEqual([name]);
  expect(rows[0].rows.map((r: { index: number; lr: number }) => [r.index, r.lr])).toEqual([[1, 0.001], [2, 0.01], [3, 0.1], [4, 0.001], [5, 0.01], [6, 0.1]]);

  // one page over the collection: its job named, every task as job/index, the failure rate of lr over all tasks
  const page = join(dir, 'collection.html');
  expect(await run(['report', '--collection', coll, '--html', page])).toContain(`${coll}: report written to ${page}`);
  const html = readFileSync(page, 'utf8');
  expect(html).toContain(`collection of 1 job(s): ${name}`);
  expect(html).toContain(`>${name}/3</text>`);
  expect(html).toMatch(/data-value="0\.1" data-rate="1"/);
  expect((await pilot(['report', name, '--collection', coll, '--html', page], home)).code).toBe(2);
}
