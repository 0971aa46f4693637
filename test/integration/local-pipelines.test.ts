// Notifications of a collection on the built-in `local` cluster, through the CLI: collection_final is sent once,
// by the wait that sees the last job of the collection end (not by the first job's), and never again; the
// payload sums the counts and names each failed task as job/index; the launch warns when it can never be sent.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';

const SRC = join(import.meta.dirname, '..', 'fixtures', 'pipeline');

describe('collection_final on the local cluster', () => {
  it('is sent once, when the last job of the collection is final; never for the default collection', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-local-'));
    const dir = mkdtempSync(join(tmpdir(), 'pilot-pipe-'));
    const events = join(dir, 'events'), payloads = join(dir, 'payloads');
    const command = `echo "$PILOT_EVENT $PILOT_JOB $PILOT_COLLECTION" >> '${events}'; { cat; echo; } >> '${payloads}'`;
    const file = (name: string, args: string[], extra: string[] = []) => {
      const f = join(dir, `${name}.yaml`);
      writeFileSync(f, [`jobName: ${name}`, 'cluster: local', `srcDir: ${JSON.stringify(SRC)}`, 'entrypoint: nap.sh', `args: ${JSON.stringify(args)}`,
        `notify: { on: [collection_final], command: ${JSON.stringify(command)} }`, ...extra].join('\n'));
      return f;
    };
    expect((await pilot(['launch', file('cf-a', ['0']), '--collection', 'exp'], home)).code).toBe(0);
    expect((await pilot(['launch', file('cf-b', ['4', '4 fail'], ['collection: exp'])], home)).code).toBe(0);
    // a is final, b still runs: nothing yet
    expect((await pilot(['wait', 'cf-a', '--no-progress'], home)).code).toBe(0);
    expect(readFileSync(events, { encoding: 'utf8', flag: 'a+' })).toBe('');
    expect((await pilot(['wait', 'cf-b', '--no-progress'], home)).code).toBe(1);
    expect(readFileSync(events, 'utf8')).toBe('collection_final cf-b exp\n');
    // another look at both sends nothing more
    await pilot(['watch', '--once', 'cf-a', 'cf-b'], home);
    expect(readFileSync(events, 'utf8')).toBe('collection_final cf-b exp\n');
    const payload = JSON.parse(readFileSync(payloads, 'utf8'));
    expect(payload).toMatchObject({ event: 'collection_final', collection: 'exp', jobs: ['cf-a', 'cf-b'], tasks: 3, counts: { COMPLETED: 2, FAILED: 1 },
      failed: [{ task: 'cf-b/2', job: 'cf-b', index: 2, failureClass: 'EXIT', whyClass: 'NONZERO_EXIT', exitCode: 2, lastError: 'broke after 4 s' }] });
    const stored = JSON.parse(readFileSync(join(home, 'collections', 'exp.json'), 'utf8'));
    expect(stored.notified.collection_final.jobs).toEqual(['cf-a', 'cf-b']);

    // no collection named: the launch says collection_final will never be sent, and names what to set
    const dry = await pilot(['launch', file('cf-d', ['0'], ['onOutOfMemory: { memFactor: 2 }']), '--dry-run'], home);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/collection_final is never sent for the 'default' collection/);
    expect(dry.stderr).toMatch(/memFactor has no memory to scale[\s\S]*set mem:/);
  });
});
