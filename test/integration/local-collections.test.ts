// Collections, analysis and resubmission with extra args on the local backend (same scenario as collections.test.ts),
// and `pilot rm` taking a job out of every collection that lists it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { pilot } from '../support/cli.js';
import { collectionsScenario } from '../support/collections-scenario.js';

it('a failing lr is top risky; resubmit --extra-args reaches the failed tasks only; groups and history see both attempts (local)', async () => {
  await collectionsScenario('local');
});

it('pilot rm: the job leaves its collection and default; show, list and the other member stay right (local)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'pilot-local-rm-'));
  const dir = mkdtempSync(join(tmpdir(), 'pilot-coll-rm-'));
  writeFileSync(join(dir, 'ok.sh'), '#!/bin/bash\necho ok\n');
  const run = async (args: string[]) => {
    const r = await pilot(args, home);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  for (const name of ['keep-1', 'gone-2']) {
    writeFileSync(join(dir, `${name}.yaml`), `jobName: ${name}\ncluster: local\nentrypoint: ok.sh\nargs:\n  - { n: 1 }\n`);
    await run(['launch', join(dir, `${name}.yaml`), '--collection', 'c', '--wait']);
  }
  await run(['collection', 'add', 'default', 'keep-1', 'gone-2']);
  const show = async (c: string) => JSON.parse(await run(['collection', 'show', c, '--format', 'json']));
  expect((await show('c')).jobs).toEqual(['keep-1', 'gone-2']);
  expect((await show('default')).jobs).toEqual(['keep-1', 'gone-2']);

  await run(['rm', 'gone-2']);
  for (const c of ['c', 'default']) {
    const v = await show(c);
    expect(v.jobs).toEqual(['keep-1']);
    expect(v.missing).toEqual([]);
    expect(v.tasks.map((t: { job: string }) => t.job)).toEqual(['keep-1']);
  }
  expect(await run(['collection', 'list'])).toMatch(/^c +1 +1 +1 /m);
});
