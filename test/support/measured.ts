// Runs the built CLI as a child and measures what a big output costs it: stdout is hashed as it arrives (never
// held), and the child's peak resident memory is read from /proc/<pid>/status while it runs.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pilot.js');

export interface MeasuredRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** stdout, only with `keep`. */
  stdout: string;
  bytes: number;
  sha256: string;
  /** Highest VmHWM (peak RSS) seen, in kB. */
  peakRssKb: number;
  ms: number;
  /** The child was killed after `killAfterMs`. */
  killed: boolean;
}

function peakKb(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;   // already gone
  }
}

export function pilotMeasured(args: string[], home: string, options: { keep?: boolean; killAfterMs?: number } = {}): Promise<MeasuredRun> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PILOT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let bytes = 0;
  let stderr = '';
  let peak = 0;
  let killed = false;
  child.stdout.on('data', (d: Buffer) => {
    hash.update(d);
    bytes += d.length;
    if (options.keep) kept.push(d);
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  // VmHWM only grows, so polling it misses at most a peak reached in the child's last 20 ms
  const poll = setInterval(() => { peak = Math.max(peak, peakKb(child.pid!)); }, 20);
  const killer = options.killAfterMs ? setTimeout(() => { killed = true; child.kill('SIGKILL'); }, options.killAfterMs) : undefined;
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(killer);
      resolve({ code, signal, stderr, stdout: Buffer.concat(kept).toString(), bytes, sha256: hash.digest('hex'), peakRssKb: peak, ms: Date.now() - t0, killed });
    });
  });
}
