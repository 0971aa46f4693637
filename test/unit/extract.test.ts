// Links in untrusted archives (`pilot download` of a job's outputs/): crafted chains whose text stays
// inside the download folder but whose physical resolution leaves it must never be created.
import { execFileSync } from 'node:child_process';
import { link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { extractBundle, safeExtractStream, unsafeEntryReason } from '../../src/bundle/extract.js';
import { LocalBackend } from '../../src/scheduler/local/backend.js';
import type { JobRecord } from '../../src/model/record.js';

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pilot-extract-test-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

type Entry = [path: string, type: 'File' | 'Directory' | 'SymbolicLink' | 'Link', bodyOrTarget?: string];

/** A plain tar built header by header, the way an attacker would (node-tar's Header, as mem-tar.ts). */
function craftTar(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, type, arg = ''] of entries) {
    const isLink = type === 'SymbolicLink' || type === 'Link';
    const data = Buffer.from(isLink ? '' : arg);
    const linkpath = isLink ? arg : '';
    const h = Buffer.alloc(512);
    const mode = type === 'Directory' ? 0o755 : 0o644;
    if (new Header({ path, type, mode, size: data.length, mtime: new Date(0), linkpath, uid: 0, gid: 0 }).encode(h)) {
      blocks.push(new Pax({ path, linkpath: linkpath || undefined }).encode());
    }
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Every symlink below `root`, never following one (Node 20's recursive readdir enters linked folders). */
async function symlinksUnder(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isSymbolicLink()) out.push(rel);
    else if (d.isDirectory()) out.push(...await symlinksUnder(root, rel));
  }
  return out.sort();
}

/**
 * Test oracle, independent of src/: does the link at `abs` lead outside `dest`, resolved the way the kernel
 * does (each component in turn, following links)? Past a missing component the rest is taken as text, so a
 * dangling link is judged by where it would lead. Any step outside counts.
 */
async function leadsOutside(dest: string, abs: string): Promise<boolean> {
  const root = await realpath(dest);
  const inside = (p: string) => p === root || p.startsWith(`${root}/`);
  let cur = await realpath(dirname(abs));
  const pending = (await readlink(abs)).split('/');
  if (pending[0] === '') return true;   // absolute
  let hops = 0;
  let missing = false;
  while (pending.length) {
    const c = pending.shift()!;
    if (!c || c === '.') continue;
    cur = c === '..' ? dirname(cur) : `${cur}/${c}`;
    if (!inside(cur)) return true;
    if (missing || c === '..') continue;
    const st = await lstat(cur).catch(() => null);
    if (!st) { missing = true; continue; }
    if (!st.isSymbolicLink()) continue;
    if (++hops > 40) return false;   // ELOOP: unreadable, leads nowhere
    const t = await readlink(cur);
    if (t.startsWith('/')) return true;
    cur = dirname(cur);
    pending.unshift(...t.split('/'));
  }
  return false;
}

/** base/dest is the download folder; base/victim.txt is the user's own file right next to it. */
async function scene(): Promise<{ base: string; dest: string; victim: string }> {
  const base = await tempDir();
  const victim = join(base, 'victim.txt');
  await writeFile(victim, 'SECRET');
  return { base, dest: join(base, 'dest'), victim };
}

/** No link left in `dest` leads outside it, and reading through any of them never yields the victim. */
async function expectContained(dest: string): Promise<void> {
  const root = await realpath(dest);
  for (const rel of await symlinksUnder(dest)) {
    const abs = join(dest, rel);
    expect(await leadsOutside(dest, abs), `${rel} -> ${await readlink(abs)}`).toBe(false);
    const real = await realpath(abs).catch(() => undefined);   // undefined: dangling or a loop
    if (real) expect(real === root || real.startsWith(`${root}/`), `${rel} resolves to ${real}`).toBe(true);
    for (const p of [abs, `${abs}/victim.txt`]) {
      const body = await readFile(p, 'utf8').catch(() => '');
      expect(body, `reading ${p}`).not.toBe('SECRET');
    }
  }
}

const extractors = {
  safeExtractStream: (tar: Buffer, dest: string, onSkip: (p: string, r: string) => void) =>
    safeExtractStream(Readable.from([gzipSync(tar)]), dest, { onSkip }),
  extractBundle: async (tar: Buffer, dest: string, onSkip: (p: string, r: string) => void) => {
    const file = join(await tempDir(), 'b.tar.gz');
    await writeFile(file, gzipSync(tar));
    await extractBundle(file, dest, { onSkip });
  },
};

