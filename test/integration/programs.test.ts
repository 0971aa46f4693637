// Real programs as they are (issue 13, items 3-6), on the Slurm test cluster and on `local`: 0-based arrays
// (arrayBase: 0), an unchanged course-style sbatch script launched as it is (#SBATCH --array=1-4%2 --mem=500M),
// a library given as a repository folder that CONTAINS the package, argsFile, and the local runner's environment.
// Behaviour does not depend on the transport: excluded from integration-openssh (vitest.config.ts).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';
import { BACKENDS, makeHome } from '../support/cluster.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-programs-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** The most tasks running at the same moment, from the `start <t>` / `end <t>` lines the tasks printed. */
function maxOverlap(spans: { start: number; end: number }[]): number {
  const events = spans.flatMap((s) => [[s.start, 1], [s.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of events) most = Math.max(most, (now += d));
  return most;
}

for (const cluster of BACKENDS) {
  describe(`real programs as they are on ${cluster}`, () => {
    it('arrayBase: 0 runs tasks 0..4: SEED_ARRAY[$SLURM_ARRAY_TASK_ID] gives every seed once, and NAME/0 is the first task', async () => {
      const home = makeHome();
      const name = `prog-base0-${cluster}`;
      const src = folder({
        'seeds.sh': 'SEED_ARRAY=(101 202 303 404 505)\necho "seed=${SEED_ARRAY[$SLURM_ARRAY_TASK_ID]} task=$SLURM_ARRAY_TASK_ID index=$PILOT_TASK_INDEX"\n',
        'job.yaml': [`jobName: ${name}`, `cluster: ${cluster}`, 'entrypoint: seeds.sh', 'arrayBase: 0', 'args: [[], [], [], [], []]'].join('\n'),
      });
      const launched = await pilot(['launch', join(src, 'job.yaml'), '--wait', '--json'], home);
      expect(launched.code, launched.stderr).toBe(0);
      const doc = JSON.parse(launched.stdout);
      expect(doc.tasks.map((t: { index: number }) => t.index)).toEqual([0, 1, 2, 3, 4]);
      expect(doc.counts).toEqual({ COMPLETED: 5 });
      const seen: string[] = [];
      for (let i = 0; i < 5; i++) {
        const log = await pilot(['logs', `${name}/${i}`], home);
        expect(log.code, log.stderr).toBe(0);
        seen.push(log.stdout.trim());
      }
      expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `seed=${101 * (i + 1)} task=${i} index=${i}`));
      const none = await pilot(['logs', `${name}/5`], home);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain(`its tasks are ${name}/0 … ${name}/4`);
      const status = await pilot(['status', name, '--tasks'], home);
      expect(status.stdout).toMatch(/^\s+0\s+COMPLETED/m);
    }, 60_000);

    it('arrayBase: 0: why, restart-failed and logs --attempt address task 0; the retry runs it as array index 0 again', async () => {
      const home = makeHome();
      const name = `prog-retry0-${cluster}`;
      const src = folder({
        'r.sh': 'if [ "$SLURM_ARRAY_TASK_ID" = 0 ] && [ "$PILOT_ATTEMPT" = 1 ]; then echo "boom: task zero" >&2; exit 3; fi\necho "ok $SLURM_ARRAY_TASK_ID"\n',
        'job.yaml': [`jobName: ${name}`, `cluster: ${cluster}`, 'entrypoint: r.sh', 'arrayBase: 0', 'args: [[], []]'].join('\n'),
      });
      expect((await pilot(['launch', join(src, 'job.yaml'), '--wait'], home)).code).toBe(1);
      const why = await pilot(['why', `${name}/0`], home);
      expect(why.stdout).toContain('boom: task zero');
      const restart = await pilot(['restart-failed', name], home);
      expect(restart.code, restart.stderr).toBe(0);
      expect(restart.stdout).toMatch(/as attempt 2 .*: 0$/m);
      expect((await pilot(['wait', name], home)).code).toBe(0);
      expect((await pilot(['logs', `${name}/0`], home)).stdout).toBe('ok 0\n');
      expect((await pilot(['logs', `${name}/0`, '--attempt', '1', '--stderr'], home)).stdout).toBe('boom: task zero\n');
    }, 60_000);

    it('an unchanged course-style sbatch script (#SBATCH --array=1-4%2 --mem=500M) runs 4 tasks, at most 2 at once', async () => {
      const home = makeHome();
      const name = `prog-course-${cluster}`;
      const src = folder({
        'course.sbatch': [
          '#!/bin/bash',
          `#SBATCH --job-name=${name}`,
          '#SBATCH --array=1-4%2 --mem=500M',
          '#SBATCH --output=slurm-%A_%a.out   # ignored: pilot keeps per-task logs',
          '#SBATCH --time=00:05:00',
          '',
          'echo "start $(date +%s.%N) task=$SLURM_ARRAY_TASK_ID job=${SLURM_JOB_ID:-none}"',
          'sleep 1',
          'echo "end $(date +%s.%N)"',
        ].join('\n'),
      });
      const dry = await pilot(['launch', join(src, 'course.sbatch'), '--cluster', cluster, '--dry-run'], home);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('--array=1-4%2 → tasks: 4 (numbered from 1, at most 2 at once)');
      expect(dry.stdout).toContain('--mem=500M → mem: 500M');
      expect(dry.stdout).toMatch(/--output=slurm-%A_%a.out: ignored, pilot keeps per-task logs/);

      const launched = await pilot(['launch', join(src, 'course.sbatch'), '--cluster', cluster, '--wait', '--json'], home);
      expect(launched.code, launched.stderr).toBe(0);
      const doc = JSON.parse(launched.stdout);
      expect(doc.name).toBe(name);   // from the script's --job-name
      expect(doc.counts).toEqual({ COMPLETED: 4 });
      const spans = [];
      for (let i = 1; i <= 4; i++) {
        const out = (await pilot(['logs', `${name}/${i}`], home)).stdout;
        const m = /^start (\S+) task=(\d+) job=(\S+)\nend (\S+)$/m.exec(out);
        expect(m, out).not.toBeNull();
        expect(m![2]).toBe(String(i));                           // SLURM_ARRAY_TASK_ID as sbatch gives it
        // local: no made-up job id that a real srun would try to join
        if (cluster === 'local') expect(m![3]).toBe('none'); else expect(m![3]).toMatch(/^\d+$/);
        spans.push({ start: Number(m![1]), end: Number(m![4]) });
      }
      expect(maxOverlap(spans)).toBeLessThanOrEqual(2);
    }, 60_000);

    it('a library given as a repository folder that contains the package imports; argsFile with 4 lines gives 4 tasks', async () => {
      const home = makeHome();
      const name = `prog-lib-${cluster}`;
      const root = folder({
        'mylib-repo/custom_library/__init__.py': 'def greet(x):\n    return "hello " + x\n',
        'mylib-repo/README.md': 'a repository folder holding the package\n',
        'app/main.py': 'import sys\nfrom custom_library import greet\nprint(greet(" ".join(sys.argv[1:])))\n',
        'app/iterations.txt': '# one task per line\nalpha\n\nbeta "two words"\ngamma\ndelta\n',
        'app/job.yaml': [`jobName: ${name}`, `cluster: ${cluster}`, 'entrypoint: main.py', 'libraries: [../mylib-repo]', 'argsFile: iterations.txt'].join('\n'),
      });
      const dry = await pilot(['launch', join(root, 'app', 'job.yaml'), '--dry-run'], home);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('PYTHONPATH=$PILOT_BUNDLE_DIR/lib:$PILOT_BUNDLE_DIR/lib/mylib-repo:$PILOT_BUNDLE_DIR/src[:inherited]');
      const launched = await pilot(['launch', join(root, 'app', 'job.yaml'), '--wait', '--json'], home);
      expect(launched.code, launched.stderr).toBe(0);
      expect(JSON.parse(launched.stdout).counts).toEqual({ COMPLETED: 4 });
      const outs = [];
      for (let i = 1; i <= 4; i++) outs.push((await pilot(['logs', `${name}/${i}`], home)).stdout);
      expect(outs).toEqual(['hello alpha\n', 'hello beta two words\n', 'hello gamma\n', 'hello delta\n']);
    }, 60_000);
  });
}

describe('the local cluster refuses what it cannot honour', () => {
  it('a --dependency in sbatchArgs (or a script\'s #SBATCH lines) is refused with exit 2, nothing submitted', async () => {
    const home = makeHome();
    const src = folder({ 'dep.sbatch': '#!/bin/bash\n#SBATCH --dependency=afterok:123\necho hi\n' });
    const r = await pilot(['launch', join(src, 'dep.sbatch'), '--cluster', 'local'], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--dependency=afterok:123 is not supported on the local cluster');
    expect((await pilot(['list', '--json'], home)).stdout.trim()).toBe('[]');
  });
});
