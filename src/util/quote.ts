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
 * Runs a POSIX sh script whatever the remote login shell is (sshd runs every command with it: `$SHELL -c
 * CMD`): the login shell only has to parse single-quoted words. bash, zsh and dash take any text in one; csh
 * and tcsh refuse a newline in it ("Unmatched '") and expand `!` even there ("Event not found"), and fish
 * reads `\\` and `\'` in it. So a script holding a newline, `!`, `'` or `\\` travels as a word of none of
 * them: those four written as printf %b escapes (`\n`, `\0041`…), turned back into the script by sh's own
 * builtin printf (one subshell, no process) and run by eval, with no positional parameters, as `sh -c` would.
 */
export function shScript(script: string): string {
  if (!/[\n!'\\]/.test(script)) return `sh -c ${quote(script)}`;
  const word = script.replace(/[\n!'\\]/g, (c) => (c === '\n' ? '\\n' : `\\0${c.charCodeAt(0).toString(8).padStart(3, '0')}`));
  return `sh -c 's=$(printf %b "$1."); shift; eval "\${s%.}"' sh ${quote(word)}`;
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
