/**
 * Pure builders for the few remote commands a submission needs, and parsers for their output. A
 * scheduleJobs call runs at most two commands whatever N is: a probe (home folder, bundle present?,
 * MaxArraySize when not cached, the controller, where the interpreter is) and the submit (unpack the bundle
 * if it was just uploaded, write the job's files from stdin, sbatch every array). When the probe's facts are
 * cached, the submit command makes its checks itself (precheckLines) and the launch is one command.
 */
import { compressRanges } from '../../model/ranges.js';
import { combineDependencies } from '../../model/dependencies.js';
import { PilotError } from '../../model/errors.js';
import { arraySpec } from './directives.js';
import type { PlannedArray, Precheck, PrecheckOutcome, ProbeResult, SubmitCommandInput } from '../dialect.js';
import { BUNDLES_USED } from '../backend.js';
import { chunkOffset } from '../../model/attempts.js';
import { workDirCommand } from '../workdir.js';
import { WORK_DIR } from '../../model/task-env.js';
import type { ArraySubmission } from '../../model/record.js';
import type { TaskResources } from '../../model/resources.js';
import { quote, remotePathExpr, shScript } from '../../util/quote.js';

export { remotePathExpr };

export function probeCommand(remoteDir: string, bundleSha: string, askMaxArraySize: boolean, interpreter?: string): string {
  const root = remotePathExpr(remoteDir);
  // each process a login node starts costs a millisecond or more: no `$(…)` subshells, no grep
  return shScript([
    `R=${root}`,
    `mkdir -p "$R/bundles" "$R/jobs" || exit 3`,
    // in the shell sbatch will run from, whose environment the tasks inherit (sbatch's default --export=ALL);
    // from the login folder (before the cd below), printed by `command -v` itself
    ...(interpreter === undefined ? [] : [`printf interpreter=; command -v ${quote(interpreter)} 2>/dev/null || echo`]),
    // `cd -P` sets $PWD to the physical path, as `pwd -P` prints it (and R stays right for a relative remoteDir)
    `printf 'home=%s\\n' "$HOME"; cd -P "$R" >/dev/null 2>&1 && R=$PWD && printf 'root=%s\\n' "$R"`,
    // touched when reused: `pilot gc` removes only bundles nobody has launched with for a while
    `if [ -f "$R/bundles/"${quote(bundleSha)}/.pilot-complete ]; then touch -c "$R/bundles/"${quote(bundleSha)}; echo bundle=present; else echo bundle=missing; fi`,
    ...(askMaxArraySize ? [`echo "maxArraySize=$(scontrol show config 2>/dev/null | sed -n 's/^MaxArraySize *= *//p')"`] : []),
    // answers in milliseconds even when slurmctld is down, where sbatch would hang for ~10 s and then fail;
    // read by the shell (a pipe's reader is a subshell: it prints its own verdict)
    `scontrol ping 2>&1 | { up=0; while read -r l || [ -n "$l" ]; do case $l in *' is UP'*) up=1;; esac; done; echo "controller=$up"; }`,
  ].join('; '));
}

export function parseProbe(stdout: string): ProbeResult {
  const kv = Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => {
    const i = l.indexOf('=');
    return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
  }));
  if (!kv.home || !kv.root) throw new PilotError('REMOTE', `unexpected answer from the cluster: ${JSON.stringify(stdout.slice(0, 300))}`, { hint: 'a login banner or shell rc file that prints to stdout confuses pilot; make it quiet for non-interactive shells' });
  const max = Number(kv.maxArraySize);
  return {
    home: kv.home, root: kv.root, bundlePresent: kv.bundle === 'present', maxArraySize: Number.isFinite(max) && max > 0 ? max : undefined,
    controllerUp: Number(kv.controller) > 0, ...(kv.interpreter === undefined ? {} : { interpreter: kv.interpreter || null }),
  };
}

