// Collections, analysis and resubmission with extra args on the local backend (same scenario as collections.test.ts).
import { it } from 'vitest';
import { collectionsScenario } from '../support/collections-scenario.js';

it('a failing lr is top risky; resubmit --extra-args reaches the failed tasks only; groups and history see both attempts (local)', async () => {
  await collectionsScenario('local');
});
