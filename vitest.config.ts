import { defineConfig } from 'vitest/config';

// Two tiers. `unit` is pure and fast. `integration` runs against a REAL Slurm + OpenSSH test cluster that
// test/support/cluster-setup.ts starts with test/cluster/up.sh. PILOT_SKIP_CLUSTER=1 leaves the integration
// tier out (with a loud warning) on machines that cannot run the cluster; under CI it is never left out.
const skipCluster = process.env.PILOT_SKIP_CLUSTER === '1' && process.env.CI !== 'true';
if (skipCluster) {
  console.warn('\n!!! PILOT_SKIP_CLUSTER=1: the integration tier (real Slurm + sshd) is NOT run. Nothing about SSH or Slurm is tested. !!!\n');
}

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    // integration files mostly wait on Slurm and sshd, not on the CPU: 3 at once on 2 cores halves the wall
    // time (vitest's default on 2 cores is 1 file at a time). Projects of one groupOrder must agree on it.
    maxWorkers: 3,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // a submission the controller does not answer is tried again after these waits (1, 2, 4 s by default)
          env: { PILOT_SUBMIT_RETRY_MS: '5,5' },
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      ...(skipCluster ? [] : [{
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['./test/support/cluster-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // the cluster has 8 slots; files run in parallel but each test uses its own job names and PILOT_HOME
          maxConcurrency: 4,
          sequence: { groupOrder: 0 },
        },
      }, {
        // the Slurm flows again, with `lab` on the system ssh client (transport: openssh; see makeHome). The
        // local backend's files and the testbed check have nothing to do with the transport.
        test: {
          name: 'integration-openssh',
          include: ['test/integration/**/*.test.ts'],
          // the SSH files test logins and transports themselves (each picks its transport); cluster-cli checks
          // ssh2's own host-key handling (an openssh cluster's known_hosts belongs to ssh)
          exclude: ['test/integration/local-*.test.ts', 'test/integration/testbed.test.ts', 'test/integration/openssh.test.ts',
            'test/integration/ssh-*.test.ts', 'test/integration/cluster-cli.test.ts',
            // what sshd hands the login shell is the same string over both transports
            'test/integration/login-shells.test.ts',
            // engine logic over the same few commands, and slow (a real TIMEOUT): once, over ssh2, is enough
            'test/integration/retries.test.ts',
            // transport-independent (issue 13: arrayBase, sbatch scripts, libraries, argsFile): runs once
            'test/integration/programs.test.ts',
            'test/integration/collections.test.ts',
            'test/integration/sweep.test.ts',   // sweeps: arrays per resource set, nothing about the transport
            // results and report read files with the log reader every transport already runs in logs/why
            'test/integration/report.test.ts',
            // the task environment (work/, outputs, placeholders) does not depend on the transport
            'test/integration/task-env.test.ts',
            // hostile input is refused or carried the same whatever the transport; the one case where the
            // transport reads the file itself (a log swapped for a link) runs over both inside the file
            'test/integration/hostile.test.ts'],
          env: { PILOT_TEST_TRANSPORT: 'openssh' },
          globalSetup: ['./test/support/cluster-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxConcurrency: 4,
          sequence: { groupOrder: 0 },
        },
      }, {
        // reconfigures the cluster without accounting (ACCOUNTING=0), so it runs alone, after everything else
        test: {
          name: 'integration-noacct',
          include: ['test/integration-noacct/**/*.test.ts'],
          maxWorkers: 1,
          globalSetup: ['./test/support/cluster-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 1 },
        },
      }, {
        // stops sshd and slurmctld on purpose (and brings them back), so it runs alone, after everything else
        test: {
          name: 'integration-faults',
          include: ['test/integration-faults/**/*.test.ts'],
          maxWorkers: 1,
          globalSetup: ['./test/support/cluster-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 2 },
        },
      }]),
    ],
  },
});
