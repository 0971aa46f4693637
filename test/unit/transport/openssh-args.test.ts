// The pure half of the OpenSSH transport: argument lists (ours first, so they win), prompt modes, the read
// command and its header, and how OpenSSH's words become errors.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  connectError, controlArgs, controlName, describeTarget, execArgs, headerSplitter, kindStats, masterArgs, parseMasterPid,
  parseReadHeader, parseVerbose, promptEnv, promptMode, promptRequest, putCommand, readScript,
} from '../../../src/transport/openssh-args.js';
import { assertRegularFile } from '../../../src/transport/chunked-read.js';

const target = { destination: 'pilot@127.0.0.1', args: ['-p', '2222', '-i', '/k', '-o', 'StrictHostKeyChecking=yes'] };

describe('openssh arguments', () => {
  it('a master socket per (destination, arguments), 16 characters', () => {
    expect(controlName(target)).toMatch(/^[0-9a-f]{16}$/);
    expect(controlName(target)).toBe(controlName({ ...target, args: [...target.args] }));
    expect(controlName({ ...target, args: ['-p', '2222', '-i', '/other'] })).not.toBe(controlName(target));
    expect(describeTarget(target)).toBe('pilot@127.0.0.1:2222');
    expect(describeTarget({ destination: 'myalias', args: ['-F', '/cfg'] })).toBe('myalias');
  });

  it('exec: our ControlPath first (OpenSSH keeps the first value), no master, no prompt, no fallback login; the command is ONE word after --', () => {
    const args = execArgs(target, '/tmp/cm/x', 'echo "a b"; -rf');
    expect(args.slice(0, 2)).toEqual(['-o', 'ControlPath=/tmp/cm/x']);
    expect(args.slice(10, 16)).toEqual(['-o', 'ControlMaster=no', '-o', 'BatchMode=yes', '-o', 'ProxyCommand=false']);
    // a RemoteCommand or RequestTTY of the user's config would replace the command or mangle bytes through a pty
    expect(args).toEqual(expect.arrayContaining(['RequestTTY=no', 'RemoteCommand=none']));
    expect(args.slice(-3)).toEqual(['pilot@127.0.0.1', '--', 'echo "a b"; -rf']);
    expect(args).toEqual(expect.arrayContaining(target.args));
    // OpenSSH refuses -J with ProxyCommand: then a lost master is only found by its exit status
    expect(execArgs({ destination: 'h', args: ['-J', 'jump'] }, '/s', 'true')).not.toContain('ProxyCommand=false');
  });

  it('master: auto (a master started meanwhile by another pilot is reused), ControlPersist, BatchMode only when nobody can answer', () => {
    const batch = masterArgs(target, '/s', { kind: 'batch' }, 600);
    expect(batch.slice(0, 2)).toEqual(['-o', 'ControlPath=/s']);
    expect(batch.slice(10, 14)).toEqual(['-o', 'ControlMaster=auto', '-o', 'ControlPersist=600']);
    expect(batch).toContain('BatchMode=yes');
    expect(batch.slice(-3)).toEqual(['pilot@127.0.0.1', '--', 'true']);
    // defaults after the user's arguments: an explicit -o ConnectTimeout of theirs comes first and wins
    expect(batch.indexOf('ConnectTimeout=20')).toBeGreaterThan(batch.indexOf('StrictHostKeyChecking=yes'));
    expect(masterArgs(target, '/s', { kind: 'tty' }, 60)).not.toContain('BatchMode=yes');
    expect(controlArgs(target, '/s', 'check')).toEqual(['-O', 'check', '-o', 'ControlPath=/s', ...target.args, 'pilot@127.0.0.1']);
    expect(parseMasterPid('Master running (pid=4242)\r\n')).toBe(4242);
    expect(parseMasterPid('Control socket connect(/s): No such file or directory\r\n')).toBeUndefined();
  });
});