/**
 * Splits task numbers into arrays whose indices stay within the cluster's limit: array k holds tasks
 * k*chunk+1 … (k+1)*chunk as indices 1 … chunk, with offset k*chunk. The user still sees tasks 1..N.
 * With arrayBase 0 (`base`), array k holds tasks k*chunk … (k+1)*chunk-1 as indices 0 … chunk-1.
 */
export function planArrays(taskNumbers: readonly number[], chunkSize: number, maxConcurrent?: number, base: 0 | 1 = 1): PlannedArray[] {
  const byOffset = new Map<number, number[]>();
  for (const t of [...taskNumbers].sort((a, b) => a - b)) {
    const offset = chunkOffset({ chunkSize, info: { arrayBase: base } }, t);
    (byOffset.get(offset) ?? byOffset.set(offset, []).get(offset)!).push(t - offset);
  }
  return [...byOffset.entries()].map(([offset, local]) => ({ offset, spec: arraySpec(compressRanges(local), maxConcurrent) }));
}

/** The marker file of a submission, inside the job folder. */
export function markerPath(jobDir: string, token: string): string {
  return `${jobDir}/.pilot-submit-${token}`;
}

/**
 * One shell command line that (1) unpacks the bundle once, atomically (temp folder + rename; a concurrent
 * launch of the same bundle is harmless), (2) writes the job's files from stdin, (3) submits every array,
 * chaining split arrays with afterany so that together they never run more than K tasks at a time.
 * If any sbatch fails, the arrays already submitted are cancelled and sbatch's message is printed.
 *
 * Every step is also written to a marker file in the job folder (`begin <pid>`, `submitted <id> <offset>
 * <spec>` BEFORE the id is printed, `end`): when the connection drops and the reply is lost, the next pilot
 * command reads the marker (pendingQuery) and adopts what was submitted instead of submitting it again.
 */
