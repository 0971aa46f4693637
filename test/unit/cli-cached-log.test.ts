// `pilot logs NAME/I` of a complete cached log: printed by bin/pilot.js's fast path (src/cli/cached-log.ts),
// which loads neither commander nor the engine and connects nowhere; anything less simple falls back to the
// full command. Runs the built CLI (npm test builds first).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobStore } from '../../src/store/store.js';
import type { JobRecord, TaskStatus } from '../../src/model/record.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pilot.js');

/** A finished one-task job on a cluster that is not in config.yaml: anything that tries to connect fails. */
function home(opts: { complete?: boolean; pending?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-cached-log-'));
  const jobDir = join(dir, 'jobs', 'done');
  mkdirSync(join(jobDir, 'logs'), { recursive: true });
  const sha = 'e'.repeat(64);
  writeFileSync(join(jobDir, 'job.json'), JSON.stringify({
    version: 2, name: 'done', cluster: 'nowhere', backend: 'slurm', createdAt: '2026-01-01T00:00:00.000Z', tasks: 1, chunkSize: 1000,
    info: { jobName: 'done', cluster: 'nowhere', srcDir: '/src', entrypoint: 'echo.sh', interpreter: ['bash'], libraries: [], exclude: [], argv: [['x']], params: [null], sbatchArgs: [], env: {}, setup: [], uniqueName: false },
    bundle: { sha256: sha, bytes: 1, files: 1 }, bundlePerAttempt: true,
    remote: { bundleDir: `/r/bundles/${sha}`, jobDir: '/r/jobs/done-00000000' },
    attempts: [{ attempt: 1, submittedAt: '2026-01-01T00:00:00.000Z', indices: '1', arrays: [{ jobId: '7', offset: 0, arraySpec: '1' }], bundle: sha }],
    ...(opts.pending ? { pending: { attempt: 2, indices: '1', token: 't0k3n', startedAt: '2026-01-01T00:00:00.000Z', planned: [{ arraySpec: '1', offset: 0 }], bundle: sha } } : {}),
    finalStates: { 1: { index: 1, state: 'COMPLETED', exitCode: 0, attempt: 1 } },
  }));
  writeFileSync(join(jobDir, 'logs', '1.attempt1.out'), 'line 1\nline 2\n');
  writeFileSync(join(jobDir, 'logs', '1.attempt1.err'), 'oops\n');
  if (opts.complete !== false) {
    writeFileSync(join(jobDir, 'logs', '1.attempt1.out.complete'), '');
    writeFileSync(join(jobDir, 'logs', '1.attempt1.err.complete'), '');
  }
  return dir;
}

/** Runs `pilot` with a module hook that records every module it loads (a bundle: the sources in it). */
function pilot(args: string[], pilotHome: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-hooks-'));
  const log = join(dir, 'loaded.txt');
  writeFileSync(join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';
    export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }`);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), BIN, ...args], { encoding: 'utf8', env: { ...process.env, PILOT_HOME: pilotHome } });
  const contents = JSON.parse(readFileSync(join(ROOT, 'dist', 'pilot', 'contents.json'), 'utf8')) as Record<string, string[]>;
  const loaded = readFileSync(log, 'utf8').trim().split('\n').flatMap((url) => {
    const chunk = /\/dist\/pilot\/([^/]+\.js)$/.exec(url)?.[1];
    // the full CLI is one script, read and run by dist/cli/code-cache.js
    if (url.endsWith('/dist/cli/code-cache.js')) return contents['cli.cjs']!;
    return chunk ? contents[chunk] ?? [chunk] : [url];
  });
  return { ...r, loaded };
}

describe('pilot logs of a complete cached log', () => {
  it('prints it with neither commander, the engine, nor a connection', () => {
    const h = home();
    for (const [args, text] of [[['logs', 'done/1'], 'line 1\nline 2\n'], [['logs', 'done/1', '--stderr'], 'oops\n'], [['logs', '--stderr', 'done/1'], 'oops\n']] as const) {
      const r = pilot([...args], h);
      expect(r.stdout, args.join(' ')).toBe(text);
      expect(r.status, r.stderr).toBe(0);
      expect(r.loaded.filter((p) => /commander|ssh2|zod|yaml|nunjucks|src\/(engine|scheduler|transport|store|bundle)\//.test(p))).toEqual([]);
      expect(r.loaded).toContain('src/cli/cached-log.ts');
    }
  });

  it("reads only the head of a large record (its per-task data packed), and prints the newest attempt's log", async () => {
    const h = mkdtempSync(join(tmpdir(), 'pilot-cached-log-big-'));
    const tasks = 3000;
    const sha = 'e'.repeat(64);
    const finalStates: Record<string, TaskStatus> = {};
    for (let t = 1; t <= tasks; t++) finalStates[t] = { index: t, state: 'COMPLETED', exitCode: 0, attempt: t === 5 ? 2 : 1 };
    const record: JobRecord = {
      version: 2, name: 'big', cluster: 'nowhere', backend: 'slurm', createdAt: '2026-01-01T00:00:00.000Z', tasks, chunkSize: 1000,
      info: { jobName: 'big', cluster: 'nowhere', argv: Array.from({ length: tasks }, (_, i) => [String(i)]), params: Array.from({ length: tasks }, () => null) } as unknown as JobRecord['info'],
      bundle: { sha256: sha, bytes: 1, files: 1 }, remote: { bundleDir: `/r/bundles/${sha}`, jobDir: '/r/jobs/big-00000000' },
      attempts: [
        { attempt: 1, submittedAt: '', indices: `1-${tasks}`, arrays: [0, 1000, 2000].map((offset, k) => ({ jobId: String(7 + k), offset, arraySpec: '1-1000' })) },
        { attempt: 2, submittedAt: '', indices: '5', arrays: [{ jobId: '20', offset: 0, arraySpec: '5' }] },
      ],
      finalStates,
    };
    await new JobStore(h).write(record);
    const raw = JSON.parse(readFileSync(join(h, 'jobs', 'big', 'job.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(raw)).toEqual(expect.arrayContaining(['argvPacked', 'finalTable']));   // the packed form is what is read
    const logs = join(h, 'jobs', 'big', 'logs');
    mkdirSync(logs);
    for (const [file, text] of [['5.attempt1.out', 'old 5\n'], ['5.attempt2.out', 'new 5\n'], ['2999.attempt1.out', 'task 2999\n']]) {
      writeFileSync(join(logs, file!), text!);
      writeFileSync(join(logs, `${file}.complete`), '');
    }
    for (const [ref, text] of [['big/5', 'new 5\n'], ['big/2999', 'task 2999\n']] as const) {
      const r = pilot(['logs', ref], h);
      expect(r.stdout, ref).toBe(text);
      expect(r.loaded).not.toContain('src/cli/main.ts');
    }
  });

  it('falls back to the full command when the log is not complete, a submission is pending, or options are given', () => {
    // the full command needs the cluster, which is not configured: its error proves it ran (and tried to connect)
    const cases: [string, string[]][] = [[home({ complete: false }), ['logs', 'done/1']], [home({ pending: true }), ['logs', 'done/1']], [home(), ['logs', 'done/1', '--tail', '1']]];
    for (const [h, args] of cases) {
      const r = pilot(args, h);
      expect(r.loaded, args.join(' ')).toContain('src/cli/main.ts');
      if (args.includes('--tail')) expect(r.stdout).toBe('line 2\n'); // complete: the full command needs no cluster either
    }
    // a wrong index or an unknown job: the full command's own errors
    expect(pilot(['logs', 'done/2'], home()).stderr).toContain("job 'done' has no task 2");
    expect(pilot(['logs', 'nope/1'], home()).status).toBe(2);
  });
});
