// The status command's `tails` sections, run by a real sh on this machine against hostile log folders: only
// regular files are read (a FIFO would hang the command, a link could lead to /dev/zero), only their last bytes,
// and what comes back can neither break the framing nor reach the terminal as control characters.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import { buildStatusCommand, parseStatusOutput } from '../../src/scheduler/slurm/status.js';

function jobDir(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot tails \'$(x)\' '));   // a folder name no shell may split or run
  mkdirSync(join(dir, 'logs'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, 'logs', name), body);
  return dir;
}

/** Runs the command line as the remote login shell would (`sh -c '…'`), with a deadline. */
const run = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 20_000 });

describe('status command: the end of stderr files', () => {
  it('reads the last line of each file, in the same command as the queries, and only files asked for', () => {
    const dir = jobDir({
      '42_1.err': 'Traceback (most recent call last):\n  File "train.py"\nboom: something broke\n',
      '42_2.err': '',
      '42_4.err': `${'x'.repeat(100_000)}\nlast words\n`,
      '42_5.err': 'not asked for\n',
    });
    const cmd = buildStatusCommand([], { accounting: true, tails: [{ jobDir: dir, keys: ['42_1', '42_2', '42_3', '42_4'] }] });
    expect(cmd).not.toContain('sacct');
    const out = parseStatusOutput(run(cmd));
    expect(out.tails).toEqual(new Map([['42_1', 'boom: something broke'], ['42_2', ''], ['42_3', ''], ['42_4', 'last words']]));
    // with the state queries, the files are read after them, in the same command line
    const both = buildStatusCommand(['42'], { accounting: true, tails: [{ jobDir: dir, keys: ['42_1'] }] });
    expect(both.indexOf('s tails t')).toBeGreaterThan(both.indexOf('s squeue'));
  });

  it('never opens a FIFO, a device or a link, and bounds a huge last line', () => {
    const dir = jobDir({ '7_3.err': `${'y'.repeat(5_000_000)}` });
    execFileSync('mkfifo', [join(dir, 'logs', '7_1.err')]);
    symlinkSync('/dev/zero', join(dir, 'logs', '7_2.err'));
    writeFileSync(join(dir, 'real'), 'secret\n');
    symlinkSync(join(dir, 'real'), join(dir, 'logs', '7_4.err'));
    const started = Date.now();
    const stdout = run(buildStatusCommand([], { accounting: true, tails: [{ jobDir: dir, keys: ['7_1', '7_2', '7_3', '7_4'] }] }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stdout.length).toBeLessThan(2000);
    const tails = parseStatusOutput(stdout).tails!;
    expect(tails.get('7_1')).toBe('');
    expect(tails.get('7_2')).toBe('');
    expect(tails.get('7_4')).toBe('');
    expect(tails.get('7_3')).toBe(`…${'y'.repeat(299)}`.slice(0, 299) + '…');
  });

  it('carries any bytes (markers, escapes, invalid utf8) without breaking the framing, then cleans them', () => {
    const hostile = Buffer.concat([Buffer.from('@@pilot:end tails rc=0\n@@pilot:begin sacct\n42_9\n\x1b[31mred\x1b[0m \x1b]0;owned\x07 '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]);
    const dir = jobDir({ '42_1.err': hostile, '42_2.err': 'fine\n' });
    const out = parseStatusOutput(run(buildStatusCommand([], { accounting: true, tails: [{ jobDir: dir, keys: ['42_1', '42_2'] }] })));
    expect([...out.tails!.keys()]).toEqual(['42_1', '42_2']);
    expect(out.tails!.get('42_1')).toBe('[31mred[0m ]0;owned \ufffd\ufffd');
    expect(out.tails!.get('42_2')).toBe('fine');
    expect(out.sacct).toBeUndefined();
  });

  it('trusts no cut-off section, and refuses keys that are not <job id>_<index>', () => {
    const cut = '@@pilot:begin tails\n42_1\nYm9vbQo=\n';
    expect(parseStatusOutput(cut).tails).toBeUndefined();
    expect(parseStatusOutput(`${cut}@@pilot:end tails rc=0\n`).tails).toEqual(new Map([['42_1', 'boom']]));
    expect(() => buildStatusCommand([], { accounting: true, tails: [{ jobDir: '/x', keys: ['42_1; rm -rf ~'] }] })).toThrow(PilotError);
    expect(() => buildStatusCommand([], { accounting: true })).toThrow(PilotError);
  });
});
