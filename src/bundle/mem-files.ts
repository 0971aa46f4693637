/**
 * The few small files of a submission (a job's script and args files) as they travel to the cluster: in the
 * submit command itself, or as a tiny tar on its stdin (mem-tar.ts, which loads node-tar: only then).
 */
import { PilotError } from '../model/errors.js';

export interface MemFile {
  name: string;
  data: Buffer | string;
  mode?: number;
}

/** Throws unless `name` is a plain file name (no folder, no `..` alone, < 100 bytes): all such files may be. */
export function checkMemName(name: string): void {
  if (!/^[A-Za-z0-9._-]{1,99}$/.test(name) || /^\.\.?$/.test(name)) throw new PilotError('INTERNAL', `memoryTar: unsupported name ${name}`);
}
