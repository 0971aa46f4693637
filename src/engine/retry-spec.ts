/**
 * The zod fields of automatic retries and notifications (model/retry.ts), kept apart from job-spec.ts so the
 * job schema only spreads them in.
 */
import * as z from 'zod';

// NONZERO_EXIT (the name `why` prints) and FAILED (the issue's) both cover EXIT and SIGNAL (model/retry.ts)
const FAILURE_CLASSES = ['TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'CANCELLED', 'MISSING_OUTPUT', 'EXIT', 'SIGNAL', 'NONZERO_EXIT', 'FAILED'] as const;

export const automationSchema = {
  maxRetries: z.number().int().nonnegative('must be 0 (no retries) or more').optional(),
  retryOn: z.array(z.enum(FAILURE_CLASSES)).min(1, 'name at least one failure class, e.g. [TIMEOUT]').optional(),
  onTimeout: z.object({ timeFactor: z.number().min(1, 'must be at least 1 (the limit never shrinks)') }).strict().optional(),
  onOutOfMemory: z.object({ memFactor: z.number().min(1, 'must be at least 1 (the memory never shrinks)') }).strict().optional(),
  notify: z.object({
    on: z.array(z.enum(['job_end', 'job_failed', 'collection_final'])).min(1).default(['job_end']),
    webhook: z.string().url('must be an http(s) URL').refine((u) => /^https?:/i.test(u), 'must be an http(s) URL').optional(),
    command: z.string().min(1).refine((c) => !c.includes('\0'), 'must not contain a NUL byte').optional(),
  }).strict().refine((n) => Boolean(n.webhook) !== Boolean(n.command), 'give exactly one of webhook or command').optional(),
};

type Parsed = { [K in keyof typeof automationSchema]: z.infer<(typeof automationSchema)[K]> };

/** The normalized automation fields: only those given (a record without them stays as it was). */
export function automationFields(parsed: Parsed): Parsed {
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as Parsed;
}
