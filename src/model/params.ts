/**
 * The params file (params.b64), the way a task's parameters reach it as PILOT_PARAMS_JSON without a shell
 * ever reading them: line i is task i's parameters as exact JSON (`{}` for a task without named parameters),
 * base64-encoded; the script decodes its line into the variable (templates/slurm-array.sh.njk).
 */
import type { TaskParams } from './job.js';

export function encodeParamsFile(params: readonly (TaskParams | undefined)[], tasks: number): string {
  return Array.from({ length: tasks }, (_, i) => Buffer.from(JSON.stringify(params[i] ?? {}), 'utf8').toString('base64')).join('\n') + '\n';
}

export function decodeParamsLine(line: string): unknown {
  return JSON.parse(Buffer.from(line, 'base64').toString('utf8'));
}
