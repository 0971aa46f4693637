/**
 * Names node-tar will not write as they are on POSIX. node-tar reads `\` as a separator on every platform:
 * it refuses `a\..\b` for its `..` and strips a leading `\` as an absolute root. On POSIX `\` is an
 * ordinary character, and a job may well write `a\..\b`: such entries are extracted under a plain
 * placeholder name in the same folder, and renamed to their real name once the archive is written.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PilotError } from '../model/errors.js';

/** On Windows `\` does separate components: there node-tar's reading is the right one. */
const BACKSLASH_IS_A_CHARACTER = process.platform !== 'win32';

interface Placeholder { parent: string; placeholder: string; name: string; depth: number }

/** Moves `src` to `dst` like tar replaces entries: a folder onto a folder merges, anything else replaces. */
async function moveInto(src: string, dst: string): Promise<void> {
  const [s, d] = await Promise.all([lstat(src), lstat(dst).catch(() => undefined)]);
  if (d?.isDirectory()) {
    if (!s.isDirectory()) throw new PilotError('BUNDLE', `cannot place ${dst}: a folder of the same name is already there`, { hint: 'download into an empty folder' });
    // lstat said folder, not link: merging never walks through a link
    for (const child of await readdir(src)) await moveInto(join(src, child), join(dst, child));
    await rmdir(src);
    return;
  }
  if (d && s.isDirectory()) await unlink(dst);   // rename() cannot put a folder over a file
  await rename(src, dst);
}

export class OddNames {
  private readonly tag = randomBytes(4).toString('hex');
  /** `parent/name` → its placeholder; parent is itself written with placeholders */
  private readonly byKey = new Map<string, Placeholder>();

  /** The path node-tar should write `path` under: `path` itself unless a component holds a `\`. */
  placeholderPath(path: string): string {
    if (!BACKSLASH_IS_A_CHARACTER || !path.includes('\\')) return path;
    const out: string[] = [];
    for (const name of path.split('/')) {
      if (!name.includes('\\')) { out.push(name); continue; }
      const parent = out.join('/');
      let p = this.byKey.get(`${parent}/${name}`);
      if (!p) {
        p = { parent, placeholder: `.pilot-name-${this.tag}-${this.byKey.size}`, name, depth: out.length };
        this.byKey.set(`${parent}/${name}`, p);
      }
      out.push(p.placeholder);
    }
    return out.join('/');
  }

  /** The archive path behind a path written with placeholders (for messages). */
  original(path: string): string {
    if (!this.byKey.size) return path;
    const names = new Map([...this.byKey.values()].map((p) => [p.placeholder, p.name]));
    return path.split('/').map((c) => names.get(c) ?? c).join('/');
  }

  /** Gives every placeholder its real name, deepest first (their parents still carry placeholders then). */
  async finish(cwd: string, onSkip?: (path: string, reason: string) => void): Promise<void> {
    const all = [...this.byKey.values()].sort((a, b) => b.depth - a.depth);
    for (const p of all) {
      const from = join(cwd, p.parent, p.placeholder);
      try {
        await moveInto(from, join(cwd, p.parent, p.name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;   // never written: node-tar said why
        const path = this.original(p.parent ? `${p.parent}/${p.name}` : p.name);
        onSkip?.(path, `cannot be given its name (${(err as Error).message}); left as ${p.placeholder}`);
      }
    }
  }
}
