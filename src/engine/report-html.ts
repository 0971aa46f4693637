/**
 * The report as ONE self-contained HTML page (pure: data in, text out): inline CSS, inline SVG charts drawn
 * here, and a few lines of inline script (sorting the results table); nothing is fetched, so it opens offline
 * and can be mailed or archived. Task names, parameters, results and stderr lines are hostile input: every
 * text goes through `esc` (element content and quoted attribute values alike), and the script reads only the
 * page's own cells, never an embedded string.
 */
import { cell, cellText } from '../model/results.js';
import type { TaskState } from '../model/states.js';
import type { TimelineBar } from '../model/report-stats.js';
import type { ReportData } from './report.js';

/** Escapes text for element content and double-quoted attribute values. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STATE_COLOURS: Record<TaskState, string> = {
  COMPLETED: '#2e9e44', FAILED: '#d62728', TIMEOUT: '#e67e22', OUT_OF_MEMORY: '#9b2fae', NODE_FAIL: '#8c564b',
  PREEMPTED: '#bcbd22', CANCELLED: '#7f7f7f', MISSING_OUTPUT: '#e377c2', RUNNING: '#1f77b4', PENDING: '#aec7e8', UNKNOWN: '#c7c7c7',
};

const fmtSeconds = (s: number) => (s < 60 ? `${+s.toFixed(1)} s` : s < 3600 ? `${+(s / 60).toFixed(1)} min` : `${+(s / 3600).toFixed(2)} h`);

/** A task as the page names it: `task 3`, or `job/3` in a collection's report. */
const taskLabel = (t: { index: number; job?: string }) => (t.job === undefined ? `task ${t.index}` : `${t.job}/${t.index}`);

