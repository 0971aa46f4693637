/**
 * The status command's `expect` sections: whether each checked task left its expected files (model/expected.ts
 * decides which tasks and patterns). The patterns are the user's text, so they are never pasted into the
 * script: each travels as ONE quoted word (util/quote.ts) to the fixed function `x`, which only lets the shell
 * match it against file names (`"$dir"/$pattern` with IFS empty: pathname expansion, no word splitting, and no
 * `$`, backquote or command substitution inside the value is ever evaluated). Nothing of the user's comes
 * back: the answer is the key and the numbers of the patterns that matched nothing.
 */
import { PilotError } from '../../model/errors.js';
import { quote } from '../../util/quote.js';

/** One task to check: its key (`<array job id>_<array index>`) and job-folder-relative patterns. */
export interface ExpectTask {
  jobDir: string;
  key: string;
  paths: string[];
}

const KEY_RE = /^\d+_\d+$/;

/*
 * `x DIR KEY PATTERN…` prints `KEY` and the 0-based numbers of the patterns that match no file (a glob that
 * matches nothing stays itself, and then exists only if such a file does). It runs in a subshell so IFS and
 * the loop variables never leak into the rest of the command.
 */
const EXPECT_FN =
  `x() { ( d=$1; k=$2; shift 2; IFS=; i=0; m=; for p in "$@"; do f=; ` +
  `for g in "$d"/$p; do if [ -e "$g" ] || [ -L "$g" ]; then f=1; break; fi; done; ` +
  `[ -n "$f" ] || m="$m $i"; i=$((i+1)); done; echo "$k$m" ); }`;

/** The shell steps that check the files (after the state queries). */
export function expectSteps(tasks: readonly ExpectTask[]): string[] {
  const wanted = tasks.filter((t) => t.paths.length);
  if (!wanted.length) return [];
  for (const t of wanted) {
    if (!KEY_RE.test(t.key)) throw new PilotError('INTERNAL', `expect keys must be <job id>_<index>, got ${t.key}`);
  }
  return [EXPECT_FN, ...wanted.map((t) => `s expect x ${quote(t.jobDir)} ${t.key} ${t.paths.map(quote).join(' ')}`)];
}

/** Complete `expect` sections → key → numbers of the missing patterns (empty: all there). */
export function parseExpect(sections: readonly { lines: readonly string[] }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const section of sections) {
    for (const line of section.lines) {
      const m = /^(\d+_\d+)((?: \d+)*)$/.exec(line.trim());
      if (m) out.set(m[1]!, m[2]!.trim() ? m[2]!.trim().split(' ').map(Number) : []);
    }
  }
  return out;
}
