/**
 * Is the process that wrote a pid file still there? Used by locks, name reservations and the local backend:
 * anything left behind by a process that was killed must be recognised as such and never block for ever.
 */
import { existsSync, readFileSync } from 'node:fs';
import { uptime } from 'node:os';

/**
 * Identifies this boot of the machine, so that a pid recorded before a reboot is never taken for a live
 * process. Linux has a boot id; elsewhere the boot time (to the minute, compared with slack) stands in.
 */
export function bootMark(): string {
  // read once: no process outlives the boot it started in, and every owner file and lock names it
  boot ??= readBootMark();
  return boot;
}

let boot: string | undefined;

function readBootMark(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `t:${Math.round(Date.now() / 1000 - uptime())}`;
  }
}

export function sameBoot(mark: string): boolean {
  const now = bootMark();
  if (mark.startsWith('t:') && now.startsWith('t:')) return Math.abs(Number(mark.slice(2)) - Number(now.slice(2))) < 120;
  return mark === now;
}

/**
 * Whether `pid` is a live (non-zombie) process. Where /proc exists, `argvHas` words must also appear in its
 * command line, which guards against the pid having been reused by an unrelated process.
 */
export function processAlive(pid: number, argvHas: string[] = []): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!existsSync('/proc/self/stat')) return true;
  try {
    // field 3 of /proc/<pid>/stat is the state; the name before it is in parentheses and may hold spaces
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argvHas.every((w) => argv.includes(w));
  } catch {
    return false; // it exited between the calls
  }
}

/** `<pid> <boot>`: what an owner file holds. */
export function ownerMark(): string {
  return `${process.pid} ${bootMark()}\n`;
}

/** Reads an owner file's text: alive, dead, or unknown (empty or unreadable: the writer may be mid-write). */
export function ownerState(text: string | undefined): 'alive' | 'dead' | 'unknown' {
  const [pidText, boot] = (text ?? '').trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return 'unknown';
  if (boot && !sameBoot(boot)) return 'dead';
  return processAlive(pid) ? 'alive' : 'dead';
}
