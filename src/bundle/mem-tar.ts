/**
 * A tiny in-memory tar of a few small files (a job's script and args files), sent as the stdin of the
 * submit command so that writing them costs no extra round trip. Plain names only (no folders, < 100 bytes).
 */
import { Header } from 'tar';
import { PilotError } from '../model/errors.js';

export interface MemFile {
  name: string;
  data: Buffer | string;
  mode?: number;
}

/** Throws unless `name` is a plain file name (no folder, no `..` alone, < 100 bytes): all such files may be. */
export function checkMemName(name: string): void {
  if (!/^[A-Za-z0-9._-]{1,99}$/.test(name) || /^\.\.?$/.test(name)) throw new PilotError('INTERNAL', `memoryTar: unsupported name ${name}`);
}

export function memoryTar(files: readonly MemFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    checkMemName(f.name);
    const data = typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data;
    const header = new Header({ path: f.name, mode: f.mode ?? 0o644, size: data.length, type: 'File', mtime: new Date(0), uid: 0, gid: 0 });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
