/**
 * Removing what jobs leave on a cluster, as pure pieces: which paths pilot may ever delete, the remote command
 * that deletes one job folder, and the ONE remote command per cluster that collects garbage (`pilot gc`).
 *
 * Deletions are exact paths under the cluster's root: a job folder named by a record, or an entry that the
 * remote shell itself found in `jobs/` or `bundles/` and whose name has pilot's shape. No path is ever built
 * by pasting a job name into a pattern, so no name, however odd, can widen what is deleted.
 */
import { posix } from 'node:path';
import { PilotError } from '../model/errors.js';
import { remotePathExpr, quote, shScript } from '../util/quote.js';
import type { GcEntry } from './backend.js';

/** A job folder as launches make it: `<job name>-<8 hex>`. */
export const JOB_FOLDER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{8}$/;
/** A bundle folder: its content hash. */
export const BUNDLE_RE = /^[0-9a-f]{64}$/;
/** How a rendered job.sh names its bundle (`…/bundles/"<sha>"` or `…/bundles/<sha>`). */
export const BUNDLE_REF_RE = /bundles\/"?([0-9a-f]{64})/g;
/** Upload and unpack leftovers of launches that died, whatever --older-than says, are left alone for a day. */
export const LEFTOVER_MIN_AGE_MINUTES = 24 * 60;

/**
 * Refuses a job folder that is not `<root>/jobs/<name>-<8 hex>` (absolute, no `.` or `..`): a record edited
 * by hand must never turn `pilot rm --remote` into the deletion of something else.
 */
export function checkJobDir(jobDir: string, where: string): void {
  const parts = jobDir.split('/');
  const ok = jobDir.startsWith('/') && posix.normalize(jobDir) === jobDir && !parts.includes('..')
    && parts.at(-2) === 'jobs' && JOB_FOLDER_RE.test(parts.at(-1)!);
  if (!ok) {
    throw new PilotError('DAMAGED', `the job folder ${JSON.stringify(jobDir)} on ${where} is not one pilot made (<root>/jobs/<name>-<8 hex>): refusing to delete it`, {
      hint: 'remove it by hand if you are sure, then `pilot rm NAME` without --remote',
    });
  }
}

/** Deletes one job folder (prints `removed` or `absent`). */
export function removeJobCommand(jobDir: string, where: string): string {
  checkJobDir(jobDir, where);
  return shScript(`J=${quote(jobDir)}; if [ -d "$J" ]; then rm -rf -- "$J" && echo removed; else echo absent; fi`);
}

export interface GcCommandInput {
  /** the cluster's remoteDir (`~/pilot`) */
  remoteDir: string;
  /** folders changed more recently than this stay */
  olderThanMinutes: number;
  dryRun: boolean;
  /** prints the working folders of the user's unfinished jobs, one a line (the dialect's squeue) */
  activeWorkDirs: string;
}

/**
 * The garbage collection of one cluster, in one command. Its stdin is the keep list (`jobs/<folder>` and
 * `bundles/<sha>` lines: what local records refer to). A job folder goes when it is not kept, not the working
 * folder of an unfinished job (asked of the scheduler: jobs launched from other machines count too) and older
 * than the limit; a bundle goes when no record and no remaining job folder's job.sh names it, and it is older
 * than the limit. When the scheduler cannot say which jobs run, nothing is deleted.
 * Prints `@@gc-root <root>` and one `@@gc <kind> <kB> <path relative to root>` per entry (removed, or with
 * dryRun, that would be).
 */
