/**
 * Pure builders for the few remote commands a submission needs, and parsers for their output. A
 * scheduleJobs call runs at most two commands whatever N is: a probe (home folder, bundle present?,
 * MaxArraySize when not cached) and the submit (unpack the bundle if it was just uploaded, write the job's
 * files from stdin, sbatch every array).
 */
import { compressRanges } from '../core/ranges.js';
import { PilotError } from '../errors.js';
import { arraySpec } from './render.js';
import { quote, shScript } from './quote.js';

/** A remote path as a shell expression: `~/x` → "$HOME"/x (quoted), anything else quoted as is. */
export function remotePathExpr(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${quote(path.slice(2))}`;
  return quote(path);
}

export function probeCommand(remoteDir: string, bundleSha: string, askMaxArraySize: boolean): string {
  const root = remotePathExpr(remoteDir);
  return shScript([
    `R=${root}`,
    `mkdir -p "$R/bundles" "$R/jobs" || exit 3`,
    `printf 'home=%s\\nroot=%s\\n' "$HOME" "$(cd "$R" && pwd -P)"`,
    `if [ -f "$R/bundles/"${quote(bundleSha)}/.pilot-complete ]; then echo bundle=present; else echo bundle=missing; fi`,
    ...(askMaxArraySize ? [`echo "maxArraySize=$(scontrol show config 2>/dev/null | sed -n 's/^MaxArraySize *= *//p')"`] : []),
  ].join('; '));
}

export interface ProbeResult {
  home: string;
  root: string;
  bundlePresent: boolean;
  maxArraySize?: number;
}

export function parseProbe(stdout: string): ProbeResult {
  const kv = Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => {
    const i = l.indexOf('=');
    return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
  }));
  if (!kv.home || !kv.root) throw new PilotError('REMOTE', `unexpected answer from the cluster: ${JSON.stringify(stdout.slice(0, 300))}`, { hint: 'a login banner or shell rc file that prints to stdout confuses pilot; make it quiet for non-interactive shells' });
  const max = Number(kv.maxArraySize);
  return { home: kv.home, root: kv.root, bundlePresent: kv.bundle === 'present', maxArraySize: Number.isFinite(max) && max > 0 ? max : undefined };
}

export interface PlannedArray {
  offset: number;
  /** `--array` value, throttle included. */
  spec: string;
}

/**
 * Splits task numbers into arrays whose indices stay within the cluster's limit: array k holds tasks
 * k*chunk+1 … (k+1)*chunk as indices 1 … chunk, with offset k*chunk. The user still sees tasks 1..N.
 */
export function planArrays(taskNumbers: readonly number[], chunkSize: number, maxConcurrent?: number): PlannedArray[] {
  const byChunk = new Map<number, number[]>();
  for (const t of [...taskNumbers].sort((a, b) => a - b)) {
    const k = Math.floor((t - 1) / chunkSize);
    (byChunk.get(k) ?? byChunk.set(k, []).get(k)!).push(t - k * chunkSize);
  }
  return [...byChunk.entries()].map(([k, local]) => ({ offset: k * chunkSize, spec: arraySpec(compressRanges(local), maxConcurrent) }));
}

export interface SubmitCommandInput {
  /** Absolute remote root (from the probe). */
  root: string;
  /** Absolute job folder. */
  jobDir: string;
  bundleSha: string;
  /** Remote path of a just-uploaded tarball to unpack into bundles/<sha>. */
  uploadedTarball?: string;
  /** true when stdin carries a tar of the job's files (first submission); false for restarts. */
  withJobFiles: boolean;
  arrays: PlannedArray[];
  /** Script file name inside jobDir. */
  script: string;
  /** Attempt number, passed to the script (PILOT_ATTEMPT). */
  attempt: number;
}

/**
 * One shell command line that (1) unpacks the bundle once, atomically (temp folder + rename; a concurrent
 * launch of the same bundle is harmless), (2) writes the job's files from stdin, (3) submits every array,
 * chaining split arrays with afterany so that together they never run more than K tasks at a time.
 * If any sbatch fails, the arrays already submitted are cancelled and sbatch's message is printed.
 */
export function submitCommand(input: SubmitCommandInput): string {
  const q = quote;
  const lines: string[] = [`B=${q(`${input.root}/bundles/${input.bundleSha}`)}`, `J=${q(input.jobDir)}`];
  if (input.uploadedTarball) {
    const tgz = q(input.uploadedTarball);
    lines.push(
      `if [ ! -f "$B/.pilot-complete" ]; then T="$B.tmp.$$"; rm -rf "$T"; mkdir -p "$T" && tar -xzf ${tgz} -C "$T" && touch "$T/.pilot-complete" && { mv -T "$T" "$B" 2>/dev/null || [ -f "$B/.pilot-complete" ]; } || { echo "@@error unpack failed" ; rm -rf "$T" ${tgz}; exit 4; }; rm -rf "$T"; fi`,
      `rm -f ${tgz}`,
    );
  }
  if (input.withJobFiles) lines.push(`mkdir -p "$J/logs" "$J/outputs" && tar -xf - -C "$J" || { echo "@@error cannot write job files"; exit 5; }`);
  lines.push(`cd "$J" || exit 6`, 'ids=""');
  input.arrays.forEach((a, i) => {
    const dep = i > 0 ? ` --dependency=afterany:"$prev"` : '';
    lines.push(
      `if out=$(sbatch --parsable --array=${q(a.spec)}${dep} ${q(input.script)} ${a.offset} ${input.attempt} 2>"$J/.sbatch.err"); then prev=\${out%%;*}; ids="$ids $prev"; echo "@@submitted $prev ${a.offset} ${q(a.spec)}";` +
      ` else echo "@@error sbatch"; cat "$J/.sbatch.err"; [ -n "$ids" ] && scancel $ids; ${input.withJobFiles ? 'cd / && rm -rf "$J"; ' : ''}exit 7; fi`,
    );
  });
  return shScript(lines.join('\n'));
}

export interface SubmitResult {
  arrays: { slurmJobId: string; offset: number; arraySpec: string }[];
}

export function parseSubmitOutput(code: number, stdout: string, stderr: string): SubmitResult {
  const errAt = stdout.indexOf('@@error');
  if (code !== 0 || errAt >= 0) {
    const body = errAt >= 0 ? stdout.slice(errAt).split('\n') : [];
    const what = body[0]?.replace('@@error ', '') ?? 'submit';
    const message = [body.slice(1).join('\n').trim(), stderr.trim()].filter(Boolean).join('\n') || `exit code ${code}`;
    if (what === 'sbatch') {
      throw new PilotError('SUBMIT', `sbatch refused the job: ${message}`, { hint: 'check partition, account, time and the other resources against `sinfo` and your site\'s limits; nothing was recorded' });
    }
    throw new PilotError('REMOTE', `submission failed (${what}): ${message}`, { hint: 'is the remote disk full or remoteDir not writable?' });
  }
  const arrays = [...stdout.matchAll(/^@@submitted (\d+) (\d+) (\S+)$/gm)].map((m) => ({ slurmJobId: m[1]!, offset: Number(m[2]), arraySpec: m[3]! }));
  if (!arrays.length) throw new PilotError('REMOTE', `sbatch printed no job id: ${stdout}${stderr}`);
  return { arrays };
}
