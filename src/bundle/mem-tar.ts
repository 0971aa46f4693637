/**
 * A tiny in-memory tar of a few small files (a job's script and args files), sent as the stdin of the
 * submit command so that writing them costs no extra round trip. Plain names only (no folders, < 100 bytes).
 */
import { Header } from 'tar';
import { checkMemName, type MemFile } from './mem-files.js';

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