describe('openssh prompts', () => {
  it('callback, then $PILOT_ASKPASS, then $SSH_ASKPASS, then the terminal, else BatchMode', () => {
    expect(promptMode(true, { PILOT_ASKPASS: '/a' }, true)).toEqual({ kind: 'callback' });
    expect(promptMode(false, { PILOT_ASKPASS: '/a', SSH_ASKPASS: '/b' }, true)).toEqual({ kind: 'askpass', program: '/a', require: 'force' });
    expect(promptMode(false, { SSH_ASKPASS: '/b' }, true)).toEqual({ kind: 'askpass', program: '/b', require: 'prefer' });
    expect(promptMode(false, {}, true)).toEqual({ kind: 'tty' });
    expect(promptMode(false, {}, false)).toEqual({ kind: 'batch' });
  });

  it('the environment points ssh at the bridge (forced), the user program, or nothing', () => {
    const bridge = { program: '/d/askpass-1', socket: '/d/a-1', token: 't' };
    expect(promptEnv({ kind: 'callback' }, { PATH: '/bin' }, bridge)).toEqual({ PATH: '/bin', SSH_ASKPASS: '/d/askpass-1', SSH_ASKPASS_REQUIRE: 'force', PILOT_ASKPASS_SOCKET: '/d/a-1', PILOT_ASKPASS_TOKEN: 't' });
    expect(promptEnv({ kind: 'askpass', program: '/a', require: 'force' }, {})).toEqual({ SSH_ASKPASS: '/a', SSH_ASKPASS_REQUIRE: 'force' });
    expect(promptEnv({ kind: 'tty' }, { SSH_ASKPASS_REQUIRE: 'force' })).toEqual({});
  });

  it("OpenSSH's wording tells a passphrase from a password and a server question", () => {
    expect(promptRequest("Enter passphrase for key '/k': ", 'h')).toEqual({ kind: 'passphrase', message: "Enter passphrase for key '/k':", echo: false, hop: 'h' });
    expect(promptRequest("pilot@host's password: ", 'h').kind).toBe('password');
    expect(promptRequest('Verification code: ', 'h').kind).toBe('keyboard-interactive');
  });
});

describe('openssh errors', () => {
  it('refused host keys are HOST_KEY, other failures SSH; both quote OpenSSH and name the destination', () => {
    const unknown = connectError(target, 'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n', { kind: 'batch' });
    expect(unknown).toMatchObject({ code: 'HOST_KEY' });
    expect(unknown.message).toContain('pilot@127.0.0.1:2222');
    expect(unknown.message).toContain('Host key verification failed.');
    const changed = connectError(target, '@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.', { kind: 'tty' });
    expect(changed.message).toMatch(/does NOT match/);
    const denied = connectError(target, 'pilot@127.0.0.1: Permission denied (publickey).\r\n', { kind: 'batch' });
    expect(denied).toMatchObject({ code: 'SSH' });
    expect(denied.hint).toMatch(/No prompt could be shown/);
    expect(connectError(target, 'ssh: connect to host 127.0.0.1 port 2222: Connection refused', { kind: 'tty' }).message).toContain('Connection refused');
  });
});

describe('openssh host keys and test-ssh details', () => {
  it("the user's own askpass gets strict host-key checking BEFORE their options (first value wins), unless they chose accept-new", () => {
    const ask = { kind: 'askpass', program: '/a', require: 'prefer' } as const;
    const loose = { ...target, args: ['-o', 'StrictHostKeyChecking=ask'], hostKeyPolicy: 'ask' as const };
    const args = masterArgs(loose, '/tmp/cm/x', ask, 60);
    const strict = args.indexOf('StrictHostKeyChecking=yes');
    expect(strict).toBeGreaterThan(0);
    expect(strict).toBeLessThan(args.indexOf('StrictHostKeyChecking=ask'));
    expect(masterArgs({ ...loose, hostKeyPolicy: 'accept-new' }, '/tmp/cm/x', ask, 60)).not.toContain('StrictHostKeyChecking=yes');
    // our bridge refuses host-key questions itself (and keeps the fingerprint); the terminal is ssh's own question
    expect(masterArgs(loose, '/tmp/cm/x', { kind: 'callback' }, 60)).not.toContain('StrictHostKeyChecking=yes');
    expect(masterArgs(loose, '/tmp/cm/x', { kind: 'tty' }, 60)).not.toContain('StrictHostKeyChecking=yes');
    expect(masterArgs(target, '/tmp/cm/x', { kind: 'tty' }, 60, '/tmp/log')).toEqual(expect.arrayContaining(['-v', '-E', '/tmp/log']));
  });

  it('the fingerprints come from all of stderr (a changed key prints the new one mid-banner) and the hint is pilot trust', () => {
    const fp = `SHA256:${'b'.repeat(43)}`;
    const banner = ['@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@', 'The fingerprint for the ED25519 key sent by the remote host is', `${fp}.`,
      'Please contact your system administrator.', 'Add correct host key in /kh to get rid of this message.', 'Offending ED25519 key in /kh:1',
      '  remove with:', '  ssh-keygen -f "/kh" -R "[h]:22"', 'Host key for [h]:22 has changed and you have requested strict checking.', 'Host key verification failed.'].join('\n');
    const changed = connectError(target, banner, { kind: 'batch' }, { clusterName: 'hpc' });
    expect(changed.message).toContain(fp);
    expect(changed.hint).toContain('pilot trust hpc');
    const unknown = connectError(target, 'Host key verification failed.', { kind: 'callback' }, { fingerprint: fp, clusterName: 'hpc' });
    expect(unknown.message).toMatch(new RegExp(`not a known host \\(host key ${fp}\\)`));
    expect(unknown.hint).toContain('`pilot trust hpc`');
    expect(unknown.hint).not.toMatch(/keyscan/);
  });

  it('ssh -v: one hop per "Authenticating to", with the verified host key and how it logged in', () => {
    const jump = ["debug1: Authenticating to 127.0.0.1:2224 as 'pilot'", 'debug1: Server host key: ssh-ed25519 SHA256:J',
      'debug1: Server accepts key: /k1 ED25519 SHA256:x explicit', 'Authenticated to 127.0.0.1 ([127.0.0.1]:2224) using "publickey".'];
    const target2 = ["debug1: Authenticating to otp:2223 as 'me'", 'debug1: Server host key: ssh-ed25519 SHA256:T',
      'debug1: Server accepts key: /k2 ED25519 SHA256:y explicit', 'Authenticated using "publickey" with partial success.',
      'Authenticated to otp ([127.0.0.1]:2223) using "keyboard-interactive".'];
    expect(parseVerbose([...jump, ...target2].join('\r\n'))).toEqual([
      { hop: 'pilot@127.0.0.1:2224', hostKey: 'SHA256:J', auth: 'key /k1' },
      { hop: 'me@otp:2223', hostKey: 'SHA256:T', auth: 'key /k2, keyboard-interactive' },
    ]);
    expect(parseVerbose('debug1: Reading configuration data /etc/ssh/ssh_config')).toEqual([]);
  });
});

