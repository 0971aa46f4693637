/**
 * Which files a bundle ships. The walk is ours (fs.promises, no `git ls-files`, no shell) so it behaves the
 * same without git installed and on trees that are not repositories. The output is sorted by the UTF-8 bytes
 * of the relative path, so the same tree always yields the same list — the first half of reproducibility.
 */
import { statSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, join, posix, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { PilotError } from '../model/errors.js';

export type BundleFile = {
  /** posix path relative to the root, no leading `./`, no trailing `/` */
  rel: string;
  abs: string;
  type: 'file' | 'dir' | 'symlink';
  /** raw permission bits from lstat; the tar writer normalises them */
  mode: number;
  /** bytes for files, 0 otherwise */
  size: number;
  /** symlinks only: the link text as stored on disk (always relative and inside the root) */
  linkTarget?: string;
  /** change detection for the pack index (pack-index.ts): modification time (ms) and inode */
  mtimeMs: number;
  ino: number;
};

/**
 * Never shipped unless the user's `exclude` re-includes them with `!pattern`: VCS metadata, environments and
 * caches that are large, machine-specific, and rebuilt on the cluster anyway. `dist`/`build` are deliberately
 * absent — they can be real inputs (and a .gitignore can exclude them if not).
 */
export const DEFAULT_EXCLUDES: readonly string[] = [
  '.git', '.hg', '.svn',
  'node_modules',
  '__pycache__', '*.pyc', '*.pyo',
  '.venv', 'venv', '.tox', '.nox', '.conda',
  '.mypy_cache', '.pytest_cache', '.ruff_cache', '.ipynb_checkpoints',
  '.DS_Store', 'Thumbs.db',
  '.pilot',
];

/**
 * The one check that a path can be shipped: it exists and is a folder (srcDir), or a folder or a single file
 * (a library). `what` names it in the error (`job: libraries[1]`).
 */
export function assertShippable(path: string, kind: 'folder' | 'folder or file', what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory() || (kind === 'folder or file' && st?.isFile())) return;
  throw new PilotError('BAD_INPUT', `${what}: ${path} ${st ? `is not a ${kind}` : 'does not exist'}`, {
    hint: 'paths are relative to the job.yaml (CLI) or the working directory (SDK)',
  });
}

/** One .gitignore and the folder (relative to the root, '' for the root) whose subtree it governs. */
type Level = { base: string; ig: Ignore };

/**
 * Lists the files under `root` that belong in a bundle.
 * Rules, lowest to highest priority: .gitignore files from the root down to the entry's folder (deeper files
 * override shallower ones, like git), then DEFAULT_EXCLUDES followed by `options.exclude` (gitignore syntax,
 * relative to root). As in git, nothing inside an excluded folder can be re-included.
 *
 * @example
 * const files = await listBundleFiles('./project', { exclude: ['data/', '*.ckpt'] });
 */
export async function listBundleFiles(root: string, options: { exclude?: string[] } = {}): Promise<BundleFile[]> {
  assertShippable(root, 'folder', root);
  // ignorecase false: git's default on Linux, and the cluster's filesystem is case-sensitive.
  const forced = ignore({ ignorecase: false }).add([...DEFAULT_EXCLUDES]).add(options.exclude ?? []);
  const realRoot = await realpath(root);
  const out: BundleFile[] = [];
  await walk(root, realRoot, '', [], forced, out);
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)));
}