export function gcCommand(input: GcCommandInput): string {
  const age = Math.max(0, Math.floor(input.olderThanMinutes));
  return shScript([
    'T=; command -v timeout >/dev/null 2>&1 && T="timeout 20"',
    `R=${remotePathExpr(input.remoteDir)}`,
    '[ -d "$R" ] || exit 0',
    'cd "$R" || exit 3',
    'R=$(pwd -P); echo "@@gc-root $R"',
    'K=$(mktemp "${TMPDIR:-/tmp}/pilot-gc.XXXXXX") || exit 3',
    'trap \'rm -f "$K" "$K.w"\' EXIT',
    'cat > "$K"',
    `$T ${input.activeWorkDirs} > "$K.w" || { echo "@@gc-error the scheduler did not say which jobs are unfinished: nothing was removed"; exit 4; }`,
    'young() { [ -n "$(find "$1" -prune -mmin -"$2" 2>/dev/null)" ]; }',
    // bundles are read-only (folders too): writable folders first, or rm could not empty them
    `drop() { echo "@@gc $1 $(du -sk "$2" 2>/dev/null | cut -f1) $2"; ${input.dryRun ? ':' : 'find "$2" -type d ! -perm -u+w -exec chmod u+w {} + 2>/dev/null; rm -rf -- "$2"'}; }`,
    'refs() { cat "$1/job.sh" "$1/.pilot-bundles" 2>/dev/null | sed -n \'s|.*bundles/"\\{0,1\\}\\([0-9a-f]\\{64\\}\\).*|bundles/\\1|p\' >> "$K"; }',
    'hex64() { case $1 in *[!0-9a-f]*) return 1 ;; esac; [ ${#1} -eq 64 ]; }',
    // the folders this loop looks at, `/`-separated (a name has none): those made while it runs are told apart
    'seen=/',
    'for d in jobs/*; do',
    '  seen="$seen${d#jobs/}/"',
    '  [ -d "$d" ] && [ ! -L "$d" ] || continue',
    '  case ${d#jobs/} in *[!A-Za-z0-9._-]* | [!A-Za-z0-9]*) continue ;; *-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;; *) continue ;; esac',
    `  if grep -qxF "$d" "$K" || grep -qxF "$R/$d" "$K.w" || young "$d" ${age}; then`,
    // a job folder that stays keeps the bundle its script runs from (and those its attempts ran: .pilot-bundles)
    '    refs "$d"',
    '  else drop job "$d"; fi',
    'done',
    // a launch that reused an old bundle while the loop above ran made a folder that loop did not see: that
    // bundle stays (the launch names it in the folder's .pilot-bundles first thing; it touches the bundle only
    // after its reply, off its path)
    'for d in jobs/*; do',
    '  case $seen in */"${d#jobs/}"/*) continue ;; esac',
    '  [ -d "$d" ] && [ ! -L "$d" ] || continue',
    '  refs "$d"',
    'done',
    'for d in bundles/*; do',
    '  [ -e "$d" ] && [ ! -L "$d" ] || continue',
    '  b=${d#bundles/}; h=${b%%.*}',
    '  hex64 "$h" || continue',
    '  case ${b#"$h"} in',
    `    "") [ -d "$d" ] && { grep -qxF "$d" "$K" || young "$d" ${age} || drop bundle "$d"; } ;;`,
    `    .tmp.* | .*.tar.gz) case $b in *[!0-9a-z.]*) ;; *) young "$d" ${Math.max(age, LEFTOVER_MIN_AGE_MINUTES)} || drop leftover "$d" ;; esac ;;`,
    '  esac',
    'done',
  ].join('\n'));
}

/** The keep list gcCommand reads on stdin. */
export function keepList(jobFolders: readonly string[], bundles: readonly string[]): string {
  return [...jobFolders.map((f) => `jobs/${f}`), ...bundles.map((b) => `bundles/${b}`)].join('\n') + '\n';
}

/** Reads gcCommand's output; throws when the remote side refused (the scheduler did not answer). */
export function parseGc(code: number, stdout: string, stderr: string, where: string): GcEntry[] {
  const error = /^@@gc-error (.*)$/m.exec(stdout);
  if (error || code !== 0) {
    throw new PilotError('REMOTE', `gc on ${where}: ${error?.[1] ?? `the command failed (exit ${code}): ${(stderr || stdout).trim().slice(0, 500)}`}`, {
      hint: `try again when \`pilot test-ssh ${where}\` succeeds`,
    });
  }
  const root = /^@@gc-root (.*)$/m.exec(stdout)?.[1];
  return [...stdout.matchAll(/^@@gc (job|bundle|leftover) (\d*) (.+)$/gm)].map((m) => ({
    kind: m[1] as GcEntry['kind'],
    path: `${root}/${m[3]}`,
    bytes: Number(m[2] || 0) * 1024,
  }));
}