describe('openssh reads', () => {
  it('the header: missing, not a file (refused with the same words as SFTP), or the size', () => {
    expect(parseReadHeader('N')).toEqual({ kind: 'missing' });
    expect(parseReadHeader('F 1234')).toEqual({ kind: 'file', size: 1234 });
    expect(parseReadHeader('K p')).toEqual({ kind: 'other', letter: 'p' });
    expect(() => parseReadHeader('Welcome to the cluster!')).toThrow(/unexpected answer/);
    expect(() => assertRegularFile('/x', kindStats('p'), ' on the cluster')).toThrow(/it is a FIFO/);
    expect(() => assertRegularFile('/x', kindStats('l'), ' on the cluster')).toThrow(/symbolic link/);
  });

  it('splits the header from the bytes whatever the chunking', () => {
    const data = Buffer.concat([Buffer.from('F 6\n'), Buffer.from([0, 10, 255, 10, 1, 2])]);
    for (let cut = 0; cut <= data.length; cut++) {
      const got: Buffer[] = [];
      let header = '';
      const feed = headerSplitter((h) => { header = h; }, (d) => { got.push(d); });
      feed(data.subarray(0, cut));
      feed(data.subarray(cut));
      expect(header).toBe('F 6');
      expect(Buffer.concat(got)).toEqual(data.subarray(4));
    }
  });

  it('the read script (run here by sh) refuses before opening, prints the size, and streams start..size', () => {
    const dir = mkdtempSync(join(tmpdir(), "pilot-read-'q "));
    const file = join(dir, "a 'b'.txt");
    writeFileSync(file, 'hello world');
    symlinkSync(file, join(dir, 'link'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const run = (p: string, start: number) => execFileSync('sh', ['-c', readScript(p, start)], { timeout: 5000 }).toString();
    expect(run(file, 0)).toBe('F 11\nhello world');
    expect(run(file, 6)).toBe('F 11\nworld');
    expect(run(file, 50)).toBe('F 11\n');
    expect(run(join(dir, 'nope'), 0)).toBe('N\n');
    expect(run(join(dir, 'link'), 0)).toBe('K l\n');
    expect(run(join(dir, 'fifo'), 0)).toBe('K p\n');
    expect(run(dir, 0)).toBe('K d\n');
    expect(run('/dev/null', 0)).toBe('K c\n');
    const out = join(dir, "up 'x'");
    execFileSync('sh', ['-c', putCommand(out)], { input: 'data' });
    expect(run(out, 0)).toBe('F 4\ndata');
  });
});
