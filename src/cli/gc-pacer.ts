/**
 * Keeps the CLI's memory flat while it streams a big log. Every chunk that passes through (the socket read,
 * ssh2's decrypted packet, the SFTP reply, our read buffer) is a separate ArrayBuffer, freed only when V8
 * collects it, and V8 waits for tens of MB of such external memory before it does: streaming 600 MB peaked
 * ~30 MB above the CLI's resting size. A young-generation collection every few MB moved (well under 1 ms
 * each) keeps that to a few MB. The `gc` function is exposed the way jest-leak-detector does it (the flag only
 * affects contexts created afterwards), and the flag is turned off again at once: V8 refuses compiled code
 * cached under other flags, and the CLI's code cache (code-cache.ts) is saved after the command ran. This
 * lives in the CLI, never in the SDK, which must not touch the V8 flags of its host program.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'minor' | 'major' }) => void;

/** Returns a callback taking the running total of bytes moved; it collects every `everyBytes`. */
export function gcPacer(everyBytes = 2 * 1024 * 1024): (totalBytes: number) => void {
  let gc: Gc | undefined;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  } catch {
    gc = undefined;   // not essential: without it V8 still collects, only later
  } finally {
    if (!process.execArgv.includes('--expose-gc')) setFlagsFromString('--no-expose-gc');
  }
  let next = everyBytes;
  return (total) => {
    if (!gc || total < next) return;
    next = total + everyBytes;
    gc({ type: 'minor' });
  };
}
