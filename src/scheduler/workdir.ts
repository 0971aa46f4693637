/**
 * A job's working directory on the cluster or here (`<job dir>/work`, every task's cwd, $PILOT_WORK_DIR) and
 * what `pilot download` takes from a job folder. Shell text only, for any dialect and the local backend alike
 * (both run it with bash): one home for how work/ is made and told apart from what tasks wrote.
 */
import { WORK_DIR } from '../model/task-env.js';
import { quote } from '../util/quote.js';

/** In the job folder: made right before work/ is first filled; files in work/ newer than it were written by tasks. */
export const WORK_STAMP = '.pilot-work';

/**
 * Fills work/ with the bundle's sources, per submission (a `--repack` attempt runs its own code). Hard links
 * rather than a copy: free in space and nearly in time whatever the sources' size (measured on 2000 files +
 * 50 MB: 0.05 s and no space linked, 0.12 s and 50 MB copied, warm cache); rather than symlinks: programs see
 * plain files in a plain folder (`__file__`, `realpath`, `os.walk` stay inside work/). The links share the
 * bundle's read-only mode, so a task that writes into a shipped file fails (EACCES) instead of changing every
 * job's copy; deleting it and writing a new one is fine (that replaces the link in work/ only).
 *
 * Links are made only when the bundle is read-only to us (`[ -w ]` on its marker, a shell builtin: no `id -u`
 * process): root ignores file modes, and a bundle unpacked writable (by an old pilot) would be changed through
 * its links, so then (and where links cannot be made: another file system) the sources are copied instead,
 * keeping their times (`-p`: what tells them from task outputs). `-f` replaces the files of an earlier bundle.
 * Folders must be writable so tasks can create files anywhere in work/: GNU cp (8.21+) gives the folders it
 * makes the default mode with `--no-preserve=mode` (files stay links, their mode is the bundle's), so no
 * `find | chmod` runs; one folder is looked at (a glob and a test, builtins) in case a cp took the option but
 * kept the bundle's mode (then `find` opens them); a cp without the option (BSD, macOS) links as before and
 * `find` opens the folders; one that cannot link at all copies.
 * work/ is made here only when the caller did not make it (the submit command's first mkdir does). Needs
 * `$B` (the bundle folder) and `$J` (the job folder); runs `onFail`.
 */
export function workDirCommand(onFail: string): string {
  const opened = `{ for d in "$W"/*/; do break; done; [ -w "$d" ] || [ ! -e "$d" ]; }`;
  const open = 'find "$W" -type d ! -perm -u+w -exec chmod u+w {} +';
  const link = `cp -Rlf --no-preserve=mode "$B/src/." "$W/" 2>/dev/null && { ${opened} || ${open}; } || { cp -Rlf "$B/src/." "$W/" 2>/dev/null && ${open}; }`;
  return `W="$J/${WORK_DIR}"; { [ -d "$W" ] || mkdir -p "$W"; } && { [ -e "$J/${WORK_STAMP}" ] || : > "$J/${WORK_STAMP}"; } && ` +
    `{ [ ! -d "$B/src" ] || { [ ! -w "$B/.pilot-complete" ] && { ${link}; }; } || { cp -Rpf "$B/src/." "$W/" && ${open}; }; } || ` +
    `{ echo "@@error cannot make the working directory $W"; ${onFail}; exit 5; }`;
}

/** What a download takes, relative to the job folder. */
export interface DownloadSelection {
  /** files and folders taken whole (missing ones are passed over) */
  paths: string[];
  /** also what tasks wrote in work/ (files newer than WORK_STAMP: not the shipped sources) */
  work: boolean;
}

/**
 * Prints, NUL-separated, the files, links and folders of `selection` (run in the job folder; in work/ only
 * what tasks wrote, without its folders): what `tar --null --no-recursion -T -` then sends as one stream.
 * Paths come from pilot (logs/, outputs/<i>), never from the user.
 */
export function downloadListCommand(selection: DownloadSelection): string {
  const roots = selection.paths.map((p) => quote(p)).join(' ');
  const listed = roots ? `for p in ${roots}; do [ -e "$p" ] || [ -L "$p" ] || continue; find "$p" \\( -type f -o -type l -o -type d \\) -print0; done; ` : '';
  const work = selection.work ? `if [ -d ${WORK_DIR} ] && [ -e ${WORK_STAMP} ]; then find ${WORK_DIR} -newer ${WORK_STAMP} \\( -type f -o -type l \\) -print0; fi` : ':';
  return `{ ${listed}${work}; }`;
}
