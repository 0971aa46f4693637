/**
 * The ONE function that turns an arbitrary string into a single POSIX shell word. Every value that reaches a
 * shell (paths, job names, sbatch options, env values) goes through it; templates never paste raw strings.
 *
 * Single quotes make everything literal in sh/bash (no $, `, \ or newline processing); the only character
 * that cannot appear inside them is the single quote itself, which is closed, escaped and reopened: ' → '\''.
 * Safe words (letters, digits and a few punctuation marks that no shell treats specially) are left bare
 * so rendered scripts stay readable.
 */
export function quote(word: string): string {
  if (word === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs a POSIX sh script whatever the remote login shell is (bash, zsh, tcsh, fish…): the login shell only
 * has to parse one single-quoted word.
 */
export function shScript(script: string): string {
  return `sh -c ${quote(script)}`;
}

/** A remote path as a shell expression: `~/x` → "$HOME"/x (quoted), anything else quoted as is. */
export function remotePathExpr(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${quote(path.slice(2))}`;
  return quote(path);
}

/** Quotes each word and joins them with spaces: one shell command line from an exact argv. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quote).join(' ');
}
