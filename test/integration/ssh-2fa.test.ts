// Key + one-time password (the 2FA sshd on 2223, pam_oath): every command logs in ONCE, however much it does,
// so a 2FA user answers one prompt per command. Prompts are counted by the SDK callback and by the askpass
// helper's log. The OTP server is held for the whole file (pam_oath accepts each code once).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import type { PromptRequest } from '../../src/transport/types.js';
import { pilot, pilotOnTty } from '../support/cli.js';
import { holdOtpServer, lab, otpCode, resetOtpState } from '../support/ssh-lab.js';

const SRC = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');
const OTP_PROMPT = /One-time password/i;

/** A PILOT_HOME whose cluster `otp` is the 2FA sshd (the same machine, so Slurm is there too). */
function otpHome(extra: string[] = []): string {
  const L = lab();
  const home = mkdtempSync(join(tmpdir(), 'pilot-home-'));
  // a known_hosts of its own: the openssh transport names its master socket after the options, so no test
  // finds another test's master still logged in
  const knownHosts = join(home, 'known_hosts');
  writeFileSync(knownHosts, readFileSync(L.knownHosts));
  writeFileSync(join(home, 'config.yaml'), [
    'clusters:',
    '  otp:',
    `    host: ${L.otpHost}`,
    `    port: ${L.otpPort}`,
    `    user: ${L.user}`,
    `    identityFile: ${L.key}`,
    `    knownHosts: ${knownHosts}`,
    `    remoteDir: ~/pilot-tests/${home.split('/').pop()}`,
    '    partition: debug',
    ...extra,
  ].join('\n') + '\n');
  return home;
}

function jobFile(dir: string, name: string): string {
  writeFileSync(join(dir, 'job.yaml'), [`jobName: ${name}`, 'cluster: otp', `srcDir: ${SRC}`, 'entrypoint: echo.sh', 'args: ["a", "b"]', 'time: "0:05:00"'].join('\n') + '\n');
  return join(dir, 'job.yaml');
}

