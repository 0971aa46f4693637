import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** `$PILOT_HOME`, or ~/.pilot. */
export function defaultHome(): string {
  return process.env.PILOT_HOME || join(homedir(), '.pilot');
}

/** Expands a leading ~ and resolves relative paths against `base`. */
export function expandPath(path: string, base = process.cwd()): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}
