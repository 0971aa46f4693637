/**
 * The `pilot results` / `pilot report` scenario, run by test/integration/report.test.ts (real Slurm) and
 * local-report.test.ts (the local backend): 6 tasks of a 3 × 2 sweep given as objects, lr 0.1 always failing
 * with a hostile stderr line, one task writing a result that is not JSON, a hostile tag in the arguments; one
 * restart of the failed tasks (so the timeline has a second attempt), then the results in every format and the
 * HTML report rendered by headless Chromium.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { pilot } from './cli.js';
import { chromium, dumpDom, pngSize, screenshot } from './browser.js';

export const HOSTILE_TAG = `a,"b" <script>document.title='PWNED3'</script>`;
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'report-task');

interface JsonResults { name: string; columns: string[]; rows: Record<string, unknown>[] }

export async function reportScenario(home: string, cluster: string, name: string): Promise<{ html: string; png: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-report-'));
  cpSync(FIXTURE, join(dir, 'src'), { recursive: true });
  const args = [0.01, 0.1, 0.001].flatMap((lr) => [32, 64].map((bs) => ({ lr, bs, tag: lr === 0.01 && bs === 32 ? HOSTILE_TAG : `t${bs}` })));
  // YAML is a superset of JSON: the job file needs no YAML library here
  writeFileSync(join(dir, 'job.yaml'), JSON.stringify({ jobName: name, cluster, srcDir: 'src', entrypoint: 'task.sh', args, maxConcurrent: 3, time: '0:05:00' }));
  const launched = await pilot(['launch', join(dir, 'job.yaml'), '--wait', '--no-progress'], home);
  expect(launched.code, launched.stderr).toBe(1);   // the lr 0.1 tasks failed
  const restarted = await pilot(['restart-failed', name], home);
  expect(restarted.code, restarted.stderr).toBe(0);
  const waited = await pilot(['wait', name, '--no-progress'], home);
  expect(waited.code, waited.stderr).toBe(1);

  // results: one row per completed task, with its params; the non-JSON file is a note
  const json = await pilot(['results', name, '--format', 'json'], home);
  expect(json.code, json.stderr).toBe(0);
  const [r] = JSON.parse(json.stdout) as JsonResults[];
  expect(r!.rows.map((x) => [x.index, x.state, x.lr, x.bs])).toEqual([[1, 'COMPLETED', 0.01, 32], [2, 'COMPLETED', 0.01, 64], [5, 'COMPLETED', 0.001, 32], [6, 'COMPLETED', 0.001, 64]]);
  expect(r!.rows[0]).toMatchObject({ loss: 0.1, 'acc.top1': 0.932, tag: HOSTILE_TAG, 'result.tag': HOSTILE_TAG });
  expect(r!.rows[3]!.note).toMatch(/^results\.json is not JSON/);
  expect(r!.columns).toEqual(['index', 'state', 'attempt', 'lr', 'bs', 'tag', 'loss', 'acc.top1', 'result.tag', 'note']);
  // --all: the failed tasks too, with a note
  const all = JSON.parse((await pilot(['results', name, '--format', 'json', '--all'], home)).stdout) as JsonResults[];
  expect(all[0]!.rows.filter((x) => x.state === 'FAILED').map((x) => [x.index, x.attempt, x.note])).toEqual([[3, 2, 'not completed (FAILED)'], [4, 2, 'not completed (FAILED)']]);
  // CSV: the hostile tag (comma, quotes) quoted as RFC 4180 says
  const csv = await pilot(['results', name, '--format', 'csv'], home);
  expect(csv.stdout.split('\r\n')[1]).toBe(`1,COMPLETED,1,0.01,32,"a,""b"" <script>document.title='PWNED3'</script>",0.1,0.932,"a,""b"" <script>document.title='PWNED3'</script>",`);
  const table = await pilot(['results', name], home);
  expect(table.stdout).toMatch(/^\s+6\s+COMPLETED\s+1\s+0\.001\s+64\s+t64\s.*results\.json is not JSON/m);
  // bad --file: exit 2, nothing read
  expect((await pilot(['results', name, '--file', '../../etc/passwd'], home)).code).toBe(2);

  // the report, rendered by a real browser
  const html = join(dir, 'report.html');
  const rep = await pilot(['report', name, '--html', html], home);
  expect(rep.code, rep.stderr).toBe(0);
  const bin = chromium();
  const dom = await dumpDom(bin, html);
  expect(dom).toContain('data-ready="1"');   // the page's own script ran
  // the document's title is still its own: no injected script changed it
  expect(/<title>([^<]*)<\/title>/.exec(dom)?.[1]).toBe(`pilot report: ${name}`);
  expect(dom).not.toMatch(/<img[^>]*src="x"/);
  // 6 first attempts + the 2 restarted ones, each a bar with its state
  const bars = [...dom.matchAll(/<rect class="bar state-(\w+)" data-task="(\d+)" data-attempt="(\d+)"/g)].map((m) => `${m[2]}/${m[3]}:${m[1]}`).sort();
  expect(bars).toEqual(['1/1:COMPLETED', '2/1:COMPLETED', '3/1:FAILED', '3/2:FAILED', '4/1:FAILED', '4/2:FAILED', '5/1:COMPLETED', '6/1:COMPLETED']);
  expect(dom).toContain('<svg class="rate-chart" data-param="lr"');
  expect(dom).toMatch(/<rect class="rate" data-value="0\.1" data-rate="1"/);
  expect(dom).toContain('id="runtimes"');
  expect(dom).toContain('<span class="count" data-state="COMPLETED"');
  expect(dom.match(/<div class="failed-task" data-task="\d+">/g)).toHaveLength(2);
  expect(dom).toContain('diverged &lt;script&gt;document.title=\'PWNED\'&lt;/script&gt;&lt;img src=x onerror="document.title=\'PWNED2\'"&gt;');
  expect(dom.match(/<tr data-task="\d+">/g)).toHaveLength(4);
  expect(dom).toContain('a,"b" &lt;script&gt;document.title=\'PWNED3\'&lt;/script&gt;');
  expect(dom.match(/<script/g)).toHaveLength(1);
  const png = join(dir, 'report.png');
  const shot = await screenshot(bin, html, png);
  expect(pngSize(shot)).toEqual({ width: 1200, height: 900 });
  expect(shot.length).toBeGreaterThan(20_000);   // a blank page is a few kB
  return { html, png };
}