export function submitCommand(input: SubmitCommandInput): string {
  const q = quote;
  const head = [
    `B=${q(`${input.root}/bundles/${input.bundleSha}`)}`, `J=${q(input.jobDir)}`, `M=${q(markerPath(input.jobDir, input.token))}`,
    ...(input.precheck ? precheckLines(input.root, input.precheck) : []),
  ];
  // the job's files come as a tar on stdin (too large for the command line, see inlineOrTar)
  const viaStdin = (input.withJobFiles || input.attemptFiles) && !input.inlineFiles;
  const lines: string[] = [
    // first of all, so that a later look can tell "never started" from "started"; a new job's folders in the
    // same mkdir (one process: each one a login node starts costs a millisecond or more), a resubmission's
    // folder exists (a test, no process)
    `${input.withJobFiles ? `mkdir -p "$J/logs" "$J/outputs" "$J/${WORK_DIR}"` : '{ [ -d "$J" ] || mkdir -p "$J"; }'} && echo "begin $P" > "$M" || { echo "@@error cannot write job files"; exit 5; }`,
    // every bundle the job's attempts run, named where \`pilot gc\` looks (a --repack attempt is not in job.sh)
    `echo ${q(`bundles/${input.bundleSha}`)} >> "$J/${BUNDLES_USED}"`,
  ];
  const abandon = input.withJobFiles ? 'cd / && rm -rf "$J"' : 'echo end >> "$M"';
  if (input.uploadedTarball) {
    const tgz = q(input.uploadedTarball);
    lines.push(
      // read-only once unpacked (files and folders): a task writing into the shared bundle fails loudly
      `if [ ! -f "$B/.pilot-complete" ]; then T="$B.tmp.$$"; rm -rf "$T"; mkdir -p "$T" && tar -xzf ${tgz} -C "$T" && touch "$T/.pilot-complete" && chmod -R a-w "$T" && { mv -T "$T" "$B" 2>/dev/null || [ -f "$B/.pilot-complete" ]; } || { echo "@@error unpack failed" ; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T" ${tgz}; ${abandon}; exit 4; }; [ -d "$T" ] && chmod -R u+w "$T" && rm -rf "$T"; fi`,
      `rm -f ${tgz}`,
    );
  }
  // the job's files (and a resubmission's per-attempt argv words, args-extra.<attempt>.b64), before any sbatch reads them
  if (input.withJobFiles || input.attemptFiles) {
    // printf is a builtin; its %s takes the text as it is (no escapes, trailing newlines kept)
    const write = input.inlineFiles ? input.inlineFiles.map((f) => `printf %s ${q(f.data)} > "$J/"${q(f.name)}`).join(' && ') : `tar -xf - -C "$J"${input.precheck ? ' <&3' : ''}`;
    lines.push(`${write} || { echo "@@error cannot write job files"; ${abandon}; exit 5; }`);
  }
  // work/ is filled at launch and again for an attempt with its own bundle (--repack), never otherwise: a
  // plain restart must not put shipped files back over what tasks wrote in their place
  if (input.withJobFiles || input.newBundle) lines.push(workDirCommand(abandon));
  // the controller's answer (see below), read by the shell itself (no grep), as late as can be: sbatch is
  // what would hang on a dead controller
  if (input.precheck) lines.push(`up=0; while read -r l || [ -n "$l" ]; do case $l in *' is UP'*) up=1;; esac; done; [ $up = 1 ] || { echo "@@error controller"; ${abandon}; exit 8; }`);
  lines.push(`cd "$J" || exit 6`, 'ids=""');
  // the user's own dependency and pilot's `after:` must both hold (`,`): a --dependency on the command line
  // replaces the script's #SBATCH one, so whenever one is given here the user's is repeated in it
  const both = combineDependencies(input.userDependency, input.jobDependency);
  input.arrays.forEach((a, i) => {
    // chunks after the first also wait for the previous one (K holds overall); a sweep's resource sets are
    // arrays of their own, each with its own %K, chained only within the set (`group`)
    const chained = i > 0 && a.group === input.arrays[i - 1]!.group;
    const dep = chained ? ` --dependency=${both ? `${q(both)},` : ''}afterany:"$prev"` : input.jobDependency ? ` --dependency=${q(both!)}` : '';
    // the command line overrides the script's #SBATCH lines: how a sweep's resource set (a.resources) and a
    // retry's longer limit or more memory (input.resources, which wins) are given
    const res = resourceOptions({ ...a.resources, ...input.resources });
    lines.push(
      `if out=$(sbatch --parsable --array=${q(a.spec)}${dep}${res} ${q(input.script)} ${a.offset} ${input.attempt} ${q(input.bundleSha)} 2>"$J/.sbatch.err"); then prev=\${out%%;*}; ids="$ids $prev"; ` +
      `echo "submitted $prev ${a.offset} ${q(a.spec)}" >> "$M"; echo "@@submitted $prev ${a.offset} ${q(a.spec)}";` +
      ` else echo "@@error sbatch"; cat "$J/.sbatch.err"; [ -n "$ids" ] && scancel $ids; echo "cancelled$ids" >> "$M"; ${abandon}; exit 7; fi`,
    );
  });
  lines.push('echo end >> "$M"');
  // touched when reused, as the probe does: \`pilot gc\` removes only bundles nobody launched with for a while.
  // After the reply, off the launch's path; detached from the channel (no fd of it), so it holds nothing open
  if (input.precheck) lines.push('touch -c "$B" </dev/null >/dev/null 2>&1 &');
  if (!input.precheck) return shScript([...head, 'P=$$', ...lines].join('\n'));
  // the probe's controller check (a dead controller makes sbatch hang ~10 s), started before anything else so
  // that it answers while the job is written: the rest of the command is the reader of its pipe (a subshell,
  // no exec), which reads the answer from its stdin when it needs it, and its status is the command's. The
  // channel's stdin stays on fd 3 for a tar.
  // The marker names the pid of that subshell, the one that submits (`$$` would name its parent): read from
  // /proc/self by the shell itself (`$$` where there is no /proc)
  return shScript([...head, ...(viaStdin ? ['exec 3<&0'] : []), 'scontrol ping 2>&1 | {', '{ read -r P _ < /proc/self/stat; } 2>/dev/null || P=$$', ...lines, '}'].join('\n'));
}

