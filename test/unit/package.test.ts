// What the published package holds, and that a consumer can compile against it. Runs `npm pack` on the built
// dist/ (npm test builds first) without scripts, so it takes a few seconds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

function packList(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

describe('the npm package', () => {
  const files = packList();

  it('ships the CLI, the SDK with its types, templates, examples, the licence; not tests or tooling', () => {
    for (const f of ['bin/pilot.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/cli/help.txt',
      'dist/scheduler/local/supervisor.js', 'templates/slurm-array.sh.njk', 'examples/fine-tune-mlp/job.yaml', 'LICENSE', 'README.md']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(test|bench|\.ci|node_modules)\/|^tsconfig|\.test\.|write-help/.test(f))).toEqual([]);
  });

  it('has no dangling source map: every map names sources that are in the package or embeds their text', () => {
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      sources.forEach((s, i) => {
        if (typeof sourcesContent?.[i] === 'string') return; // a bundled dependency's text travels in the map
        expect(files, `${map} → ${s}`).toContain(posix.normalize(posix.join(posix.dirname(map), s)));
      });
    }
  });

  it('ships the bundled CLI that bin/pilot.js loads, whose maps point at our shipped sources', () => {
    expect(files).toContain('dist/pilot/cli.cjs');
    expect(files).toContain('dist/cli/code-cache.js');
    expect(files).toContain('dist/pilot/supervisor.js');
    expect(readFileSync(join(ROOT, 'bin', 'pilot.js'), 'utf8')).toContain("'../dist/cli/code-cache.js'");
    expect(readFileSync(join(ROOT, 'dist', 'cli', 'code-cache.js'), 'utf8')).toContain("'../pilot/cli.cjs'");
    const { sources } = JSON.parse(readFileSync(join(ROOT, 'dist', 'pilot', 'cli.cjs.map'), 'utf8')) as { sources: string[] };
    expect(sources).toContain('../../src/cli/main.ts');
    // ssh2 is inside the script; its optional native binding is required from the installed package
    expect(sources.some((s) => s.includes('node_modules/ssh2/lib/client.js'))).toBe(true);
    expect(readFileSync(join(ROOT, 'dist', 'pilot', 'cli.cjs'), 'utf8')).toContain('require("ssh2/lib/protocol/crypto/build/Release/sshcrypto.node")');
  });

  it('compiles in a strict nodenext consumer that has only the package and its dependencies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-consumer-'));
    const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
    const modules = join(dir, 'node_modules');
    mkdirSync(join(modules, 'hpc-pilot'), { recursive: true });
    execFileSync('tar', ['-xzf', join(dir, tgz), '-C', join(modules, 'hpc-pilot'), '--strip-components=1']);
    // only what the package declares as dependencies is installed next to it, as npm would
    for (const dep of Object.keys(pkg.dependencies)) {
      mkdirSync(dirname(join(modules, dep)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'consumer.ts'), readFileSync(join(ROOT, 'test', 'types', 'consumer.ts')));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: [] },
      files: ['consumer.ts'],
    }));
    expect(existsSync(join(modules, 'hpc-pilot', 'dist', 'index.d.ts'))).toBe(true);
    let output = '';
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(output).toBe('');
  }, 60_000);
});
