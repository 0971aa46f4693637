// `pilot results` and `pilot report --html` on the local backend (the same scenario runs on real Slurm in
// report.test.ts): one row per completed task with its params, and a report that headless Chromium renders
// with its timeline, chart and escaped hostile text.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, it } from 'vitest';
import { chromium } from '../support/browser.js';
import { reportScenario } from '../support/report-scenario.js';

describe('results and report on local', () => {
  // Debian's Chromium, installed here when missing (apt-get as root, as the test bed installs its packages)
  beforeAll(() => { chromium(); }, 600_000);

  it('results in table, JSON and CSV; the HTML report opens in headless Chromium', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-home-'));
    writeFileSync(join(home, 'config.yaml'), 'clusters: {}\n');
    await reportScenario(home, 'local', 'report-local');
  }, 180_000);
});
