/**
 * The status command's `tails` sections: the end of some tasks' stderr files, read in the same round trip as
 * their states, so `status` can show a failure's last stderr line at no extra cost. Which files, and why those,
 * is model/last-error.ts's business; this is the shell side and its parsing.
 *
 * What comes back is text a task wrote: it travels base64-encoded (so no byte of it can look like a section
 * marker or end a line early) and is cleaned of control characters before anything shows it.
 */
import { PilotError } from '../../model/errors.js';
import { lastErrorLine, TAIL_WINDOW_BYTES } from '../../model/last-error.js';
import { quote } from '../../util/quote.js';

/** One job folder and the logs/<key>.err files to read in it (`key` = `<array job id>_<array index>`). */
export interface TailDir {
  jobDir: string;
  keys: string[];
}

const KEY_RE = /^\d+_\d+$/;

/*
 * `t DIR KEY…` prints each KEY on a line of its own, then the last bytes of DIR/logs/KEY.err in base64, but
 * only when that is a regular file: a FIFO would block the command, a link may lead to /dev/zero or to a file
 * that is none of the job's business. `timeout` bounds a file swapped for a FIFO between the test and the read.
 */
const TAIL_FN =
  `t() { d=$1; shift; for k in "$@"; do echo "$k"; f="$d/logs/$k.err"; ` +
  `if [ -f "$f" ] && [ ! -L "$f" ]; then $T5 tail -c ${TAIL_WINDOW_BYTES} -- "$f" 2>/dev/null | base64; fi; done; true; }`;

/** The shell steps that read the files (after the state queries, so a task seen final has written all of it). */
export function tailSteps(dirs: readonly TailDir[]): string[] {
  const wanted = dirs.filter((d) => d.keys.length);
  if (!wanted.length) return [];
  for (const d of wanted) {
    if (d.keys.some((k) => !KEY_RE.test(k))) throw new PilotError('INTERNAL', `tail keys must be <job id>_<index>, got [${d.keys.join(', ')}]`);
  }
  return [
    'T5=; command -v timeout >/dev/null 2>&1 && T5="timeout 5"',
    TAIL_FN,
    ...wanted.map((d) => `s tails t ${quote(d.jobDir)} ${d.keys.join(' ')}`),
  ];
}

/**
 * The lines of complete `tails` sections → key → the file's last line, cleaned and capped ('' for a file that
 * is empty, absent or not a regular file).
 */
export function parseTails(sections: readonly { lines: readonly string[] }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const section of sections) {
    let key: string | undefined;
    let b64 = '';
    const flush = () => {
      if (key === undefined) return;
      const bytes = Buffer.from(b64, 'base64');
      out.set(key, lastErrorLine(bytes, { cut: bytes.length >= TAIL_WINDOW_BYTES }));
    };
    for (const line of section.lines) {
      if (KEY_RE.test(line)) {
        flush();
        key = line;
        b64 = '';
      } else {
        b64 += line.trim();
      }
    }
    flush();
  }
  return out;
}
