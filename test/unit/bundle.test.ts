import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, createReadStream, openSync } from 'node:fs';
import {
  appendFile, chmod, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, truncate, utimes, writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Header, Pax, t as listTar, type ReadEntry } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import { extractBundle, safeExtractStream } from '../../src/bundle/extract.js';
import { listBundleFiles } from '../../src/bundle/files.js';
import { packBundle } from '../../src/bundle/pack.js';
import { tarChunks } from '../../src/bundle/tar-writer.js';

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'pilot-bundle-test-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

/** Writes `files` (path → content) under `root`; a value of null makes an empty directory. */
async function tree(root: string, files: Record<string, string | Buffer | null>): Promise<string> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(root, rel);
    if (content === null) {
      await mkdir(abs, { recursive: true });
    } else {
      await mkdir(dirname(abs), { recursive: true });
      await writeFile(abs, content);
    }
  }
  return root;
}

/** Every non-directory below `root` as rel → content (symlinks as `-> target`), via lstat (never follows). */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await readdir(root, { recursive: true })) {
    const st = await lstat(join(root, rel));
    if (st.isSymbolicLink()) out[rel] = `-> ${await readlink(join(root, rel))}`;
    else if (st.isFile()) out[rel] = await readFile(join(root, rel), 'utf8');
  }
  return out;
}

function systemExtract(tarGz: string, dest: string): void {
  execFileSync('tar', ['-xzf', tarGz, '-C', dest]);
}

async function entriesOf(tarGz: string): Promise<ReadEntry[]> {
  const entries: ReadEntry[] = [];
  await listTar({ file: tarGz, onReadEntry: (e) => { entries.push(e); } });
  return entries;
}

async function expectPilotError(p: Promise<unknown>, code: string, message?: RegExp): Promise<PilotError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PilotError);
  expect((err as PilotError).code).toBe(code);
  expect((err as PilotError).hint).toBeTruthy();
  if (message) expect((err as PilotError).message).toMatch(message);
  return err as PilotError;
}

