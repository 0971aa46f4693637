/**
 * Slurm's time syntax, the one home of it: `--time` values are checked with it before anything is sent, and
 * the local backend enforces the same limit, so a job file means the same everywhere.
 */
import { PilotError } from './errors.js';

const FORMS: [RegExp, (n: number[]) => number][] = [
  [/^(\d+)$/, ([m]) => m! * 60],                                   // M
  [/^(\d+):(\d+)$/, ([m, s]) => m! * 60 + s!],                      // M:S
  [/^(\d+):(\d+):(\d+)$/, ([h, m, s]) => (h! * 60 + m!) * 60 + s!], // H:M:S
  [/^(\d+)-(\d+)$/, ([d, h]) => (d! * 24 + h!) * 3600],             // D-H
  [/^(\d+)-(\d+):(\d+)$/, ([d, h, m]) => ((d! * 24 + h!) * 60 + m!) * 60],
  [/^(\d+)-(\d+):(\d+):(\d+)$/, ([d, h, m, s]) => ((d! * 24 + h!) * 60 + m!) * 60 + s!],
];

/** Is `text` a time limit sbatch accepts (`30`, `2:00:00`, `1-12:00:00`, `infinite`)? */
export function isSlurmTime(text: string): boolean {
  return /^(infinite|unlimited)$/i.test(text) || FORMS.some(([re]) => re.test(text));
}

/**
 * A Slurm time limit in milliseconds; undefined means no limit (absent, `infinite`, `UNLIMITED`, or 0,
 * which sbatch also reads as "no limit").
 *
 * @example
 * parseTimeLimit('0:02');      // 2000
 * parseTimeLimit('1-12:00');   // 129_600_000
 */
export function parseTimeLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (/^(infinite|unlimited)$/i.test(t)) return undefined;
  for (const [re, seconds] of FORMS) {
    const m = re.exec(t);
    if (m) {
      const ms = seconds(m.slice(1).map(Number)) * 1000;
      return ms === 0 ? undefined : ms;
    }
  }
  throw new PilotError('BAD_INPUT', `time: '${text}' is not a Slurm time limit`, {
    hint: 'use M, M:S, H:M:S, D-H, D-H:M or D-H:M:S, e.g. 30 (minutes) or 2:00:00',
  });
}
