/**
 * Reading the ends of many task logs in ONE remote command (what `pilot why` needs): for each file, its size and
 * its last bytes, base64-encoded so no byte a task wrote can look like a marker or end a line early. Only regular
 * files are read (a FIFO would block the command, a link may lead anywhere), each under `timeout` when the
 * cluster has it, and at most `maxBytes` of each: the reply stays bounded whatever the logs hold.
 */
import { PilotError } from '../model/errors.js';
import { quote, shScript } from '../util/quote.js';

/** One log to read: its path relative to the job folder, `logs/<array job id>_<index>.<out|err>`. */
const LOG_RE = /^logs\/\d+_\d+\.(out|err)$/;
/**
 * Or a task's result file (`pilot results`): `outputs/<index>/<attempt>/<plain parts>` (model/results.ts
 * checks the parts); no `..`, no blank, no quote: the path is a shell word as it is.
 */
const OUTPUT_RE = /^outputs\/\d+\/\d+(\/[A-Za-z0-9._+-]+)+$/;
const readable = (f: string) => LOG_RE.test(f) || (OUTPUT_RE.test(f) && !f.split('/').some((p) => p === '..' || p === '.'));
const MARK = '@@pilot:log ';

/** What came back for one file: its size on the cluster and its last bytes (undefined: absent, or not a file). */
export interface LogTail {
  size: number;
  bytes: Buffer;
}

/** Files named on the command line; more are read from stdin (a command line has a length limit, stdin none). */
export const INLINE_FILES = 200;

function check(files: readonly string[], maxBytes: number): void {
  const bad = files.filter((f) => !readable(f));
  if (bad.length || !Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new PilotError('INTERNAL', `log tails: bad request [${bad.slice(0, 20).join(', ')}] ${maxBytes}`);
}

function script(jobDir: string, loop: string, maxBytes: number): string {
  return shScript([
    'T5=; command -v timeout >/dev/null 2>&1 && T5="timeout 10"',
    `cd ${quote(jobDir)} || exit 3`,
    `${loop}; do ` +
      `if [ -f "$f" ] && [ ! -L "$f" ]; then echo "${MARK}$f $(wc -c < "$f" | tr -d ' ')"; $T5 tail -c ${maxBytes} -- "$f" 2>/dev/null </dev/null | base64; ` +
      `else echo "${MARK}$f -"; fi; done`,
    `echo "${MARK}end"`,
  ].join('; '));
}

export function logTailsCommand(jobDir: string, files: readonly string[], maxBytes: number): string {
  check(files, maxBytes);
  return script(jobDir, `for f in ${files.join(' ')}`, maxBytes);
}

/**
 * The command reading `files`, with the list on the command line when short and on stdin (one path a line)
 * when long: `pilot results` of 10 000 tasks stays ONE command, below any command-line limit.
 */
export function logTailsRequest(jobDir: string, files: readonly string[], maxBytes: number): { command: string; stdin?: string } {
  if (files.length <= INLINE_FILES) return { command: logTailsCommand(jobDir, files, maxBytes) };
  check(files, maxBytes);
  return { command: script(jobDir, 'while IFS= read -r f', maxBytes), stdin: files.join('\n') + '\n' };
}

/** The command's stdout → file → its tail; files the command did not reach (cut off) are left out. */
export function parseLogTails(stdout: string): Map<string, LogTail | undefined> {
  const out = new Map<string, LogTail | undefined>();
  let file: string | undefined;
  let size = 0;
  let b64 = '';
  const flush = () => {
    if (file !== undefined) out.set(file, size < 0 ? undefined : { size, bytes: Buffer.from(b64, 'base64') });
  };
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      flush();
      file = undefined;
      const rest = line.slice(MARK.length);
      if (rest === 'end') {
        break;
      }
      const m = /^(\S+) (\d+|-)$/.exec(rest);
      if (m && readable(m[1]!)) {
        file = m[1]!;
        size = m[2] === '-' ? -1 : Number(m[2]);
        b64 = '';
      }
    } else if (file !== undefined) {
      b64 += line.trim();
    }
  }
  // without the end marker the last file may be cut: it was never flushed, only the ones before it are trusted
  return out;
}
