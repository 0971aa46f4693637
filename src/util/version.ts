import { readFileSync } from 'node:fs';

let version: string | undefined;

/** The package's version, read once from package.json (shipped with the package): each launch renders it. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
