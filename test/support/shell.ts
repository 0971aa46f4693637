// What a command built by shScript (src/util/quote.ts) runs: tests read and check the script itself.
const ENCODED = /^sh -c 's=\$\(printf %b "\$1\."\); shift; eval "\$\{s%\.\}"' sh (.*)$/s;

/** The sh script of a shScript command (its inverse); any other command as it is. */
export function scriptOf(cmd: string): string {
  const encoded = ENCODED.exec(cmd);
  // the word holds no backslash but those of its escapes: `\n` and `\0ddd` (the script's own backslashes are `\0134`)
  if (encoded) return unquoteWord(encoded[1]!).replace(/\\(n|0[0-7]{3})/g, (_, e: string) => (e === 'n' ? '\n' : String.fromCharCode(parseInt(e.slice(1), 8))));
  return cmd.startsWith('sh -c ') ? unquoteWord(cmd.slice('sh -c '.length)) : cmd;
}

/** A word as quote() writes it, read back. */
function unquoteWord(word: string): string {
  return word.startsWith("'") && word.endsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word;
}
