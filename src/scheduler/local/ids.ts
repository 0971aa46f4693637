/**
 * Local job ids: numeric, unique per root, safe across concurrent `pilot` processes WITHOUT a lock (so a
 * process killed at the wrong moment can never leave a stale lock that blocks every later launch).
 *
 * A submission claims a block [n, n+size) by hard-linking a file that holds `size` to `ids/<n>`. link()
 * fails with EEXIST if the name exists, and the claim appears with its content already in place, so exactly
 * one process wins each start and losers can read how far to skip. Every claim starts at 1 or at the end of
 * another claim; by induction on the smallest overlapping start, two such blocks can never overlap.
 * `ids/next` is only a hint (the end of some claim) that saves walking from 1.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

async function readNumber(file: string, fallback: number): Promise<number> {
  try {
    const n = Number.parseInt(await readFile(file, 'utf8'), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

/** Claims `size` consecutive ids and returns the first. */
export async function allocateIds(root: string, size = 1): Promise<number> {
  const dir = join(root, 'ids');
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.claim-${process.pid}-${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, `${size}\n`);
  try {
    let n = await readNumber(join(dir, 'next'), 1);
    for (;;) {
      try {
        await link(tmp, join(dir, String(n)));
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
        // a claim that cannot be read is skipped one id at a time: slower, never overlapping
        n += await readNumber(join(dir, String(n)), 1);
        continue;
      }
      const hint = join(dir, `.next-${process.pid}-${randomBytes(6).toString('hex')}`);
      await writeFile(hint, `${n + size}\n`);
      await rename(hint, join(dir, 'next'));
      return n;
    }
  } finally {
    await rm(tmp, { force: true });
  }
}