async function walk(root: string, realRoot: string, dirRel: string, parentLevels: Level[], forced: Ignore,
  out: BundleFile[]): Promise<void> {
  const dirAbs = dirRel ? join(root, dirRel) : root;
  const dirents = await io(() => readdir(dirAbs, { withFileTypes: true }), dirAbs);
  const names = dirents.map((d) => d.name);
  // a .gitignore the listing says is a plain file is read alongside the lstats (never a fifo or a link: a
  // read that could block, or leave the folder); one it did not say so of, only once lstat says it is
  const giRead = (): Promise<string> => io(() => readFile(join(dirAbs, '.gitignore'), 'utf8'), dirAbs);
  const giEarly = dirents.find((d) => d.name === '.gitignore')?.isFile() ? giRead() : undefined;
  giEarly?.catch(() => undefined);   // awaited below when lstat agrees; never an unhandled rejection
  // lstat the whole folder concurrently: the walk is latency-bound on network filesystems.
  const stats = await Promise.all(names.map((name) => io(() => lstat(join(dirAbs, name)), join(dirAbs, name))));
  const gi = names.indexOf('.gitignore');
  const levels = gi >= 0 && stats[gi]!.isFile()
    ? [...parentLevels, { base: dirRel, ig: ignore({ ignorecase: false }).add(await (giEarly ?? giRead())) }]
    : parentLevels;
  for (const [i, name] of names.entries()) {
    const st = stats[i]!;
    const rel = dirRel ? `${dirRel}/${name}` : name;
    const abs = join(dirAbs, name);
    if (isIgnored(rel, st.isDirectory(), levels, forced)) continue;
    if (st.isDirectory()) {
      out.push({ rel, abs, type: 'dir', mode: st.mode & 0o7777, size: 0, mtimeMs: st.mtimeMs, ino: st.ino });
      await walk(root, realRoot, rel, levels, forced, out);
    } else if (st.isFile()) {
      out.push({ rel, abs, type: 'file', mode: st.mode & 0o7777, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
    } else if (st.isSymbolicLink()) {
      const linkTarget = await io(() => readlink(abs), abs);
      await checkLink(rel, abs, linkTarget, realRoot);
      out.push({ rel, abs, type: 'symlink', mode: st.mode & 0o7777, size: 0, linkTarget, mtimeMs: st.mtimeMs, ino: st.ino });
    }
    // sockets, fifos and devices are skipped: they have no content to ship and cannot be recreated remotely.
  }
}

/** gitignore semantics: the last rule that matches decides; a `!rule` matching re-includes. */
function isIgnored(rel: string, isDir: boolean, levels: Level[], forced: Ignore): boolean {
  // a trailing slash lets `build/`-style (directory-only) patterns match directories and only them
  const probe = (p: string) => (isDir ? `${p}/` : p);
  let ignored = false;
  for (const { base, ig } of levels) {
    const r = ig.test(probe(base ? rel.slice(base.length + 1) : rel));
    if (r.ignored) ignored = true;
    else if (r.unignored) ignored = false;
  }
  const r = forced.test(probe(rel));
  return r.ignored ? true : r.unignored ? false : ignored;
}

/**
 * A shipped symlink must still point at something inside the bundle once extracted elsewhere. Checked
 * lexically (absolute or `..`-escaping text) and, when the target exists, on disk (a chain like `a -> .`,
 * `b -> a/../x` looks internal as text but resolves outside).
 */
async function checkLink(rel: string, abs: string, target: string, realRoot: string): Promise<void> {
  const hint = 'Replace the symlink with a copy of what it points to, or exclude it (exclude: [\'' + rel + '\']).';
  // BAD_INPUT (exit 2), not BUNDLE: the link is the user's to fix, and nothing was packed or sent (issue 14)
  if (isAbsolute(target)) {
    throw new PilotError('BAD_INPUT', `symlink ${rel} -> ${target} is absolute; it would dangle on the cluster`, { hint });
  }
  const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw new PilotError('BAD_INPUT', `symlink ${rel} -> ${target} points outside the bundled folder`, { hint });
  }
  const real = await realpath(abs).catch(() => undefined); // dangling: nothing more to check
  if (real !== undefined && real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw new PilotError('BAD_INPUT', `symlink ${rel} -> ${target} resolves to ${real}, outside the bundled folder`, { hint });
  }
}

/** Filesystem failures during the walk become BUNDLE errors that name the path. */
async function io<T>(fn: () => Promise<T>, path: string): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new PilotError('BUNDLE', `cannot read ${path} (${code})`, {
      cause,
      hint: code === 'EACCES' ? 'Fix its permissions or exclude it.' : 'Exclude it, or retry if the tree was changing.',
    });
  }
}
