/**
 * The local cluster's log tails for `pilot why` (regular files only, bounded, as log-tails.ts on a cluster), and
 * its expected-files check: the same patterns as on Slurm (model/expected.ts), matched here
 * segment by segment as sh would match them, never handed to a shell.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { segmentRegExp } from '../../model/expected.js';
import { readLocalFile } from '../../transport/chunked-read.js';
import type { LogTail } from '../log-tails.js';

const GLOB_CHARS = /[*?[]/;

/** Whether `rel` (job-folder-relative, possibly a glob) names at least one existing entry under `dir`. */
export function globMatches(dir: string, rel: string): boolean {
  const segments = rel.split('/').filter((s) => s !== '' && s !== '.');
  const walk = (base: string, i: number): boolean => {
    if (i === segments.length) return true;
    const seg = segments[i]!;
    if (!GLOB_CHARS.test(seg)) {
      const next = join(base, seg);
      try {
        const st = lstatSync(next);
        return i === segments.length - 1 || (st.isDirectory() && walk(next, i + 1));
      } catch {
        return false;
      }
    }
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      return false;
    }
    const re = segmentRegExp(seg);
    return names.some((n) => re.test(n) && (i === segments.length - 1 || walk(join(base, n), i + 1)));
  };
  return walk(dir, 0);
}

/** The numbers of the patterns in `paths` that match nothing under `jobDir`. */
export function missingLocal(jobDir: string, paths: readonly string[]): number[] {
  return paths.flatMap((p, i) => (globMatches(jobDir, p) ? [] : [i]));
}

/** The last `maxBytes` of each file (relative to `jobDir`); undefined when absent or not a regular file. */
export async function readLogTailsLocal(jobDir: string, files: readonly string[], maxBytes: number): Promise<Map<string, LogTail | undefined>> {
  const out = new Map<string, LogTail | undefined>();
  for (const f of files) {
    const path = join(jobDir, f);
    try {
      const size = (await lstat(path)).size;
      const parts: Buffer[] = [];
      await readLocalFile(path, Math.max(0, size - maxBytes), (c) => { parts.push(c); });
      out.set(f, { size, bytes: Buffer.concat(parts) });
    } catch {
      out.set(f, undefined);
    }
  }
  return out;
}
