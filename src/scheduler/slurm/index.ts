/**
 * The Slurm dialect: the pure pieces that make the generic driver speak Slurm (sbatch, squeue, sacct,
 * scontrol, scancel, sinfo). See ../dialect.ts for the contract.
 */
import { join } from 'node:path';
import { PilotError } from '../../model/errors.js';
import { TEMPLATES } from '../render.js';
import type { Dialect } from '../dialect.js';
import { quote, shScript } from '../../util/quote.js';
import { judgePending, pendingQuery } from './adopt.js';
import { arraySpec, sbatchLines } from './directives.js';
import { taskRange } from '../../model/job.js';
import { observeSlurm } from './observe.js';
import { assertSbatchValue, checkSbatchArgs, SLURM_WORD_RE, userDependency } from './options.js';
import { healthCommand, parseHealth } from './health.js';
import { parsePrecheck, parseProbe, parseSubmitOutput, planArrays, probeCommand, submitCommand } from './submit.js';

export const slurmDialect: Dialect = {
  name: 'slurm',
  title: 'Slurm',
  template: join(TEMPLATES, 'slurm-array.sh.njk'),
  checkJob(info, where) {
    checkSbatchArgs(info.sbatchArgs, where);
  },
  checkDefaults(defaults, where) {
    for (const field of ['partition', 'account'] as const) {
      const value = defaults[field];
      if (value === undefined) continue;
      assertSbatchValue(value, field, where);
      if (!SLURM_WORD_RE.test(value)) {
        throw new PilotError('CONFIG', `${where}.${field} ${JSON.stringify(value)} is not a Slurm ${field} name`, { hint: 'use letters, digits and . _ , : - only' });
      }
    }
  },
  directives: sbatchLines,
  probeCommand,
  parseProbe,
  planArrays,
  userDependency(info, arrays) {
    const dep = userDependency(info.sbatchArgs);
    if (dep?.includes('?') && arrays > 1) {
      throw new PilotError('BAD_INPUT', `sbatchArgs: --dependency=${dep} uses '?' (any of), which cannot be combined with the chaining of the ${arrays} arrays this job is split into`, {
        hint: 'use \',\' (all of) in the dependency, or fewer tasks than the cluster\'s MaxArraySize',
      });
    }
    return dep;
  },
  submitCommand,
  parseSubmit: parseSubmitOutput,
  parsePrecheck,
  describeSubmit: (jobDir, tasks, bundleSha, maxConcurrent, base) => `cd ${jobDir} && sbatch --parsable --array=${arraySpec(taskRange(tasks, { arrayBase: base }), maxConcurrent)} job.sh 0 1 ${bundleSha}`,
  observe: observeSlurm,
  // plain words: any login shell parses them
  cancelCommand: (targets) => `scancel ${targets.map((t) => quote(t.index === undefined ? t.jobId : `${t.jobId}_${t.index}`)).join(' ')}`,
  // (through sh, as every command with more than plain words: the login shell may be tcsh)
  updateDependencyCommand: (targets) => shScript(targets.map((t) => `scontrol update ${quote(`JobId=${t.jobId}`)} ${quote(`Dependency=${t.dependency}`)} || echo ${quote(`@@dependency-failed ${t.jobId}`)}`).join('; ')),
  pendingQuery,
  judgePending,
  // squeue lists every job not finished yet (pending, running, suspended, completing); %Z is its working folder
  activeWorkDirsCommand: () => 'squeue -h -u "$(id -un)" -o %Z',
  healthCommand,
  parseHealth,
};
