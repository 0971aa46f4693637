/** `pilot results` as a terminal table (pure). What tasks wrote is cleaned of control characters and cut. */
import { cleanRemoteText } from '../model/last-error.js';
import { cell, cellText, type ResultsTable } from '../model/results.js';
import { ellipsize, table } from './render.js';

/** Widest a cell is shown in the table (the JSON and CSV formats are never cut). */
const MAX_CELL = 40;

export function renderResults(job: ResultsTable & { name: string; file: string }): string {
  const head = `${job.name}: ${job.rows.length} row${job.rows.length === 1 ? '' : 's'} (${job.file})`;
  if (!job.rows.length) return `${head}\n  no completed task yet`;
  const rows = [job.columns, ...job.rows.map((r) => job.columns.map((c) => ellipsize(cleanRemoteText(cellText(cell(job, r, c))).replace(/[\r\n]+/g, ' '), MAX_CELL)))];
  return `${head}\n${table(rows)}`;
}
