import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeJobInfo } from '../../src/engine/job-spec.js';
import { commandWords, renderScript } from '../../src/scheduler/render.js';
import { sbatchLines } from '../../src/scheduler/slurm/directives.js';
import { slurmDialect } from '../../src/scheduler/slurm/index.js';

const src = mkdtempSync(join(tmpdir(), 'pilot-render-'));

async function render(extra: Record<string, unknown> = {}) {
  const info = normalizeJobInfo({ jobName: 'fine-tune', srcDir: src, entrypoint: 'train.py', args: ['--a 1', '--a 2', '--a 3'], maxConcurrent: 2, partition: 'gpu', cpus: 4, gpus: 'a100:1', mem: '8G', time: '1:00:00', sbatchArgs: ['--qos=high'], env: { TOKEN: "$(rm -rf ~) 'x'" }, setup: 'module load cuda', ...extra }, src);
  return renderScript({ version: '0.0.0', jobName: info.jobName, bundleSha: 'f'.repeat(64), sbatchLines: sbatchLines(info, 3, { account: 'lab' }), env: info.env, setup: info.setup, command: commandWords(info), arrayBase: 1, libraryDirs: [] }, info.template ?? slurmDialect.template);
}

describe('array script', () => {
  it('carries the resources, the array and per-task logs as #SBATCH lines', async () => {
    const s = await render();
    for (const line of ['--job-name=fine-tune', '--partition=gpu', '--account=lab', '--cpus-per-task=4', '--gpus=a100:1', '--mem=8G', '--time=1:00:00', '--array=1-3%2', '--output=logs/%A_%a.out', '--error=logs/%A_%a.err', '--qos=high']) {
      expect(s).toContain(`#SBATCH ${line}\n`);
    }
    // all #SBATCH lines come before the first command, or sbatch ignores them
    const firstCommand = s.split('\n').findIndex((l) => l && !l.startsWith('#'));
    expect(s.split('\n').slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false);
  });

  it('quotes env values and runs the interpreter with the decoded argv', async () => {
    const s = await render();
    expect(s).toContain(`export TOKEN='$(rm -rf ~) '\\''x'\\'''\n`);
    expect(s).toContain('module load cuda\n');
    expect(s).toContain('exec python3 train.py ${ARGV[@]+"${ARGV[@]}"}');
    execFileSync('bash', ['-n'], { input: s });
  });

  it('runs an entrypoint without interpreter as ./path', async () => {
    expect(await render({ entrypoint: 'bin/run', interpreter: undefined })).toContain('exec ./bin/run ');
  });

  it('accepts a template of the job, with the q filter', async () => {
    const tpl = join(src, 'mine.njk');
    writeFileSync(tpl, '#!/bin/bash\n{% for l in sbatchLines %}#SBATCH {{ l }}\n{% endfor %}echo {{ jobName | q }} {{ "a b" | q }}\n');
    const s = await render({ template: tpl });
    expect(s).toContain("echo fine-tune 'a b'\n");
    expect(s).toContain('#SBATCH --array=1-3%2\n');
  });
});