describe('links that lead outside the destination (issue 17, item 6)', () => {
  for (const [how, extract] of Object.entries(extractors)) {
    it(`${how}: skips and reports physically escaping chains, keeps internal links and backslash names`, async () => {
      const { base, dest, victim } = await scene();
      const tar = craftTar([
        ['outputs/', 'Directory'],
        ['outputs/s', 'SymbolicLink', '.'],
        ['outputs/vd', 'SymbolicLink', 's/..'],                  // = dest: inside, kept
        ['outputs/v', 'SymbolicLink', 's/../../victim.txt'],     // text: dest/victim.txt; disk: base/victim.txt
        ['outputs/v2', 'SymbolicLink', 'vd/../victim.txt'],      // through vd, one level too far
        ['s', 'SymbolicLink', '.'],
        ['vd', 'SymbolicLink', 's/..'],                          // the parent of dest
        ['v2', 'SymbolicLink', 'vd/victim.txt'],                 // vd is refused: left dangling, inside
        ['outputs/late', 'SymbolicLink', 'b/../victim.txt'],     // harmless until b exists...
        ['outputs/b', 'SymbolicLink', '..'],                     // ...b = dest, so late = base/victim.txt
        ['hard-out', 'Link', 'outputs/late'],                    // a hard link through the escaping chain
        ['abs', 'SymbolicLink', victim],
        ['latest', 'SymbolicLink', 'ckpt/10'],                   // made before its folder: kept, works
        ['ckpt/10/', 'Directory'],
        ['ckpt/10/model.bin', 'File', 'weights'],
        ['ckpt/hard', 'Link', 'ckpt/10/model.bin'],
        ['a\\..\\b', 'File', 'backslash'],
        ['w\\..\\d/', 'Directory'],
        ['w\\..\\d/inner.txt', 'File', 'inner'],
        ['\\lead', 'File', 'lead'],
        ['ok.txt', 'File', 'fine'],
      ]);
      const skipped = new Map<string, string>();
      await extract(tar, dest, (p, r) => { skipped.set(p, r); });

      expect([...skipped.keys()].sort()).toEqual(['abs', 'hard-out', 'outputs/late', 'outputs/v', 'outputs/v2', 'vd']);
      for (const [p, r] of skipped) expect(r, p).toMatch(/outside|absolute/);
      await expectContained(dest);
      expect(await readdir(base)).toEqual(['dest', 'victim.txt']);   // nothing written next to dest
      expect(await readFile(victim, 'utf8')).toBe('SECRET');

      expect(await symlinksUnder(dest)).toEqual(['latest', 'outputs/b', 'outputs/s', 'outputs/vd', 's', 'v2']);
      expect(await readFile(join(dest, 'latest/model.bin'), 'utf8')).toBe('weights');
      expect((await stat(join(dest, 'ckpt/hard'))).ino).toBe((await stat(join(dest, 'ckpt/10/model.bin'))).ino);
      expect(await readFile(join(dest, 'a\\..\\b'), 'utf8')).toBe('backslash');
      expect(await readFile(join(dest, 'w\\..\\d', 'inner.txt'), 'utf8')).toBe('inner');
      expect(await readFile(join(dest, '\\lead'), 'utf8')).toBe('lead');
      expect((await readdir(dest)).filter((n) => n.startsWith('.pilot-'))).toEqual([]);   // no placeholder left
    });
  }

  it('extracting the same archive twice (a second download) replaces links and merges backslash folders', async () => {
    const { dest } = await scene();
    const tar = craftTar([
      ['w\\..\\d/', 'Directory'], ['w\\..\\d/inner.txt', 'File', 'inner'], ['ckpt/10/m', 'File', 'm'],
      ['latest', 'SymbolicLink', 'ckpt/10'], ['outputs/s', 'SymbolicLink', '.'], ['outputs/v', 'SymbolicLink', 's/../../victim.txt'],
    ]);
    for (let i = 0; i < 2; i++) {
      const skipped: string[] = [];
      await safeExtractStream(Readable.from([tar]), dest, { onSkip: (p) => { skipped.push(p); } });
      expect(skipped).toEqual(['outputs/v']);
    }
    expect(await readFile(join(dest, 'w\\..\\d', 'inner.txt'), 'utf8')).toBe('inner');
    expect(await readFile(join(dest, 'latest/m'), 'utf8')).toBe('m');
    expect((await readdir(dest)).sort()).toEqual(['ckpt', 'latest', 'outputs', 'w\\..\\d']);
    await expectContained(dest);
  });

  it('a hard link through a link already in the destination that leads outside is refused', async () => {
    const { base, dest, victim } = await scene();
    await mkdir(dest);
    await symlink('..', join(dest, 'mine'));   // the user's own link, not the archive's
    const skipped: string[] = [];
    await safeExtractStream(Readable.from([craftTar([['h', 'Link', 'mine/victim.txt']])]), dest, { onSkip: (p) => { skipped.push(p); } });
    expect(skipped).toEqual(['h']);
    expect((await stat(victim)).nlink).toBe(1);
    expect((await readdir(dest)).sort()).toEqual(['mine']);
    expect(await readdir(base)).toEqual(['dest', 'victim.txt']);
  });

  it('a loop of links is reported, not kept both ways', async () => {
    const { dest } = await scene();
    const skipped: string[] = [];
    await safeExtractStream(Readable.from([craftTar([['l1', 'SymbolicLink', 'l2'], ['l2', 'SymbolicLink', 'l1']])]), dest,
      { onSkip: (p) => { skipped.push(p); } });
    expect(skipped).toEqual(['l1']);
    await expectContained(dest);
  });

  it('unsafeEntryReason: on POSIX a backslash is part of a name, not a separator', () => {
    expect(unsafeEntryReason('a\\..\\b', 'File')).toBeUndefined();
    expect(unsafeEntryReason('x/../y', 'File')).toMatch(/\.\./);
    expect(unsafeEntryReason('l', 'SymbolicLink', '/etc/passwd')).toMatch(/absolute/);
  });
});

