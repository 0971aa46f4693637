import { execFile, spawn } from 'node:child_process';
import { quoteArgv } from '../../src/util/quote.js';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pilot.js');

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs the built `pilot` CLI (dist/) as a user would, with its own PILOT_HOME. */
export function pilot(args: string[], home: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, PILOT_HOME: home, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts `pilot launch YAML` and SIGKILLs it after `delayMs`, as a crash or a `kill -9` would; says whether it
 * had already ended by itself (then nothing was cut short).
 */
export async function launchKilledAfter(yaml: string, home: string, delayMs: number): Promise<{ finishedFirst: boolean }> {
  const child = spawn(process.execPath, [BIN, 'launch', yaml], { env: { ...process.env, PILOT_HOME: home }, stdio: 'ignore' });
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  await new Promise((r) => setTimeout(r, delayMs));
  const finishedFirst = child.exitCode !== null;
  child.kill('SIGKILL');
  await closed;
  return { finishedFirst };
}

/**
 * Runs `pilot` on a real pseudo-terminal (util-linux `script`), answering each question when its text
 * appears: how a user at a terminal sees prompts (hidden input, y/n questions).
 */
export function pilotOnTty(args: string[], home: string, answers: { when: RegExp; say: string }[], env: Record<string, string> = {}): Promise<CliResult> {
  const command = quoteArgv([process.execPath, BIN, ...args]);
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, PILOT_HOME: home, ...env } });
    let out = '';
    const pending = [...answers];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      while (pending.length && pending[0]!.when.test(out)) child.stdin.write(`${pending.shift()!.say}\r`);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout: out.replace(/\r\n/g, '\n'), stderr: '' });
    });
  });
}
