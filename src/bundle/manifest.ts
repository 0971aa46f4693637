/**
 * Which files differ between two bundles. Packing writes `<sha>.files.json` next to `<sha>.tar.gz`: a digest of
 * each file's tar entry (header and content, so a changed exec bit or link text counts too). Comparing two of
 * them names the files changed, added or removed, without unpacking either bundle.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/files.js';

/** Archive path (`src/train.py`, `lib/mylib/x.py`) → digest of its entry. */
export type Manifest = Record<string, string>;

function manifestPath(outDir: string, sha256: string): string {
  return join(outDir, `${sha256}.files.json`);
}

export async function writeManifest(outDir: string, sha256: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(manifestPath(outDir, sha256), JSON.stringify(manifest) + '\n');
}

/** The manifest of a bundle packed here, or undefined (packed elsewhere, by an older pilot, or cleaned away). */
export async function readManifest(outDir: string, sha256: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(manifestPath(outDir, sha256), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** The archive paths whose content differs, sorted: changed, added or removed. */
export function changedPaths(before: Manifest, after: Manifest): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}
