/** `pilot wait NAME`: live progress on a TTY (bar + counts), plain lines otherwise. */
import type { SlurmWrapper } from '../../engine/wrapper.js';
import { printJson, withWrapper } from '../common.js';
import { renderProgress, renderStatus } from '../render.js';
import { statusJson } from './status.js';

export async function waitAndReport(pilot: SlurmWrapper, name: string, opts: { timeout?: number; json: boolean }): Promise<number> {
  const tty = process.stderr.isTTY;
  let lastLine = '';
  const final = await pilot.wait(name, {
    timeoutMs: opts.timeout === undefined ? undefined : opts.timeout * 1000,
    onProgress: (s) => {
      const line = renderProgress(s);
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (line !== lastLine) process.stderr.write(`${line}\n`);
      lastLine = line;
    },
  });
  if (tty) process.stderr.write('\n');
  if (opts.json) printJson(statusJson(final));
  else process.stdout.write(renderStatus(final) + '\n');
  return 0;
}

export async function run(name: string, opts: { timeout?: number; json?: boolean }): Promise<number> {
  return withWrapper((pilot) => waitAndReport(pilot, name, { timeout: opts.timeout, json: Boolean(opts.json) }));
}
