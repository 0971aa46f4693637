/**
 * `import()` of a module chosen at run time: a user's filter, logic or selector module, a compiled template.
 * The CLI runs as ONE script compiled with V8's code cache (bin/pilot.js, src/cli/code-cache.ts), and on node 20
 * `import()` inside such a script needs an experimental flag; its loader, an ES module, lends its own
 * `import()` here instead. The SDK, plain ES modules, uses its own.
 */
import { pathToFileURL } from 'node:url';

/** Where the CLI's loader puts its `import()`. */
export const LENT_IMPORT = Symbol.for('hpc-pilot.import');

/** The module at `path` (a file path), imported as an ES module (a CommonJS one's exports are `default`). */
export function importFile(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  const lent = (globalThis as { [LENT_IMPORT]?: (url: string) => Promise<Record<string, unknown>> })[LENT_IMPORT];
  return lent ? lent(url) : import(url) as Promise<Record<string, unknown>>;
}