describe('real links from system tar and from a local job folder', () => {
  /** A job folder as a job would leave it: the crafted links in outputs/, next to a victim file. */
  async function jobFolder(): Promise<{ base: string; job: string; victim: string }> {
    const base = await tempDir();
    const victim = join(base, 'victim.txt');
    await writeFile(victim, 'SECRET');
    const job = join(base, 'job');   // job/outputs/s/../../victim.txt = base/victim.txt
    await mkdir(join(job, 'logs'), { recursive: true });
    await mkdir(join(job, 'outputs', 'ckpt', '10'), { recursive: true });
    await writeFile(join(job, 'logs', '1_1.out'), 'log');
    await writeFile(join(job, 'outputs', 'ckpt', '10', 'model.bin'), 'weights');
    await writeFile(join(job, 'outputs', 'a\\..\\b'), 'backslash');
    await symlink('.', join(job, 'outputs', 's'));
    await symlink('s/..', join(job, 'outputs', 'vd'));
    await symlink('s/../../victim.txt', join(job, 'outputs', 'v'));
    await symlink('vd/../victim.txt', join(job, 'outputs', 'v2'));
    await symlink('ckpt/10', join(job, 'outputs', 'latest'));
    await link(join(job, 'outputs', 'ckpt', '10', 'model.bin'), join(job, 'outputs', 'hard.bin'));
    return { base, job, victim };
  }

  async function expectDownloaded(dest: string, skipped: Map<string, string>): Promise<void> {
    expect([...skipped.keys()].sort()).toEqual(['outputs/v', 'outputs/v2']);
    for (const r of skipped.values()) expect(r).toMatch(/points outside the destination folder/);
    await expectContained(dest);
    expect(await symlinksUnder(dest)).toEqual(['outputs/latest', 'outputs/s', 'outputs/vd']);
    expect(await readFile(join(dest, 'outputs', 'latest', 'model.bin'), 'utf8')).toBe('weights');
    expect(await readFile(join(dest, 'outputs', 'hard.bin'), 'utf8')).toBe('weights');
    expect(await readFile(join(dest, 'outputs', 'a\\..\\b'), 'utf8')).toBe('backslash');
    expect(await readFile(join(dest, 'logs', '1_1.out'), 'utf8')).toBe('log');
  }

  it('safeExtractStream on `tar -czf - logs outputs` (what `pilot download` streams from the cluster)', async () => {
    const { base, job } = await jobFolder();
    const tgz = execFileSync('tar', ['-czf', '-', 'logs', 'outputs'], { cwd: job, maxBuffer: 1 << 24 });
    const dest = join(base, 'download');
    const skipped = new Map<string, string>();
    await safeExtractStream(Readable.from([tgz]), dest, { onSkip: (p, r) => { skipped.set(p, r); } });
    await expectDownloaded(dest, skipped);
    expect((await readdir(base)).sort()).toEqual(['download', 'job', 'victim.txt']);
  });

  it('LocalBackend.download keeps internal links and reports the others', async () => {
    const { base, job } = await jobFolder();
    const dest = join(base, 'download');
    const skipped = new Map<string, string>();
    const record = { remote: { jobDir: job, bundleDir: join(base, 'bundle') } } as unknown as JobRecord;
    const bytes = await new LocalBackend(join(base, 'local')).download(record, dest, { onSkip: (p, r) => { skipped.set(p, r); } });
    expect(bytes).toBeGreaterThan(0);
    await expectDownloaded(dest, skipped);
  });
});
