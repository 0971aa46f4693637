// Collections, analysis and resubmission with extra args on the real Slurm cluster (the scenario is shared with
// local-collections.test.ts: test/support/collections-scenario.ts). Runs once: nothing here depends on the transport.
import { it } from 'vitest';
import { collectionsScenario } from '../support/collections-scenario.js';

it('a failing lr is top risky; resubmit --extra-args reaches the failed tasks only; groups and history see both attempts (Slurm)', async () => {
  await collectionsScenario('lab');
});