/**
 * The probe's checks at the head of the submit command, for a launch whose cluster facts are cached: each
 * failure prints `@@unready <what>` and stops BEFORE anything is written (stdin is drained so the sender never
 * sees a broken pipe), so the driver can probe as for a first launch. The interpreter's path is reported.
 */
function precheckLines(root: string, check: Precheck): string[] {
  const unready = (what: string) => `{ cat >/dev/null; echo "@@unready ${what}"; exit 0; }`;
  const lines: string[] = [];
  if (check.interpreter !== undefined) {
    // printed by \`command -v\` itself (a \`$(…)\` would start a subshell), looked up from the login folder as the
    // probe does: before the \`cd\` below
    lines.push(`printf '@@interpreter='; command -v ${quote(check.interpreter)} 2>/dev/null || { echo; ${check.interpreterRequired ? unready('interpreter') : ':'}; }`);
  }
  lines.push(
    // the cached root is still what remoteDir resolves to (a moved home, a new symlink: probe again). \`cd -P\`
    // sets $PWD to the physical path, as \`pwd -P\` prints it, without the subshell of a \`$(…)\`
    `cd -P ${remotePathExpr(check.remoteDir)} >/dev/null 2>&1 && [ "$PWD" = ${quote(root)} ] || ${unready('root')}`,
    `[ -f "$B/.pilot-complete" ] || ${unready('bundle')}`,
  );
  return lines;
}

/** What the prechecks of a submit command said (see precheckLines); `unready` when they stopped it. */
export function parsePrecheck(stdout: string): PrecheckOutcome {
  const unready = /^@@unready (\w+)$/m.exec(stdout)?.[1] as PrecheckOutcome['unready'];
  const interpreter = /^@@interpreter=(.*)$/m.exec(stdout)?.[1];
  return {
    ...(unready ? { unready } : {}),
    ...(interpreter === undefined ? {} : { interpreter: interpreter.trim() || null }),
    controllerDown: /^@@error controller$/m.test(stdout),
  };
}

/** sbatch options for a resource set, each value quoted (they override the script's #SBATCH lines). */
export function resourceOptions(r: TaskResources): string {
  const flags: [keyof TaskResources, string][] = [['partition', 'partition'], ['account', 'account'], ['nodes', 'nodes'], ['cpus', 'cpus-per-task'], ['gpus', 'gpus'], ['mem', 'mem'], ['time', 'time']];
  return flags.filter(([f]) => r[f] !== undefined).map(([f, flag]) => ` --${flag}=${quote(String(r[f]))}`).join('');
}

export function parseSubmitOutput(code: number, stdout: string, stderr: string): ArraySubmission[] {
  const errAt = stdout.indexOf('@@error');
  if (errAt >= 0) {
    // the remote script stopped on its own and undid what it had started: nothing stays submitted
    const body = stdout.slice(errAt).split('\n');
    const what = body[0]!.replace('@@error ', '');
    const message = [body.slice(1).join('\n').trim(), stderr.trim()].filter(Boolean).join('\n') || `exit code ${code}`;
    const e = what === 'sbatch'
      ? new PilotError('SUBMIT', `sbatch refused the job: ${message}`, { hint: 'check partition, account, time and the other resources against `sinfo` and your site\'s limits' })
      : new PilotError('SUBMIT', `${what}: ${message}`, { hint: 'is the remote disk full or remoteDir not writable?' });
    e.step = what.startsWith('unpack') ? 'unpack' : 'submit';
    throw e;
  }
  const arrays = [...stdout.matchAll(/^@@submitted (\d+) (\d+) (\S+)$/gm)].map((m) => ({ jobId: m[1]!, offset: Number(m[2]), arraySpec: m[3]! }));
  if (code !== 0 || !arrays.length) {
    // killed half-way (or a login script got in the way): what was submitted is not known from here
    throw new PilotError('REMOTE', `the submit command ended without a complete answer (exit ${code}): ${(stderr || stdout).trim().slice(0, 500)}`);
  }
  return arrays;
}
