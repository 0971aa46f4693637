// The layering the README describes, checked on the sources so it stays true: imports point down, the model
// and util import nothing above them, nothing imports the CLI, no two folders import each other, no Slurm
// command is written outside the Slurm dialect, and modules stay short.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level folder of a source file (`model`, `engine`…; `root` for src/index.ts). */
const folder = (file: string) => relative(SRC, file).split('/').length > 1 ? relative(SRC, file).split('/')[0]! : 'root';

const imports = sources().flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)]
  .map((m) => ({ file: relative(SRC, file), from: folder(file), to: folder(join(dirname(file), m[1]!)) })));

/** Code without comments, for looking for command names. */
const code = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '').replace(/\s\/\/.*$/gm, '');

describe('architecture', () => {
  it('the model and util import nothing else of src/', () => {
    expect(imports.filter((i) => i.from === 'model' && i.to !== 'model')).toEqual([]);
    expect(imports.filter((i) => i.from === 'util' && i.to !== 'util')).toEqual([]);
  });

  it('nothing below the CLI imports it, and the CLI imports only the engine, the model and util', () => {
    expect(imports.filter((i) => i.from !== 'cli' && i.to === 'cli')).toEqual([]);
    expect(imports.filter((i) => i.from === 'cli' && !['cli', 'engine', 'model', 'util'].includes(i.to))).toEqual([]);
  });

  it('no two folders import each other', () => {
    const pairs = new Set(imports.filter((i) => i.from !== i.to).map((i) => `${i.from}>${i.to}`));
    expect([...pairs].filter((p) => pairs.has(p.split('>').reverse().join('>')))).toEqual([]);
  });

  it('no Slurm command is written outside the Slurm dialect', () => {
    const outside = sources().filter((f) => !relative(SRC, f).startsWith('scheduler/slurm/'));
    // a command line starts a string or follows && ; | (prose such as "one sbatch --array" does not)
    const found = outside.filter((f) => /(?:['`"]|&&\s|;\s|\|\s)(sbatch|squeue|sacct|scontrol|scancel|sinfo)\s/.test(code(f)));
    expect(found.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('zod is imported as a namespace: `import { z }` is an object holding all of zod, so every locale (550 kB) is bundled and compiled', () => {
    expect(sources().filter((f) => /import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*'zod'/.test(readFileSync(f, 'utf8'))).map((f) => relative(SRC, f))).toEqual([]);
  });

  it('keeps modules short', () => {
    const long = sources().map((f) => ({ file: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length })).filter((x) => x.lines > 320);
    expect(long).toEqual([]);
  });
});
