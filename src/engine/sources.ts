/**
 * Have a job's sources changed since the bundle its next attempt would run was packed? They are packed again,
 * locally (what every launch does first: no connection), and the content hashes compared; the two bundles'
 * manifests name the files that differ. A restart warns with it, and `--repack` ships the new bundle.
 */
import { currentBundle } from '../model/attempts.js';
import type { Warning } from '../model/checks.js';
import type { JobRecord } from '../model/record.js';
import type { Bundle } from '../scheduler/backend.js';
import { bundleCacheDir, packSources, sourcePath } from './prepare.js';

export interface SourcesNow {
  /** the sources packed as they are now */
  bundle: Bundle;
  changed: boolean;
  /** the files that differ, as the user names them, when both manifests are at hand */
  changedFiles?: string[];
  /** what the checks of a bundle about to be shipped found (large files) */
  warnings: Warning[];
}

/** `check`: the new bundle may be shipped, so it passes the launch's checks (the program is in it). */
export async function sourcesNow(home: string, record: JobRecord, check: boolean): Promise<SourcesNow> {
  const dir = bundleCacheDir(home);
  const { bundle, warnings } = await packSources(record.info, dir, check);
  const before = currentBundle(record);
  if (bundle.sha256 === before) return { bundle, changed: false, warnings };
  const { changedPaths, readManifest } = await import('../bundle/manifest.js');
  const [old, now] = await Promise.all([readManifest(dir, before), readManifest(dir, bundle.sha256)]);
  return { bundle, changed: true, changedFiles: old && now ? changedPaths(old, now).map(sourcePath) : undefined, warnings };
}

/** `(2 files: train.py, lib/util/x.py)`: at most `shown` names. */
export function describeChanges(files: string[] | undefined, shown = 5): string {
  if (!files) return '';
  if (!files.length) return ' (only folders were added or removed)';
  const names = files.slice(0, shown).join(', ') + (files.length > shown ? ', …' : '');
  return ` (${files.length} file${files.length === 1 ? '' : 's'}: ${names})`;
}