function timeline(data: ReportData): string {
  const bars = data.timeline;
  if (!bars.length) return '<p class="empty">No task has started yet (or the scheduler keeps no start times).</p>';
  const t0 = Math.min(...bars.map((b) => b.start));
  const t1 = Math.max(...bars.map((b) => b.end), t0 + 1000);
  const jobs = data.jobs ?? [];
  const order = (b: TimelineBar) => jobs.indexOf(b.job ?? '') * 1e9 + b.index;
  const tasks = [...new Map([...bars].sort((a, b) => order(a) - order(b)).map((b) => [taskLabel(b), b])).keys()];
  const row = new Map(tasks.map((t, i) => [t, i]));
  const left = jobs.length ? 160 : 70, width = 1000, rowH = 18, top = 10;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * width;
  const height = top + tasks.length * rowH + 30;
  const parts = [`<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${left + width + 20} ${height}" width="${left + width + 20}" role="img" aria-label="task timeline">`];
  for (const t of tasks) parts.push(`<text class="label" x="${left - 6}" y="${top + row.get(t)! * rowH + 13}" text-anchor="end">${esc(t)}</text>`);
  for (const b of bars) {
    const y = top + row.get(taskLabel(b))! * rowH + 2;
    const w = Math.max(3, x(b.end) - x(b.start));
    const tip = `${taskLabel(b)} attempt ${b.attempt}: ${b.state}, ${new Date(b.start).toISOString()} → ${b.open ? 'running' : new Date(b.end).toISOString()} (${fmtSeconds((b.end - b.start) / 1000)})`;
    parts.push(`<rect class="bar state-${esc(b.state)}" data-task="${b.index}" data-attempt="${b.attempt}" x="${x(b.start).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${STATE_COLOURS[b.state] ?? '#999'}"${b.attempt > 1 ? ' stroke="#000" stroke-dasharray="3,2"' : ''}><title>${esc(tip)}</title></rect>`);
  }
  const axisY = top + tasks.length * rowH + 14;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    parts.push(`<text class="axis" x="${x(t).toFixed(1)}" y="${axisY}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}">+${esc(fmtSeconds((t - t0) / 1000))}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function rateCharts(data: ReportData): string {
  if (!data.failureRates.length) return '<p class="empty">No parameters recorded for these tasks (give args as objects: <code>{ lr: 0.01 }</code>), or none has finished.</p>';
  return data.failureRates.map((p) => {
    const left = 160, width = 600, rowH = 22;
    const height = p.values.length * rowH + 10;
    const rows = p.values.map((v, i) => {
      const y = 5 + i * rowH;
      return `<text class="label" x="${left - 6}" y="${y + 15}" text-anchor="end">${esc(v.value.length > 24 ? `${v.value.slice(0, 23)}…` : v.value)}</text>`
        + `<rect class="track" x="${left}" y="${y + 2}" width="${width}" height="${rowH - 6}" fill="#eee"/>`
        + `<rect class="rate" data-value="${esc(v.value)}" data-rate="${v.failureRate}" x="${left}" y="${y + 2}" width="${(v.failureRate * width).toFixed(1)}" height="${rowH - 6}" fill="#d62728"><title>${esc(`${p.param}=${v.value}: ${v.failed} of ${v.total} failed`)}</title></rect>`
        + `<text class="value" x="${left + width + 6}" y="${y + 15}">${(v.failureRate * 100).toFixed(0)}% (${v.failed}/${v.total})</text>`;
    }).join('\n');
    return `<h3>${esc(p.param)}</h3>\n<svg class="rate-chart" data-param="${esc(p.param)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${left + width + 110} ${height}" width="${left + width + 110}" role="img" aria-label="failure rate by ${esc(p.param)}">\n${rows}\n</svg>`;
  }).join('\n');
}

function runTimes(data: ReportData): string {
  const bins = data.runTimes;
  if (!bins.length) return '<p class="empty">No attempt has ended with known times yet.</p>';
  const left = 40, width = 700, height = 160, top = 26, max = Math.max(...bins.map((b) => b.count));
  const bw = width / bins.length;
  const step = bins.length > 1 ? bins[0]!.to - bins[0]!.from : 1;
  const digits = step < 0.1 ? 3 : step < 1 ? 2 : step < 10 ? 1 : 0;
  const label = (sec: number) => (sec < 60 ? `${sec.toFixed(digits)} s` : fmtSeconds(sec));
  const rects = bins.map((b, i) => {
    const h = (b.count / max) * height;
    return `<rect class="bin" x="${(left + i * bw + 1).toFixed(1)}" y="${(top + height - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#1f77b4"><title>${esc(`${fmtSeconds(b.from)} – ${fmtSeconds(b.to)}: ${b.count}`)}</title></rect>`
      + `<text class="axis" x="${(left + i * bw + bw / 2).toFixed(1)}" y="${top + height + 14}" text-anchor="middle">${esc(label(b.from))}</text>`;
  }).join('\n');
  return `<svg id="runtimes" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${left + width + 20} ${top + height + 24}" width="${left + width + 20}" role="img" aria-label="run-time histogram">\n`
    + `<text class="axis" x="${left}" y="14">attempts by run time (tallest bar: ${max})</text>\n${rects}\n</svg>`;
}

function failedTasks(data: ReportData): string {
  if (!data.failed.length) return '<p class="empty">No task failed.</p>';
  const items = data.failed.map((t) => `<div class="failed-task" data-task="${t.index}"><h3>${esc(taskLabel(t))} <span class="badge" style="background:${STATE_COLOURS[t.state]}">${esc(t.state)}</span> attempt ${t.attempt}${t.exitCode !== null ? ` · exit ${t.exitCode}` : ''}${t.failure ? ` · ${esc(t.failure)}` : ''}</h3>`
    + `<pre class="stderr">${t.stderrTail.length ? t.stderrTail.map(esc).join('\n') : '(stderr empty or not readable)'}</pre></div>`);
  return items.join('\n') + (data.failedTruncated ? `\n<p>… and ${data.failedTruncated} more failed tasks (see <code>pilot why ${esc(data.name)}</code>).</p>` : '');
}

function resultsTable(data: ReportData): string {
  const t = data.results;
  if (!t.rows.length) return `<p class="empty">No completed task yet, so no <code>${esc(t.file)}</code> to show.</p>`;
  const head = t.columns.map((c, i) => `<th data-col="${i}" title="sort">${esc(c)}</th>`).join('');
  const body = t.rows.map((r) => `<tr data-task="${r.index}">${t.columns.map((c) => `<td>${esc(cellText(cell(t, r, c)))}</td>`).join('')}</tr>`).join('\n');
  return `<table id="results"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}h3{font-size:14px;margin:12px 0 4px}
.meta{color:#666}.counts span{display:inline-block;margin:4px 8px 4px 0;padding:3px 8px;border-radius:4px;color:#fff}
.badge{padding:1px 6px;border-radius:3px;color:#fff;font-size:12px}.empty{color:#777;font-style:italic}
svg{max-width:100%;height:auto;display:block}svg text{font-size:11px;fill:#333}table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4;cursor:pointer}pre.stderr{background:#1e1e1e;color:#eee;padding:8px;overflow-x:auto;white-space:pre-wrap}
.legend span{display:inline-block;margin-right:10px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.problems{color:#a00}`;

// sorts the results table by a column (numbers as numbers); reads only the page's own cells
const SCRIPT = `(function(){var t=document.getElementById('results');
if(t){var h=t.tHead.rows[0].cells;for(var i=0;i<h.length;i++){h[i].addEventListener('click',function(e){var c=+e.currentTarget.getAttribute('data-col');
var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),d=e.currentTarget.getAttribute('data-dir')==='1'?-1:1;e.currentTarget.setAttribute('data-dir',d===1?'1':'0');
rows.sort(function(x,y){var a=x.cells[c].textContent,z=y.cells[c].textContent,na=parseFloat(a),nz=parseFloat(z);
return(!isNaN(na)&&!isNaN(nz)?na-nz:a.localeCompare(z))*d;});rows.forEach(function(r){b.appendChild(r);});});}}
document.body.setAttribute('data-ready','1');})();`;

/** The report as one HTML document. */
export function renderReportHtml(data: ReportData): string {
  const counts = Object.entries(data.status.counts).map(([s, n]) => `<span class="count" data-state="${esc(s)}" style="background:${STATE_COLOURS[s as TaskState] ?? '#999'}">${esc(s)} ${n}</span>`).join('');
  const legend = [...new Set(data.timeline.map((b) => b.state))].map((s) => `<span><i style="background:${STATE_COLOURS[s]}"></i>${esc(s)}</span>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>pilot report: ${esc(data.name)}</title>
<style>${CSS}</style></head>
<body>
<h1>${esc(data.name)}</h1>
<p class="meta">${data.jobs ? `collection of ${data.jobs.length} job(s): ${data.jobs.map(esc).join(', ')} · ` : ''}on ${esc(data.cluster)} · ${data.status.tasks.length} tasks · ${data.status.attempts} attempt(s) · submitted ${esc(data.status.submittedAt ?? '?')} · report ${esc(data.generatedAt)}</p>
${data.problems.length ? `<ul class="problems">${data.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : ''}
<h2>States</h2>
<div id="counts" class="counts">${counts}</div>
<h2>Timeline</h2>
<div class="legend">${legend}<span>dashed: a later attempt</span></div>
${timeline(data)}
<h2>Failure rate by parameter</h2>
<div id="rates">${rateCharts(data)}</div>
<h2>Run times</h2>
${runTimes(data)}
<h2>Failed tasks</h2>
<div id="failed">${failedTasks(data)}</div>
<h2>Results (${esc(data.results.file)})</h2>
${resultsTable(data)}
<script>${SCRIPT}</script>
</body></html>
`;
}
