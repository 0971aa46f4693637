/**
 * The zod rules of the scheduler resource fields, ONE home for the job's own fields (job-spec.ts) and for a
 * sweep's per-task resources (`resources.defaults`, what `resources.logic` returns: sweep-spec.ts).
 */
import * as z from 'zod';
import { isSlurmTime } from '../model/time.js';

/** A partition or account name: what schedulers accept, nothing a directive line could be split on. */
const SCHEDULER_WORD_RE = /^[A-Za-z0-9][A-Za-z0-9._,:-]*$/;
const MEM_RE = /^\d+[KMGT]?B?$/i;

export const resourceShape = {
  partition: z.string().regex(SCHEDULER_WORD_RE, 'must be a Slurm partition name').optional(),
  account: z.string().regex(SCHEDULER_WORD_RE, 'must be a Slurm account name').optional(),
  cpus: z.number().int().positive().optional(),
  gpus: z.union([z.number().int().nonnegative(), z.string().regex(/^[A-Za-z0-9_:.-]+$/, 'like 2 or a100:2')]).optional(),
  mem: z.string().regex(MEM_RE, 'like 4G, 500M or 16000').optional(),
  time: z.string().refine(isSlurmTime, 'like 30 (minutes), 2:00:00 or 1-12:00:00').optional(),
  nodes: z.number().int().positive().optional(),
};

export const resourcesSchema = z.object(resourceShape).strict();
