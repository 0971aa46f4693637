// sshd runs every remote command with the user's login shell (`$SHELL -c CMD`). Many sites still give csh or
// tcsh, which refuse a newline inside single quotes and expand `!` even there: every command pilot sends goes
// through shScript (src/util/quote.ts), which must reach sh unchanged whatever the login shell. The test bed has
// a second user with the same key and tcsh as its login shell (test/cluster/up.sh).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { directHop } from '../../src/model/cluster.js';
import { connectSsh } from '../../src/transport/ssh.js';
import { shScript } from '../../src/util/quote.js';
import { cluster, makeHome } from '../support/cluster.js';

const tcshUser = () => inject('cluster').PILOT_TEST_TCSH_USER!;

/** Scripts with what login shells treat specially: newlines, `!`, quotes, backslashes (and escapes printf knows). */
const SCRIPTS = [
  'echo plain',
  "printf '%s|' 'it'\\''s' \"a!b\" '!!' 'x\\0041y' 'back\\\\slash' '\\n' '%b' '$HOME'; echo",
  'if [ ! -d / ]; then echo no; else echo "yes: $#"; fi\nfor i in 1 2; do\n  printf "%s\\n" "line $i"\ndone',
  "v='two\nlines'; printf '[%s]' \"$v\"; printf '\\n'",
  "printf '%s' \"$0\" | wc -c | tr -d ' '; printf 'tail\\n\\n'",
];

async function runAs(user: string, scripts: readonly string[]): Promise<string[]> {
  const c = cluster();
  const ssh = await connectSsh({ jumps: [], target: directHop({ host: c.host, port: c.port, user, identityFiles: [c.key], knownHostsFiles: [c.knownHosts] }) });
  try {
    const out: string[] = [];
    for (const s of scripts) {
      const r = await ssh.exec(shScript(s));
      expect(r.stderr, s).toBe('');
      out.push(r.stdout);
    }
    return out;
  } finally {
    await ssh.close();
  }
}

describe('login shells', () => {
  it('every script reaches sh unchanged through tcsh and bash login shells, as `sh -c SCRIPT` runs it here', async () => {
    const login = await runAs(tcshUser(), ['echo "$SHELL"']);
    expect(login[0]!.trim()).toMatch(/tcsh$/);   // the bed's second user really logs in with tcsh
    const here = SCRIPTS.map((s) => spawnSync('sh', ['-c', s], { encoding: 'utf8' }).stdout);
    expect(here[1]).toBe("it's|a!b|!!|x\\0041y|back\\\\slash|\\n|%b|$HOME|\n");
    expect(await runAs(tcshUser(), SCRIPTS)).toEqual(here);
    expect(await runAs(cluster().user, SCRIPTS)).toEqual(here);
  });

  it('launch, wait, status and logs work for a user whose login shell is tcsh, with exact argv', async () => {
    const home = makeHome();
    const config = join(home, 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^ {4}user: .*$/m, `    user: ${tcshUser()}`));
    const pilot = new SlurmWrapper({ home });
    const args = [['a!b', "it's", 'back\\slash'], ['two\nlines', '$HOME', '!!']];
    try {
      const job = await pilot.scheduleJobs({ jobName: 'tcsh-login', cluster: 'lab', srcDir: join(import.meta.dirname, '..', 'fixtures', 'echo-argv'), entrypoint: 'echo.sh', args });
      expect(job.remoteDir).toContain(`/home/${tcshUser()}/`);
      expect((await pilot.wait(job.name, { minIntervalMs: 300, maxIntervalMs: 1000, timeoutMs: 120_000 })).counts).toEqual({ COMPLETED: 2 });
      for (const [i, words] of args.entries()) {
        const out = (await pilot.logs(`${job.name}/${i + 1}`)).stdout;
        const b64 = /^argv=(\S*)$/m.exec(out)?.[1];
        expect(Buffer.from(b64 ?? '', 'base64').toString('utf8').split('\0').slice(0, -1), out).toEqual(words);
      }
    } finally {
      await pilot.close();
    }
  });
});
