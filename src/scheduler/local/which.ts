/**
 * The interpreter check of the `local` cluster: the PATH lookup bash will do when the task starts, done here
 * without starting a shell, against the environment the tasks inherit (this process's).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { interpreterToFind, interpreterVerdict, type Warning } from '../../model/checks.js';
import type { NormalizedJobInfo } from '../../model/job.js';

function executableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where `command` resolves on `path` (a command holding a slash is taken as is), or null. */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | null {
  const candidates = command.includes('/') ? [command] : path.split(delimiter).map((dir) => join(dir || '.', command));
  return candidates.find(executableFile) ?? null;
}

/**
 * Looks the job's interpreter up on this machine: throws when it is missing (see interpreterVerdict), returns
 * where it was found (undefined: nothing to look up) and what is worth a warning.
 */
export function checkInterpreterHere(info: NormalizedJobInfo): { path: string | null | undefined; warnings: Warning[] } {
  const word = interpreterToFind(info);
  const path = word === undefined ? undefined : findOnPath(word);
  const warning = interpreterVerdict(info, 'this machine', path);
  return { path, warnings: warning ? [warning] : [] };
}
