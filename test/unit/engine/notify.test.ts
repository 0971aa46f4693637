// The `command` form of notify: the user's command runs through sh, the payload on its stdin (never in the
// command line), the event and job in PILOT_EVENT / PILOT_JOB; a failing command is a delivery error.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deliver } from '../../../src/engine/notify.js';
import { quote } from '../../../src/util/quote.js';

describe('notify command', () => {
  it('gets the payload on stdin and the event in PILOT_EVENT; a non-zero exit is an error naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-notify-'));
    const out = join(dir, 'got');
    const body = JSON.stringify({ event: 'job_failed', job: "o'brien; rm -rf /", counts: { FAILED: 1 } });
    await deliver({ on: ['job_failed'], command: `{ echo "$PILOT_EVENT $PILOT_JOB"; cat; } > ${quote(out)}` }, body, 'job_failed', 'sweep');
    expect(readFileSync(out, 'utf8')).toBe(`job_failed sweep\n${body}`);
    await expect(deliver({ on: ['job_end'], command: 'echo nope >&2; exit 3' }, body, 'job_end', 'sweep')).rejects.toThrow(/exited 3: nope/);
  });
});