describe('packBundle reproducibility', () => {
  it('gives the same sha256 for the same tree, whatever the mtimes and umask, and a new one for one changed byte', async () => {
    const src = await tree(await tempDir(), {
      'train.py': 'print("hi")\n', 'pkg/__init__.py': '', 'pkg/model.py': 'x = 1\n', 'empty': null,
    });
    const lib = await tree(await tempDir(), { 'mylib/__init__.py': 'y = 2\n' });
    const a = await packBundle({ srcDir: src, libraries: [join(lib, 'mylib')], outDir: await tempDir() });
    expect(a.file.endsWith(`${a.sha256}.tar.gz`)).toBe(true);
    const bytes = await readFile(a.file);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(a.sha256);
    expect(a.bytes).toBe(bytes.length);
    expect(a.files).toBe(4);
    // gzip header: no mtime, OS pinned to Unix
    expect([...bytes.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

    await utimes(join(src, 'train.py'), new Date('2001-02-03'), new Date('2001-02-03'));
    await utimes(join(src, 'pkg'), new Date('2011-02-03'), new Date('2011-02-03'));
    await chmod(join(src, 'pkg/model.py'), 0o600); // not executable either way → same archive
    const b = await packBundle({ srcDir: src, libraries: [join(lib, 'mylib')], outDir: await tempDir() });
    expect(b.sha256).toBe(a.sha256);
    expect(await readFile(b.file)).toEqual(bytes);

    await writeFile(join(src, 'pkg/model.py'), 'x = 2\n');
    const c = await packBundle({ srcDir: src, libraries: [join(lib, 'mylib')], outDir: await tempDir() });
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('writes fixed metadata: mtime 0, owner 0, normalised modes, sorted entries, no hard-link entries', async () => {
    const src = await tree(await tempDir(), { 'run.sh': '#!/bin/sh\n', 'b.txt': 'b', 'a/z.txt': 'z', 'a-b.txt': '' });
    await chmod(join(src, 'run.sh'), 0o700);
    await chmod(join(src, 'b.txt'), 0o600);
    const bundle = await packBundle({ srcDir: src, outDir: await tempDir() });
    const entries = await entriesOf(bundle.file);
    // byte order of the path: 'a' < 'a-b.txt' < 'a/z.txt' because '-' (0x2d) < '/' (0x2f)
    expect(entries.map((e) => e.path)).toEqual(['src/', 'src/a/', 'src/a-b.txt', 'src/a/z.txt', 'src/b.txt', 'src/run.sh']);
    for (const e of entries) {
      expect(e.mtime?.getTime()).toBe(0);
      expect([e.uid, e.gid, e.uname, e.gname]).toEqual([0, 0, '', '']);
    }
    const modes = Object.fromEntries(entries.map((e) => [e.path, e.mode]));
    expect(modes).toEqual({
      'src/': 0o755, 'src/a/': 0o755, 'src/a-b.txt': 0o644, 'src/a/z.txt': 0o644, 'src/b.txt': 0o644, 'src/run.sh': 0o755,
    });
  });

  it('does not depend on the order libraries are listed in', async () => {
    const src = await tree(await tempDir(), { 'main.py': '' });
    const libs = await tree(await tempDir(), { 'alpha/a.py': 'a', 'beta/b.py': 'b' });
    const out = await tempDir();
    const one = await packBundle({ srcDir: src, libraries: [join(libs, 'alpha'), join(libs, 'beta')], outDir: out });
    const two = await packBundle({ srcDir: src, libraries: [join(libs, 'beta'), join(libs, 'alpha')], outDir: out });
    expect(two.sha256).toBe(one.sha256);
  });
});

describe('listBundleFiles exclusion rules', () => {
  it('honours root and nested .gitignore files, the default excludes and the user excludes', async () => {
    const root = await tree(await tempDir(), {
      '.gitignore': '*.log\nbuild/\n/only-root.txt\n',
      'a.py': '', 'app.log': '', 'build/out.bin': '', 'only-root.txt': '', 'keep/only-root.txt': '',
      'build.py': '', // `build/` only matches directories
      'sub/.gitignore': '!important.log\nsecret.txt\n',
      'sub/important.log': '', 'sub/other.log': '', 'sub/secret.txt': '', 'sub/deeper/secret.txt': '',
      'secret.txt': '', // the nested rule does not reach up
      'node_modules/x/index.js': '', '__pycache__/m.cpython-311.pyc': '', 'pkg/mod.pyc': '', 'pkg/mod.py': '',
      '.git/HEAD': '', '.venv/bin/python': '', '.DS_Store': '', '.pilot/jobs.json': '', '.ipynb_checkpoints/x': '',
      'dist/bundle.js': '', // dist is NOT a default exclude
      'data/big.csv': '', 'notes.tmp': '', 'empty': null,
    });
    const files = await listBundleFiles(root, { exclude: ['data/', '*.tmp'] });
    expect(files.map((f) => `${f.type === 'dir' ? 'd' : 'f'} ${f.rel}`)).toEqual([
      'f .gitignore', 'f a.py', 'f build.py', 'd dist', 'f dist/bundle.js', 'd empty', 'd keep', 'f keep/only-root.txt',
      'd pkg', 'f pkg/mod.py', 'f secret.txt', 'd sub', 'f sub/.gitignore', 'd sub/deeper', 'f sub/important.log',
    ]);
  });

  it('reads a .gitignore only when it is a plain file: a fifo named so is never read, a link leaving the folder refused', async () => {
    const outside = await tree(await tempDir(), { 'rules': '*.py\n' });
    const linked = await tree(await tempDir(), { 'a.py': '' });
    await symlink(join(outside, 'rules'), join(linked, '.gitignore'));
    await expect(listBundleFiles(linked)).rejects.toThrow(/outside the bundled folder|absolute/);   // a link leaving the folder is refused, its rules never applied
    const fifo = await tree(await tempDir(), { 'a.py': '' });
    execFileSync('mkfifo', [join(fifo, '.gitignore')]);
    // a read of the fifo would block for ever: the walk ends, and the fifo (no content) is not shipped
    expect((await listBundleFiles(fifo)).map((f) => f.rel)).toEqual(['a.py']);
    // nobody holds it open to read (a writer that does not wait is refused: ENXIO)
    expect(() => closeSync(openSync(join(fifo, '.gitignore'), constants.O_WRONLY | constants.O_NONBLOCK))).toThrow(/ENXIO/);
  });

  it('lets the user re-include a default exclude with !pattern', async () => {
    const root = await tree(await tempDir(), { '.venv/x': '', 'a.py': '' });
    expect((await listBundleFiles(root, { exclude: ['!.venv'] })).map((f) => f.rel)).toEqual(['.venv', '.venv/x', 'a.py']);
  });

  it('reports files, sizes and symlinks as they are on disk, sorted by bytes', async () => {
    const root = await tree(await tempDir(), { 'Z.txt': 'zz', 'a.txt': 'a', 'é.txt': '', 'z/x': '' });
    await symlink('a.txt', join(root, 'ln'));
    const files = await listBundleFiles(root, {});
    expect(files.map((f) => [f.rel, f.type, f.size, f.linkTarget])).toEqual([
      ['Z.txt', 'file', 2, undefined], ['a.txt', 'file', 1, undefined], ['ln', 'symlink', 0, 'a.txt'],
      ['z', 'dir', 0, undefined], ['z/x', 'file', 0, undefined], ['é.txt', 'file', 0, undefined],
    ]);
    expect(files[0]!.abs).toBe(join(root, 'Z.txt'));
  });
});

describe('hard links (REGRESSION: node-tar #458/#460 deadlock)', () => {
  it('packs a file hard-linked into 15 of 20 folders quickly, as 15 regular copies', async () => {
    const src = await tempDir();
    const content = 'shared payload\n'.repeat(5000);
    await writeFile(join(src, 'original.txt'), content);
    for (let i = 0; i < 20; i++) {
      const d = join(src, `d${String(i).padStart(2, '0')}`);
      await mkdir(d);
      await writeFile(join(d, 'own.txt'), `own ${i}\n`);
      if (i < 15) await link(join(src, 'original.txt'), join(d, 'shared.txt'));
    }
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('packBundle hung (>10 s)')), 10_000));
    const bundle = await Promise.race([packBundle({ srcDir: src, outDir: await tempDir() }), timeout]);

    const entries = await entriesOf(bundle.file);
    expect(entries.filter((e) => e.type === 'Link')).toEqual([]);
    expect(entries.filter((e) => e.path.endsWith('/shared.txt') && e.type === 'File')).toHaveLength(15);

    for (const extract of [
      async (dest: string) => systemExtract(bundle.file, dest),
      (dest: string) => extractBundle(bundle.file, dest),
    ]) {
      const dest = await tempDir();
      await extract(dest);
      for (let i = 0; i < 15; i++) {
        const p = join(dest, 'src', `d${String(i).padStart(2, '0')}`, 'shared.txt');
        const st = await lstat(p);
        expect(st.isFile()).toBe(true);
        expect(st.nlink).toBe(1); // content duplicated, not re-linked
        expect(await readFile(p, 'utf8')).toBe(content);
      }
      expect(await readFile(join(dest, 'src/d19/own.txt'), 'utf8')).toBe('own 19\n');
    }
  });
});

describe('file names', () => {
  it('REGRESSION: packs files named @x and @archive.tar as ordinary files', async () => {
    const src = await tree(await tempDir(), { '@x': 'at x\n', '@archive.tar': 'not really a tar\n' });
    const bundle = await packBundle({ srcDir: src, outDir: await tempDir() });
    const dest = await tempDir();
    systemExtract(bundle.file, dest);
    expect(await snapshot(join(dest, 'src'))).toEqual({ '@x': 'at x\n', '@archive.tar': 'not really a tar\n' });
  });

  it('round-trips long paths (>100, >255 bytes), long link targets and unicode names through system tar and extractBundle', async () => {
    const long100 = `${'d'.repeat(50)}/${'e'.repeat(60)}.txt`; // fits ustar's prefix + name split
    const long255 = `${Array.from({ length: 5 }, (_, i) => String(i).repeat(60)).join('/')}/deep.txt`; // needs pax
    const longName = `${'f'.repeat(150)}.txt`; // one component longer than ustar's 100-byte name field
    const files: Record<string, string> = {
      [long100]: 'one hundred', [long255]: 'two fifty five', [longName]: 'long name',
      'données/résumé-日本語-🚀.txt': 'unicode ✓', 'Ωmega/ñ.py': 'print("ñ")',
    };
    const src = await tree(await tempDir(), files);
    expect(long255.length).toBeGreaterThan(255);
    await symlink(`../${long255}`, join(src, 'Ωmega', 'link-to-deep')); // linkpath > 100 bytes
    const bundle = await packBundle({ srcDir: src, outDir: await tempDir() });

    const expected = { ...files, [join('Ωmega', 'link-to-deep')]: `-> ../${long255}` };
    const viaSystem = await tempDir();
    systemExtract(bundle.file, viaSystem);
    expect(await snapshot(join(viaSystem, 'src'))).toEqual(expected);
    const viaNode = await tempDir();
    await extractBundle(bundle.file, viaNode);
    expect(await snapshot(join(viaNode, 'src'))).toEqual(expected);
  });
});

describe('libraries and bad input', () => {
  it('ships libraries under lib/<basename>/ next to src/', async () => {
    const src = await tree(await tempDir(), { 'train.py': 'import custom_library' });
    const base = await tree(await tempDir(), {
      'custom_library/__init__.py': 'X = 1', 'custom_library/.gitignore': '*.bin\n', 'custom_library/w.bin': '',
      'tools/util.py': 'u', 'single.py': 's',
    });
    const bundle = await packBundle({
      srcDir: src, libraries: [join(base, 'custom_library'), join(base, 'tools') + '/', join(base, 'single.py')],
      outDir: await tempDir(),
    });
    expect((await entriesOf(bundle.file)).map((e) => e.path)).toEqual([
      'lib/', 'lib/custom_library/', 'lib/custom_library/.gitignore', 'lib/custom_library/__init__.py',
      'lib/single.py', 'lib/tools/', 'lib/tools/util.py', 'src/', 'src/train.py',
    ]);
    const dest = await tempDir();
    systemExtract(bundle.file, dest);
    expect(await readFile(join(dest, 'lib/custom_library/__init__.py'), 'utf8')).toBe('X = 1');
  });

  it('rejects two libraries with the same basename', async () => {
    const src = await tree(await tempDir(), { 'a.py': '' });
    const base = await tree(await tempDir(), { 'x/utils/a.py': '', 'y/utils/b.py': '' });
    await expectPilotError(packBundle({ srcDir: src, libraries: [join(base, 'x/utils'), join(base, 'y/utils')] }),
      'BAD_INPUT', /lib\/utils/);
  });

  it('rejects a missing srcDir or library with BAD_INPUT naming the path', async () => {
    const dir = await tempDir();
    const missing = join(dir, 'nope');
    await expectPilotError(packBundle({ srcDir: missing }), 'BAD_INPUT', new RegExp(missing));
    await expectPilotError(packBundle({ srcDir: dir, libraries: [missing] }), 'BAD_INPUT', new RegExp(missing));
    expect(await readdir(dir)).toEqual([]); // nothing written
  });
});

describe('symlinks', () => {
  it('rejects symlinks that are absolute or escape the root', async () => {
    const outside = await tempDir();
    for (const target of ['../outside.txt', '/etc/passwd', 'sub/../../x']) {
      const src = await tree(await tempDir(), { 'a.py': '', 'sub/b.py': '' });
      await symlink(target, join(src, 'bad'));
      await expectPilotError(packBundle({ srcDir: src, outDir: outside }), 'BAD_INPUT', /bad/);
    }
    expect(await readdir(outside)).toEqual([]); // nothing shipped, not even a temp file
  });

  it('catches a chain that is lexically internal but resolves outside', async () => {
    const parent = await tempDir();
    const src = await tree(join(parent, 'root'), { 'a.py': '' });
    await writeFile(join(parent, 'x'), 'outside');
    await symlink('.', join(src, 'here'));
    await symlink('here/../x', join(src, 'there')); // text says root/x, disk says parent/x
    await expectPilotError(listBundleFiles(src, {}), 'BAD_INPUT', /there/);
  });

  it('round-trips internal relative symlinks (to a file and to a folder)', async () => {
    const src = await tree(await tempDir(), { 'pkg/real.py': 'REAL', 'pkg/sub/x.txt': 'X' });
    await symlink('pkg/real.py', join(src, 'link.py'));
    await symlink('../../pkg', join(src, 'pkg', 'sub', 'up'));
    const bundle = await packBundle({ srcDir: src, outDir: await tempDir() });
    const dest = await tempDir();
    systemExtract(bundle.file, dest);
    expect(await readlink(join(dest, 'src/link.py'))).toBe('pkg/real.py');
    expect(await readFile(join(dest, 'src/link.py'), 'utf8')).toBe('REAL');
    expect(await readlink(join(dest, 'src/pkg/sub/up'))).toBe('../../pkg');
    expect(await readFile(join(dest, 'src/pkg/sub/up/real.py'), 'utf8')).toBe('REAL');
  });
});

describe('tarChunks', () => {
  async function drainWithMutation(mutate: (file: string) => Promise<void>): Promise<unknown> {
    const dir = await tempDir();
    const file = join(dir, 'big.bin');
    await writeFile(file, Buffer.alloc(1024 * 1024, 7));
    const gen = tarChunks([{ name: 'big.bin', type: 'file', mode: 0o644, abs: file }]);
    await gen.next(); // header + first chunk: the file is open and partly read
    await mutate(file);
    try {
      for (;;) if ((await gen.next()).done) return undefined;
    } catch (err) {
      return err;
    }
  }

  it('fails with BUNDLE when a file grows while it is read', async () => {
    const err = await drainWithMutation((f) => appendFile(f, 'more'));
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).code).toBe('BUNDLE');
    expect((err as PilotError).message).toMatch(/grew|modified/);
  });

  it('fails with BUNDLE when a file shrinks while it is read', async () => {
    const err = await drainWithMutation((f) => truncate(f, 300 * 1024));
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).message).toMatch(/shrank/);
  });
});

