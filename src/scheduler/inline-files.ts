/**
 * How a submission's few small files (job.sh, the args files; a resubmission's extra args) reach the job
 * folder: inside the command itself when they fit, else as a tar on its stdin.
 *
 * Why: stdin reaches the cluster a round trip after the command started there (ssh2 writes it once the server
 * has accepted the command), so a command that reads its files from stdin waits one network round trip for
 * them, and starts a `tar`. Written by the shell's printf from the command line, they cost neither. A command
 * line is one argument of the login shell's `-c`, which Linux limits to 128 KiB: past INLINE_MAX bytes (a job
 * of many tasks), or with a NUL byte no argument can hold, the tar on stdin it is. Inline files get the
 * default mode (job.sh is not executable then: sbatch reads it, nobody executes it in place).
 */
import { checkMemName, type MemFile } from '../bundle/mem-files.js';

/** Bytes of the whole command, under Linux's 128 KiB for one argument with room to spare. */
export const INLINE_MAX = 96 * 1024;

/**
 * The command, built by `build` with the files inline (`inlineFiles`) when it fits, else without them and
 * their tar as stdin. No files: no stdin.
 */
export async function inlineOrTar(files: readonly MemFile[], build: (inlineFiles?: { name: string; data: string }[]) => string): Promise<{ cmd: string; stdin?: Buffer }> {
  if (!files.length) return { cmd: build() };
  for (const f of files) checkMemName(f.name);
  const texts = files.map((f) => ({ name: f.name, data: typeof f.data === 'string' ? f.data : f.data.toString('utf8') }));
  const textual = files.every((f, i) => typeof f.data === 'string' || Buffer.from(texts[i]!.data, 'utf8').equals(f.data));
  if (textual && !texts.some((f) => f.data.includes('\0'))) {
    const cmd = build(texts);
    if (Buffer.byteLength(cmd, 'utf8') <= INLINE_MAX) return { cmd };
  }
  // node-tar is loaded only for this (a launch whose files fit in its command, the usual one, never needs it)
  const { memoryTar } = await import('../bundle/mem-tar.js');
  return { cmd: build(), stdin: memoryTar(files) };
}
