/**
 * Compact index sets, the ONE parser of them: `[1,2,3,5,7,8]` ⇄ `1-3,5,7-8`. The same syntax names task sets in
 * records (`attempt.indices`), Slurm's `--array` lists (with a `:step` and, around them, the `%K` throttle and
 * brackets that the Slurm dialect strips), and resubmission groups.
 */
import { PilotError } from './errors.js';

/** Sorted, de-duplicated, consecutive runs joined: `compressRanges([3,1,2,7])` → `1-3,7`. */
export function compressRanges(indices: Iterable<number>): string {
  // a list already ascending (task numbers in order: most callers, 100 000 of them) is taken as it is
  const sorted = Array.isArray(indices) && ascending(indices) ? indices as number[] : [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function ascending(list: readonly number[]): boolean {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1]! < list[i]!)) return false;
  return true;
}

interface Part { first: number; last: number; step: number }

function parts(spec: string, limit: number): Part[] {
  if (!spec.trim()) return [];
  let count = 0;
  return spec.split(',').map((text) => {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(text.trim());
    const first = Number(m?.[1]);
    const last = m?.[2] === undefined ? first : Number(m[2]);
    const step = m?.[3] === undefined ? 1 : Number(m[3]);
    if (!m || last < first || step < 1) {
      throw new PilotError('BAD_INPUT', `'${text}' in '${spec}' is not an index range`, { hint: 'write ranges like 1-5,7,10-20 (a step as 1-9:4)' });
    }
    count += Math.floor((last - first) / step) + 1;
    if (count > limit) throw new PilotError('BAD_INPUT', `'${spec}' names more than ${limit} indices`, { hint: 'a task set is at most a few million indices' });
    return { first, last, step };
  });
}

/**
 * Every index of `1-3,5,7-9:2`, in the order written. Throws BAD_INPUT on anything else, or past `limit`
 * indices (garbage from a remote must not allocate gigabytes; the default is Slurm's largest MaxArraySize).
 */
export function expandRanges(spec: string, limit = 4_000_001): number[] {
  const out: number[] = [];
  for (const { first, last, step } of parts(spec, limit)) for (let i = first; i <= last; i += step) out.push(i);
  return out;
}

/**
 * The smallest and largest index of `1-3,5,7-9:2` without expanding it (undefined for an empty list); throws
 * BAD_INPUT as expandRanges does. What a check of a stored list against the job's task numbers needs.
 */
export function rangeBounds(spec: string): { first: number; last: number } | undefined {
  let bounds: { first: number; last: number } | undefined;
  for (const p of parts(spec, Number.MAX_SAFE_INTEGER)) {
    bounds = bounds ? { first: Math.min(bounds.first, p.first), last: Math.max(bounds.last, p.last) } : { first: p.first, last: p.last };
  }
  return bounds;
}

/*
 * Parsed specs by text, for rangesInclude: a status call asks it once per open task about the same few specs
 * (each attempt's task list), and a restart of 1 000 scattered tasks has a 1 000-part list. Parsing it again for
 * each of 100 000 tasks was 10^8 steps; parsed once and searched by bisection it is 100 000 × log 1 000.
 */
/** A spec's parts sorted by first index, each with the largest `last` of it and the parts before it. */
type SortedPart = Part & { reach: number };
const parsedSpecs = new Map<string, SortedPart[]>();
const PARSED_SPECS_KEPT = 64;

function sortedParts(spec: string): SortedPart[] {
  let found = parsedSpecs.get(spec);
  if (!found) {
    let reach = -Infinity;
    found = parts(spec, Number.MAX_SAFE_INTEGER).sort((a, b) => a.first - b.first).map((p) => ({ ...p, reach: (reach = Math.max(reach, p.last)) }));
    if (parsedSpecs.size >= PARSED_SPECS_KEPT) parsedSpecs.delete(parsedSpecs.keys().next().value!);
    parsedSpecs.set(spec, found);
  }
  return found;
}

/** Whether `n` is in the set, without expanding it. */
export function rangesInclude(spec: string, n: number): boolean {
  const all = sortedParts(spec);
  // the parts whose first index is ≤ n are a prefix of the sorted list; parts may overlap (`1-9:2,2-8:2`), so
  // that prefix is walked back while some part at or before it still reaches n (`reach`): one step when the
  // parts do not overlap, as in every list pilot writes
  let lo = 0, hi = all.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (all[mid]!.first <= n) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0 && all[i]!.reach >= n; i--) {
    const { first, last, step } = all[i]!;
    if (n <= last && (n - first) % step === 0) return true;
  }
  return false;
}
