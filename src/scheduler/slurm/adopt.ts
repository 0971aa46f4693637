/**
 * Finding a submission whose reply was lost (the connection dropped after sbatch was sent, or pilot was
 * killed): ONE remote command reads the submission's marker file (see submitCommand) and asks Slurm for the
 * arrays that run in the job's folder, so the submission is adopted exactly once and never sent twice.
 *
 * The marker decides when it can: `end` written → it lists every array; no marker → the submit command never
 * started (or it failed and removed the job folder after cancelling what it had submitted). A marker without
 * `end` whose shell is gone means the shell was killed mid-way: then Slurm's own view (squeue, sacct by job
 * name, matched on the working folder, which is unique per launch) completes the marker's list.
 */
import type { ArraySubmission } from '../../model/record.js';
import type { PendingVerdict } from '../backend.js';
import type { PendingQueryInput } from '../dialect.js';
import { quote, shScript } from '../../util/quote.js';
import { markerPath } from './submit.js';


const MARK = '@@pilot-adopt:';

export function pendingQuery(input: PendingQueryInput): string {
  const name = quote(input.jobName);
  // bounded: a controller that is down must give a clear "cannot tell yet", not a hang
  const t = 'T=; command -v timeout >/dev/null 2>&1 && T="timeout 20"';
  return shScript([
    t,
    `M=${quote(markerPath(input.jobDir, input.token))}`,
    `echo "${MARK}marker"`,
    `if [ -f "$M" ]; then cat "$M"; p=$(sed -n 's/^begin //p' "$M"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo alive; else echo none; fi`,
    `echo "${MARK}squeue"`,
    `$T squeue -h -t all -u "$(id -un)" -n ${name} -o '%F|%Z' 2>/dev/null; echo "${MARK}rc=$?"`,
    `echo "${MARK}sacct"`,
    `$T sacct -X -n -P -u "$(id -un)" --name=${name} -S now-${Math.max(60, Math.ceil(input.sinceSeconds))}seconds --format=JobID,WorkDir 2>/dev/null; echo "${MARK}rc=$?"`,
  ].join('\n'));
}

interface Parsed {
  marker: 'none' | 'running' | 'ended' | 'died';
  arrays: ArraySubmission[];
  /** array job ids Slurm knows in the job folder; undefined when neither squeue nor sacct answered */
  slurmIds?: Set<string>;
}

function parse(stdout: string, jobDir: string): Parsed {
  const sections = new Map<string, string[]>();
  const rc = new Map<string, number>();
  let current = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) {
      const tag = line.slice(MARK.length);
      if (tag.startsWith('rc=')) rc.set(current, Number(tag.slice(3)));
      else sections.set((current = tag), []);
    } else if (current && line.trim()) {
      sections.get(current)!.push(line.trim());
    }
  }
  const markerLines = sections.get('marker') ?? ['none'];
  const arrays = markerLines.flatMap((l) => {
    const m = /^submitted (\d+) (\d+) (\S+)$/.exec(l);
    return m ? [{ jobId: m[1]!, offset: Number(m[2]), arraySpec: m[3]! }] : [];
  });
  const marker = markerLines[0] === 'none' ? 'none'
    : markerLines.includes('end') ? 'ended' : markerLines.includes('alive') ? 'running' : 'died';
  let slurmIds: Set<string> | undefined;
  for (const section of ['squeue', 'sacct']) {
    if (rc.get(section) !== 0) continue;
    slurmIds ??= new Set();
    for (const line of sections.get(section) ?? []) {
      const [id, dir] = line.split('|');
      const arrayId = /^(\d+)/.exec(id ?? '')?.[1];
      if (arrayId && dir === jobDir) slurmIds.add(arrayId);
    }
  }
  return { marker, arrays, slurmIds };
}

/**
 * What happened to a submission, from pendingQuery's output. `known` are the array ids the record already
 * holds (earlier attempts run in the same folder); `planned` are the arrays the submission meant to send,
 * in order, so that arrays found only through Slurm get their offsets (split arrays are submitted in order).
 */
export function judgePending(stdout: string, jobDir: string, known: ReadonlySet<string>,
  planned: readonly { offset: number; spec: string }[]): PendingVerdict {
  const p = parse(stdout, jobDir);
  if (p.marker === 'none') return { kind: 'not-submitted' };
  if (p.marker === 'running') return { kind: 'unknown', why: 'the submission is still running on the cluster' };
  if (p.marker === 'ended') {
    return p.arrays.length ? { kind: 'submitted', arrays: p.arrays, complete: p.arrays.length === planned.length } : { kind: 'not-submitted' };
  }
  // the shell died mid-way: sbatch may have accepted an array whose id never reached the marker
  if (!p.slurmIds) return { kind: 'unknown', why: 'Slurm did not answer (is slurmctld up?)' };
  const listed = new Set(p.arrays.map((a) => a.jobId));
  const extra = [...p.slurmIds].filter((id) => !known.has(id) && !listed.has(id)).sort((a, b) => Number(a) - Number(b));
  const arrays = [...p.arrays];
  for (const id of extra) {
    const plan = planned[arrays.length];
    if (!plan) break;
    arrays.push({ jobId: id, offset: plan.offset, arraySpec: plan.spec });
  }
  return arrays.length ? { kind: 'submitted', arrays, complete: arrays.length === planned.length } : { kind: 'not-submitted' };
}
