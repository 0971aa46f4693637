/**
 * What a task finds on its search paths (PYTHONPATH, NODE_PATH…) as the default template sets them: the ONE
 * description of it, for `launch --dry-run` and `--verbose`.
 */
import type { NormalizedJobInfo } from './job.js';

/**
 * The library folders a task finds as `lib/<name>`, each put on PYTHONPATH itself (as slurmpilot does): a
 * repository folder that CONTAINS the package (`mylib-repo/custom_library`) then imports. Single-file libraries
 * sit in lib/ itself; a name holding `:` cannot be a PYTHONPATH entry and is left out (still under lib/).
 */
export function libraryDirs(libraries: readonly string[], isDir: (path: string) => boolean): string[] {
  return libraries.filter((l) => isDir(l)).map((l) => l.replace(/\/+$/, '').split('/').pop()!).filter((n) => n && !n.includes(':'));
}

/**
 * What a task's search paths are, as the default template sets them (the ONE description of it, shown by
 * `launch --dry-run` and `launch --verbose`; test/unit/render.test.ts checks the template against it).
 * `env:` may override any of them: shown as given.
 */
export function taskPaths(info: Pick<NormalizedJobInfo, 'env' | 'setup'>, libDirs: readonly string[]): string[] {
  const lib = '$PILOT_BUNDLE_DIR/lib';
  const lines = [
    `PYTHONPATH=${[lib, ...libDirs.map((d) => `${lib}/${d}`), '$PILOT_BUNDLE_DIR/src'].join(':')}[:inherited]`,
    `NODE_PATH=${lib}[:inherited]`,
    'PATH=inherited from the environment the job is submitted from (as sbatch passes it on), unchanged by pilot',
    'R_LIBS=inherited, unchanged by pilot',
  ].map((l) => {
    const name = l.slice(0, l.indexOf('='));
    return info.env[name] !== undefined ? `${name}=${info.env[name]} (set by env:)` : l;
  });
  if (info.setup.length) lines.push('(setup: lines run before the program and may change them)');
  return lines;
}
