// The default template compiled when pilot is built renders exactly what the run-time compiler renders, and it
// is used only for the very text it was made from (src/scheduler/template-compile.ts).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compiledFileOf, compiledModule, compiledTemplate, compileTemplate } from '../../src/scheduler/template-compile.js';
import { slurmDialect } from '../../src/scheduler/slurm/index.js';

const template = slurmDialect.template;
const text = readFileSync(template, 'utf8');

/** Contexts that take the template's branches: libraries, env to fill, setup lines, hostile values, arrayBase 0. */
const contexts = [
  { version: '1.0.0', jobName: 'j', bundleSha: 'a'.repeat(64), sbatchLines: ['--time=00:01:00'], env: {}, setup: [], command: ['bash', 'run.sh'], arrayBase: 1, libraryDirs: [] },
  {
    version: '1.0.0', jobName: 'odd-name', bundleSha: 'b'.repeat(64), sbatchLines: ['--mem=1G', '--partition=debug'],
    env: { A: "it's $HOME `x`", B: '@pilot_outputDir_0123@/x' }, setup: ['module load python', 'echo "$(date)"'],
    command: ['python3', '-u', 'a b.py'], arrayBase: 0, libraryDirs: ['lib/one', 'lib/t w o'],
    fills: [{ token: '@pilot_outputDir_0123@', value: '$PILOT_OUTPUT_DIR' }], envToFill: ['B'],
  },
].map((c) => ({ outputDir: 'outputs/${PILOT_TASK_INDEX}/${PILOT_ATTEMPT}', fills: [], envToFill: [], ...c }));

async function built(source = text): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-compiled-'));
  writeFileSync(compiledFileOf(template, dir), await compiledModule(source, template));
  return dir;
}

describe('templates compiled at build time', () => {
  it('render the same script as the run-time compiler, byte for byte', async () => {
    const dir = await built();
    const ahead = await compiledTemplate(text, template, dir);
    const now = await compileTemplate(text, template);
    expect(ahead).toBeTypeOf('function');
    for (const c of contexts) {
      const script = ahead!(c);
      expect(script).toBe(now(c));
      expect(script).toContain(c.jobName);
    }
  });

  it('are not used for another text (an edited template), nor when none was built', async () => {
    const dir = await built(`${text}\n# an older template\n`);
    expect(await compiledTemplate(text, template, dir)).toBeUndefined();
    expect(await compiledTemplate(text, template, mkdtempSync(join(tmpdir(), 'pilot-none-')))).toBeUndefined();
  });

  it('still refuse an undefined value, as the run-time compiler does', async () => {
    const ahead = (await compiledTemplate(text, template, await built()))!;
    const { jobName: _drop, ...missing } = contexts[0]!;
    expect(() => ahead(missing)).toThrow(/jobName|undefined|null/);
  });
});
