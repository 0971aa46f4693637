/**
 * What `pilot test-ssh` checks on a Slurm cluster, in ONE remote command: which Slurm commands exist, their
 * version, whether the controller answers, MaxArraySize, whether accounting (sacct) is on, whether pilot's
 * remote folder is writable, and the partitions. Each line is `key=value` so a login banner cannot confuse it.
 */
import type { HealthReport } from '../dialect.js';
import { remotePathExpr, shScript } from '../../util/quote.js';

const COMMANDS = ['sbatch', 'squeue', 'sacct', 'scontrol', 'scancel', 'sinfo'];

export function healthCommand(remoteDir: string): string {
  return shScript([
    `for c in ${COMMANDS.join(' ')}; do echo "cmd.$c=$(command -v "$c" 2>/dev/null)"; done`,
    `echo "version=$(sbatch --version 2>/dev/null)"`,
    `echo "controller=$(scontrol ping 2>&1 | grep -c ' is UP')"`,
    `C=$(scontrol show config 2>/dev/null)`,
    `echo "maxArraySize=$(printf '%s\\n' "$C" | sed -n 's/^MaxArraySize *= *//p')"`,
    `echo "accounting=$(printf '%s\\n' "$C" | sed -n 's/^AccountingStorageType *= *//p')"`,
    `R=${remotePathExpr(remoteDir)}`,
    `if mkdir -p "$R" 2>/dev/null && T=$(mktemp "$R/.pilot-write-test.XXXXXX" 2>/dev/null) && rm -f "$T"; then echo "writable=$(cd "$R" && pwd -P)"; else echo writable=; fi`,
    `sinfo -h -o "%P %a %D %T" 2>&1 | sed 's/^/partition=/'`,
  ].join('; '));
}

export function parseHealth(stdout: string): HealthReport {
  const commands: Record<string, string | null> = {};
  const partitions: string[] = [];
  const kv: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const [key, value] = [line.slice(0, i), line.slice(i + 1).trim()];
    if (key.startsWith('cmd.')) commands[key.slice(4)] = value || null;
    else if (key === 'partition') partitions.push(value);
    else kv[key] = value;
  }
  const max = Number(kv.maxArraySize);
  const missing = COMMANDS.filter((c) => !commands[c]);
  const accounting = kv.accounting ? !/accounting_storage\/none/.test(kv.accounting) : undefined;
  const controllerUp = Number(kv.controller) > 0;
  const problems = [
    ...(missing.length ? [`Slurm commands not found: ${missing.join(', ')}`] : []),
    ...(controllerUp ? [] : ['slurmctld does not answer (scontrol ping)']),
    ...(kv.writable ? [] : ['the remote folder is not writable']),
  ];
  return {
    ok: problems.length === 0,
    problems,
    commands,
    version: kv.version || undefined,
    controllerUp,
    maxArraySize: Number.isFinite(max) && max > 0 ? max : undefined,
    accounting,
    remoteDir: kv.writable || undefined,
    partitions,
  };
}
