/**
 * Links from untrusted archives, created last and only where they stay inside the destination.
 *
 * Where a link leads can only be told physically, the way the kernel resolves it: in `outputs/`,
 * `v -> s/../../victim.txt` is harmless text (`victim.txt` inside) until `s -> .` exists, and then it is the
 * user's own `../victim.txt`. So regular files are written first, then the links one by one, each checked
 * against what is on disk at that moment, then all of them again until none changes (a link made later can
 * change where an earlier one leads).
 */
import { link, lstat, mkdir, readlink, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Linux follows at most 40 links in one lookup (ELOOP); a chain longer than that cannot be checked. */
const MAX_HOPS = 40;

export type Resolution =
  | { inside: true; parts: string[]; complete: boolean; hops: number }
  | { inside: false; why: string };

export interface DeferredLink {
  /** Archive path, `/`-separated, normalised, never absolute or with `..` (see unsafeEntryReason). */
  path: string;
  type: 'SymbolicLink' | 'Link';
  /** Symlink target (relative to the link's folder) or hard-link target (relative to the archive root). */
  target: string;
}

export type OnSkip = (path: string, reason: string) => void;

/**
 * Resolves `target` from the folder `from` (components below `root`, all real folders) as the kernel
 * would, following every link on disk. `root` must be a realpath. Leaving `root` at any step, even to
 * come back (`../dest/x`), counts as outside. Past the first missing component the rest is taken lexically
 * (it cannot be followed yet); `complete` says whether every component existed.
 */
export async function resolvePhysical(root: string, from: readonly string[], target: string): Promise<Resolution> {
  const cur = [...from];
  const pending = target.split('/');
  let hops = 0;
  let complete = true;
  while (pending.length) {
    const c = pending.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (!cur.length) return { inside: false, why: 'points outside the destination folder' };
      cur.pop();
      continue;
    }
    cur.push(c);
    if (!complete) continue;
    const abs = join(root, ...cur);
    // ENOENT, or ENOTDIR when a file is followed by more components: the kernel would stop here
    const st = await lstat(abs).catch(() => undefined);
    if (!st) { complete = false; continue; }
    if (!st.isSymbolicLink()) continue;
    if (++hops > MAX_HOPS) return { inside: false, why: `goes through more than ${MAX_HOPS} links (a loop?)` };
    const next = await readlink(abs);
    cur.pop();
    if (next.startsWith('/')) return { inside: false, why: `goes through ${cur.concat(c).join('/')} -> ${next}, an absolute path` };
    pending.unshift(...next.split('/'));
  }
  return { inside: true, parts: cur, complete, hops };
}

/** The physical folder for an archive folder path, made (folder by folder, like tar) where missing. */
async function physicalDir(root: string, parts: readonly string[]): Promise<string[] | string> {
  let cur: string[] = [];
  for (const c of parts) {
    const r = await resolvePhysical(root, cur, c);
    if (!r.inside) return `its folder ${parts.join('/')} ${r.why}`;
    const abs = join(root, ...r.parts);
    if (!r.complete) {
      // a plain missing name is made; a dangling link is not followed to make folders at its far end
      if (r.hops) return `its folder ${parts.join('/')} goes through a dangling link`;
      await mkdir(abs);
    } else if (!(await lstat(abs)).isDirectory()) {
      return `its folder ${parts.join('/')} is not a folder`;
    }
    cur = r.parts;
  }
  return cur;
}

interface Made { path: string; from: string[]; target: string }

/** Creates one link, or says why not. `made` maps the absolute place of each symlink made to its facts. */
async function createOne(root: string, l: DeferredLink, made: Map<string, Made>): Promise<string | undefined> {
  const parts = l.path.split('/').filter(Boolean);
  const name = parts.pop();
  if (!name) return 'empty path';
  if (l.target === '') return 'empty link target';
  const from = await physicalDir(root, parts);
  if (typeof from === 'string') return from;
  const at = join(root, ...from, name);
  const existing = await lstat(at).catch(() => undefined);
  if (existing?.isDirectory()) return 'a folder of the same name is already there';
  if (l.type === 'SymbolicLink') {
    if (l.target.startsWith('/')) return `link to absolute path ${l.target}`;
    const r = await resolvePhysical(root, from, l.target);
    if (!r.inside) return `link ${l.target} ${r.why}`;
    if (existing) await unlink(at);   // tar semantics: a later entry replaces an earlier one
    await symlink(l.target, at);
    made.set(at, { path: l.path, from, target: l.target });
    return undefined;
  }
  const r = await resolvePhysical(root, [], l.target);
  if (!r.inside) return `hard link to ${l.target} ${r.why}`;
  const src = join(root, ...r.parts);
  // the target itself must be a regular file: a hard link to a symlink would be a new, unchecked symlink
  const st = r.complete ? await lstat(src).catch(() => undefined) : undefined;
  if (!st?.isFile()) return `hard link target ${l.target} is not a file inside the destination folder`;
  if (src === at) return undefined;
  if (existing) await unlink(at);
  await link(src, at);
  made.delete(at);
  return undefined;
}

/**
 * Creates `links` in archive order below `root` (a realpath), skipping through `onSkip` every one that
 * leads outside it, now or once the links after it exist. Like tar, an entry replaces a file or link of the
 * same name; the later checks remove only links made here.
 */
export async function createLinks(root: string, links: readonly DeferredLink[], onSkip?: OnSkip): Promise<void> {
  const made = new Map<string, Made>();
  for (const l of links) {
    let reason: string | undefined;
    try {
      reason = await createOne(root, l, made);
    } catch (err) {
      reason = `cannot create the link: ${(err as Error).message}`;
    }
    if (reason) onSkip?.(l.path, reason);
  }
  // removing a link can change where others lead too (they may dangle into lexical `..`): repeat until stable
  for (let changed = true; changed;) {
    changed = false;
    for (const [at, m] of made) {
      const r = await resolvePhysical(root, m.from, m.target);
      if (r.inside) continue;
      await unlink(at).catch(() => undefined);
      made.delete(at);
      onSkip?.(m.path, `link ${m.target} ${r.why} (once the other links were made)`);
      changed = true;
    }
  }
}
