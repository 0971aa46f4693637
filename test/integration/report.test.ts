// `pilot results` and `pilot report --html` on the real Slurm cluster (the same scenario runs on the local
// backend in local-report.test.ts): result files fetched in one command, task times from sacct's Start/End, a
// second attempt on the timeline, and the page rendered by headless Chromium.
import { beforeAll, describe, it } from 'vitest';
import { chromium } from '../support/browser.js';
import { makeHome } from '../support/cluster.js';
import { reportScenario } from '../support/report-scenario.js';

describe('results and report on Slurm', () => {
  // Debian's Chromium, installed here when missing (apt-get as root, as the test bed installs its packages)
  beforeAll(() => { chromium(); }, 600_000);

  it('results in table, JSON and CSV; the HTML report opens in headless Chromium', async () => {
    await reportScenario(makeHome(), 'lab', 'report-lab');
  }, 240_000);
});
