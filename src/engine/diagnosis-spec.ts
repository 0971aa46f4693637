/**
 * The job fields of diagnosis (`expectedFiles`, `errorPatterns`, `errorWhitelist`, `errorWhitelistWords`),
 * validated apart from job-spec.ts so they travel as one block: a bad glob or regex is refused at launch,
 * before anything is packed, never found out on the cluster.
 */
import * as z from 'zod';
import { expectedPatternProblem } from '../model/expected.js';

function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export const diagnosisFields = {
  expectedFiles: z.array(z.string().superRefine((p, ctx) => {
    const problem = expectedPatternProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem}, e.g. 'result-{index}.json'` });
  })).max(50, 'at most 50 patterns').optional(),
  errorPatterns: z.array(z.string().min(1).superRefine((p, ctx) => {
    const problem = regexProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: `is not a regular expression: ${problem}` });
  })).optional(),
  errorWhitelist: z.array(z.string().min(1)).optional(),
  errorWhitelistWords: z.number().int().positive('must be a whole number of words, at least 1').optional(),
};

/** The normalised values: only the fields given (records stay as they were for jobs without them). */
export function diagnosisValues(info: { expectedFiles?: string[]; errorPatterns?: string[]; errorWhitelist?: string[]; errorWhitelistWords?: number }) {
  return {
    ...(info.expectedFiles?.length ? { expectedFiles: info.expectedFiles } : {}),
    ...(info.errorPatterns?.length ? { errorPatterns: info.errorPatterns } : {}),
    ...(info.errorWhitelist?.length ? { errorWhitelist: info.errorWhitelist } : {}),
    ...(info.errorWhitelistWords !== undefined ? { errorWhitelistWords: info.errorWhitelistWords } : {}),
  };
}