describe.sequential('one-time passwords: one prompt per command', () => {
  let release: () => void;
  beforeAll(async () => { release = await holdOtpServer(); }, 11 * 60_000);
  afterAll(() => release?.());

  it('SDK: launch, wait and logs on one wrapper ask the callback exactly once', async () => {
    resetOtpState();
    const asked: PromptRequest[] = [];
    const p = new SlurmWrapper({ home: otpHome(), prompt: async (q) => { asked.push(q); return otpCode(); } });
    try {
      const job = await p.scheduleJobs({ jobName: 'otp-sdk', cluster: 'otp', srcDir: SRC, entrypoint: 'echo.sh', args: ['x', 'y'], time: '0:05:00' });
      const done = await p.wait(job.name, { timeoutMs: 120_000 });
      expect(done.tasks.map((t) => t.state)).toEqual(['COMPLETED', 'COMPLETED']);
      expect((await p.logs(`${job.name}/2`)).stdout).toContain('task=2');
      const [c] = await p.connections();
      expect(c).toMatchObject({ cluster: 'otp', opened: 1 });
      expect(c!.stats!.prompts).toBe(1);
    } finally {
      await p.close();
    }
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ kind: 'keyboard-interactive', echo: false, hop: `${lab().user}@${lab().otpHost}:${lab().otpPort}` });
    // an invalid job is refused without a question, although its launch started connecting at once
    const q = new SlurmWrapper({ home: otpHome(), prompt: async (x) => { asked.push(x); return otpCode(); } });
    const refused = await q.scheduleJobs({ jobName: 'otp-bad', cluster: 'otp', srcDir: SRC, entrypoint: 'echo.sh', maxConcurrent: -1 }).then(() => null, (e: unknown) => e);
    await q.close();
    expect(refused).toMatchObject({ exitCode: 2 });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message).toMatch(OTP_PROMPT);
  });

  it('CLI: `launch --wait`, `logs` and `test-ssh` each ask exactly one prompt; `status` of a finished job none (PILOT_ASKPASS)', async () => {
    const home = otpHome();
    const log = join(mkdtempSync(join(tmpdir(), 'pilot-askpass-')), 'prompts.log');
    const env = { PILOT_ASKPASS: lab().askpassOtp, PILOT_TEST_ASKPASS_LOG: log };
    const prompts = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

    // the launch connects while it validates the job, but a job that is not valid is refused before anyone is
    // asked for a code
    const badFile = jobFile(mkdtempSync(join(tmpdir(), 'pilot-otp-')), 'otp-bad');
    writeFileSync(badFile, `${readFileSync(badFile, 'utf8')}maxConcurrent: lots\n`);
    const bad = await pilot(['launch', badFile], home, env);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/maxConcurrent/);
    expect(existsSync(log) ? prompts() : []).toEqual([]);

    resetOtpState();
    const launched = await pilot(['launch', jobFile(mkdtempSync(join(tmpdir(), 'pilot-otp-')), 'otp-cli'), '--wait', '--verbose'], home, env);
    expect(launched.code, launched.stderr).toBe(0);
    expect(prompts()).toHaveLength(1);
    expect(prompts()[0]).toMatch(OTP_PROMPT);
    expect(launched.stderr).toMatch(/verbose: otp: 1 connection, 1 prompt, \d+ remote commands/);

    resetOtpState();
    const logs = await pilot(['logs', 'otp-cli/1'], home, env);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('task=1');
    expect(prompts()).toHaveLength(2);

    // the job is over: its states are known here, nothing to log in for
    const status = await pilot(['status', 'otp-cli', '--json'], home, env);
    expect(status.code, status.stderr).toBe(0);
    expect(prompts()).toHaveLength(2);

    resetOtpState();
    const tested = await pilot(['test-ssh', 'otp'], home, env);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/login: key \S+ \+ keyboard-interactive  /);
    expect(tested.stdout).toMatch(/prompts +1/);
    expect(prompts()).toHaveLength(3);
  });

  it('a wrong code fails with what the server wanted and what was tried; no prompt source fails at once', async () => {
    const home = otpHome();
    resetOtpState();
    const wrong = await pilot(['test-ssh', 'otp'], home, { PILOT_ASKPASS: lab().askpassEcho, ASKPASS_ANSWER: '000000' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/authentication to pilot@127\.0\.0\.1:2223 failed: the server accepts .*keyboard-interactive.*; pilot tried key .*, keyboard-interactive/);

    const started = Date.now();
    const none = await pilot(['status'], home, { PILOT_ASKPASS: '', SSH_ASKPASS: '' });
    // no job yet: status needs no connection; test-ssh does
    expect(none.code).toBe(0);
    const nobody = await pilot(['test-ssh', 'otp'], home, { PILOT_ASKPASS: '', SSH_ASKPASS: '' });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/asks "One-time password.*" \(keyboard-interactive\), but there is no terminal/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('on a terminal, asks the code itself (not echoed), once', async () => {
    const home = otpHome();
    resetOtpState();
    const code = otpCode();
    const r = await pilotOnTty(['test-ssh', 'otp'], home, [{ when: OTP_PROMPT, say: code }], { PILOT_ASKPASS: '', SSH_ASKPASS: '' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.match(/One-time password/g)).toHaveLength(1);
    expect(r.stdout).not.toContain(code);
    expect(r.stdout).toMatch(/prompts +1/);
  });

  it('openssh transport: the master logs in once; the next command within ControlPersist asks nothing', async () => {
    const home = otpHome(['    transport: openssh']);
    const log = join(mkdtempSync(join(tmpdir(), 'pilot-askpass-')), 'prompts.log');
    // the master goes away by itself 20 s after the last command
    const env = { PILOT_ASKPASS: lab().askpassOtp, PILOT_TEST_ASKPASS_LOG: log, PILOT_CONTROL_PERSIST: '20' };
    const prompts = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
    resetOtpState();
    const launched = await pilot(['launch', jobFile(mkdtempSync(join(tmpdir(), 'pilot-otp-')), 'otp-master'), '--wait', '--verbose'], home, env);
    expect(launched.code, launched.stderr).toBe(0);
    expect(prompts()).toHaveLength(1);
    expect(launched.stderr).toMatch(/verbose: otp: 1 connection, 1 prompt,/);
    expect(prompts()[0]).toMatch(OTP_PROMPT);
    const logs = await pilot(['logs', 'otp-master/2', '--verbose'], home, env);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stderr).toMatch(/verbose: otp: 1 connection, 0 prompts,/);
    expect(logs.stdout).toContain('task=2');
    const tested = await pilot(['test-ssh', 'otp'], home, env);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/\(openssh\)/);
    expect(prompts()).toHaveLength(1);
  });
});