describe('extraction safety', () => {
  /** A hostile plain tar built header by header, the way an attacker would. */
  function hostileTar(absTarget: string): Buffer {
    const blocks: Buffer[] = [];
    const entry = (path: string, type: 'File' | 'SymbolicLink' | 'Link', body = '', linkpath = '') => {
      const data = Buffer.from(body);
      const h = Buffer.alloc(512);
      if (new Header({ path, type, mode: 0o644, size: data.length, mtime: new Date(0), linkpath, uid: 0, gid: 0 }).encode(h)) {
        blocks.push(new Pax({ path, linkpath: linkpath || undefined }).encode());
      }
      blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
    };
    entry('../evil.txt', 'File', 'evil');
    entry('ok/../../evil2.txt', 'File', 'evil');
    entry(absTarget, 'File', 'evil');
    entry('lnk', 'SymbolicLink', '', '/etc');
    entry('lnk2', 'SymbolicLink', '', '../../outside');
    entry('hard', 'Link', '', '../evil-hard');
    entry('ok.txt', 'File', 'fine');
    blocks.push(Buffer.alloc(1024));
    return Buffer.concat(blocks);
  }

  for (const how of ['extractBundle', 'safeExtractStream'] as const) {
    it(`${how} skips ../ paths, absolute paths and escaping links, writing nothing outside dest`, async () => {
      const base = await tempDir();
      const dest = join(base, 'a', 'dest');
      const absTarget = join(base, 'abs-evil.txt');
      const tarFile = join(base, 'a', 'hostile.tar.gz');
      await mkdir(join(base, 'a'));
      const { gzipSync } = await import('node:zlib');
      await writeFile(tarFile, gzipSync(hostileTar(absTarget)));
      const skipped: string[] = [];
      const onSkip = (p: string) => { skipped.push(p); };
      if (how === 'extractBundle') await extractBundle(tarFile, dest, { onSkip });
      else await safeExtractStream(createReadStream(tarFile), dest, { onSkip });

      expect(await readFile(join(dest, 'ok.txt'), 'utf8')).toBe('fine');
      expect(await readdir(base)).toEqual(['a']);
      expect((await readdir(join(base, 'a'))).sort()).toEqual(['dest', 'hostile.tar.gz']);
      expect(await readdir(dest)).toEqual(['ok.txt']);
      expect(skipped.sort()).toEqual(
        ['../evil.txt', absTarget, 'hard', 'lnk', 'lnk2', 'ok/../../evil2.txt'].sort(),
      );
    });
  }

  it('safeExtractStream accepts an uncompressed tar stream', async () => {
    const src = await tree(await tempDir(), { 'x.txt': 'x' });
    const bundle = await packBundle({ srcDir: src, outDir: await tempDir() });
    const { gunzipSync } = await import('node:zlib');
    const { Readable } = await import('node:stream');
    const dest = await tempDir();
    await safeExtractStream(Readable.from([gunzipSync(await readFile(bundle.file))]), dest);
    expect(await readFile(join(dest, 'src/x.txt'), 'utf8')).toBe('x');
  });

  it('rejects a truncated bundle with BUNDLE', async () => {
    const src = await tree(await tempDir(), { 'x.bin': randomBytes(200_000) });
    const bundle = await packBundle({ srcDir: src, outDir: await tempDir() });
    const cut = join(await tempDir(), 'cut.tar.gz');
    const bytes = await readFile(bundle.file);
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectPilotError(extractBundle(cut, await tempDir()), 'BUNDLE');
  });
});
