// Global setup of the integration tier: bring up the real test cluster (test/cluster/up.sh) and hand its
// connection facts to the tests. A second run while it is up costs ~1.5 s.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function labDir(): string {
  return process.env.LAB_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'pilot-test-cluster');
}

function cannotStart(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test cluster must be started as root (it installs Debian packages and starts sshd + Slurm daemons)';
  if (!existsSync('/usr/bin/apt-get') || !existsSync('/usr/bin/dpkg-query')) return 'the test cluster needs Debian/Ubuntu (apt-get)';
  return undefined;
}

export default function setup(project: TestProject): void {
  const why = cannotStart();
  if (why) {
    throw new Error(`${why}.\n  Run the tests as root on Debian 12 (packages: munge slurmctld slurmd slurm-client slurmdbd mariadb-server openssh-server, ` +
      `installed automatically), or set PILOT_SKIP_CLUSTER=1 to run only the unit tier (never in CI).`);
  }
  execFileSync('bash', [join(root, 'test/cluster/up.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const env = Object.fromEntries(
    readFileSync(join(labDir(), 'cluster.env'), 'utf8').split('\n').filter(Boolean).map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
  project.provide('cluster', env);
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: Record<string, string>;
  }
}
