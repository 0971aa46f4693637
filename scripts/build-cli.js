// Build step (after tsc): the CLI as bundled, tree-shaken files.
//   dist/pilot/cli.cjs        the whole CLI as ONE script, ssh2 included: bin/pilot.js runs it through
//                             src/cli/code-cache.ts, which compiles it with V8's code cache (why: see there)
//   dist/pilot/cached-log.js  `pilot logs NAME/I` of a complete cached log, tried first by bin/pilot.js
//   dist/pilot/supervisor.js  the local cluster's detached supervisor (LocalBackend starts it next to itself)
// Why one script: a file to read, no module graph to resolve and link, and a code cache covers all of it
// (node 20 caches code only for scripts). What a command does not use is only pre-parsed: modules reached by
// `import()` are bundled as functions that run when first imported. The SDK (dist/index.js + .d.ts) stays
// tsc's output. The files sit two levels below the package root, as tsc's modules do, so the paths they
// compute from import.meta.url (package.json, templates/) are the same.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'pilot');
rmSync(outdir, { recursive: true, force: true });

const options = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minifySyntax: true,
  // yaml's ESM build (its "browser" one needs nothing of the browser): tree-shaken, no CommonJS interop
  alias: { yaml: './node_modules/yaml/browser/dist/index.js' },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};
// the ES module files: CommonJS dependencies (nunjucks) call require() for node built-ins: give them a real one
const esm = { ...options, format: 'esm', banner: { js: "import { createRequire as __pilotRequire } from 'node:module'; const require = __pilotRequire(import.meta.url);" } };

/**
 * ssh2's optional native parts stay outside the script, required where npm installed them: its crypto
 * binding (a path relative to its own file, which bundling would break: given as a path in the package)
 * and cpu-features. Both are optional: ssh2 falls back to node's crypto without them.
 */
const nativeAddons = {
  name: 'native-addons',
  setup(b) {
    b.onResolve({ filter: /[/\\]sshcrypto\.node$/ }, () => ({ path: 'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node', external: true }));
  },
};

/**
 * Each bundled source says when it first runs, to whoever listens (`globalThis[Symbol.for('hpc-pilot.init')]`,
 * set by nobody but tests): how the start-up test sees that help and usage errors run no heavy module. The
 * call goes after any directive prologue ('use strict' must stay first) and on the same line (the source
 * maps stay right).
 */
const PROLOGUE = /^(?:#![^\n]*\n)?(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|(["'])use strict\1;?)*/;
const initTrace = {
  name: 'init-trace',
  setup(b) {
    b.onLoad({ filter: /\.(ts|js|mjs|cjs)$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const at = PROLOGUE.exec(text)[0].length;
      const call = `;globalThis[Symbol.for("hpc-pilot.init")]?.(${JSON.stringify(relative(root, args.path))});`;
      return { contents: text.slice(0, at) + call + text.slice(at), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

const cli = await build({
  ...options,
  entryPoints: { cli: 'src/cli/main.ts' },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  external: ['cpu-features'],
  plugins: [nativeAddons, initTrace],
  // import.meta.url of the script's own file (scripts/cjs-url.js); import() of a bundled module is its
  // function, of a built-in a require(): no import() is left (see src/util/import-file.ts)
  inject: [join(root, 'scripts', 'cjs-url.js')],
  define: { 'import.meta.url': 'import_meta_url' },
  supported: { 'dynamic-import': false },
});
const supervisor = await build({ ...esm, entryPoints: { supervisor: 'src/scheduler/local/supervisor.ts' } });
// the cached log's printer is ONE small file of its own: it is the whole of a `pilot logs NAME/I` that is
// already here, printed without reading the CLI's script
const cachedLog = await build({ ...esm, entryPoints: { 'cached-log': 'src/cli/cached-log.ts' } });
const outputs = { ...cli.metafile.outputs, ...supervisor.metafile.outputs, ...cachedLog.metafile.outputs };

// What each output file holds (its inputs), and what of cli.cjs runs whenever it starts (reached from its entry
// by static imports): the CLI start-up test checks that neither help nor a usage error runs a heavy source
const contents = Object.fromEntries(Object.entries(outputs).filter(([f]) => /\.c?js$/.test(f))
  .map(([f, o]) => [f.slice(f.lastIndexOf('/') + 1), Object.keys(o.inputs)]));
const eager = new Set(['src/cli/main.ts']);
for (const input of eager) {
  for (const i of cli.metafile.inputs[input]?.imports ?? []) if (!i.external && i.kind !== 'dynamic-import') eager.add(i.path);
}
contents['cli.cjs at start-up'] = [...eager];
writeFileSync(join(outdir, 'contents.json'), JSON.stringify(contents, null, 1) + '\n');

// Source maps: our own sources are shipped (src/), so the maps point at them; any other source (a dependency, the
// build's own cjs-url.js) is not in the package, so its text is embedded in the map instead (nothing dangles).
for (const f of readdirSync(outdir).filter((x) => x.endsWith('.map'))) {
  const map = JSON.parse(readFileSync(join(outdir, f), 'utf8'));
  map.sourcesContent = map.sources.map((s, i) => (s.startsWith('../../src/') ? null : map.sourcesContent[i]));
  writeFileSync(join(outdir, f), JSON.stringify(map));
}

// The templates compiled to JavaScript (src/scheduler/template-compile.ts says why); tsc's output does it
const { compiledModule, compiledFileOf } = await import('../dist/scheduler/template-compile.js');
const compiledDir = join(root, 'dist', 'templates-compiled');
mkdirSync(compiledDir, { recursive: true });
for (const f of readdirSync(join(root, 'templates')).filter((x) => x.endsWith('.njk'))) {
  const file = join(root, 'templates', f);
  writeFileSync(compiledFileOf(file, compiledDir), await compiledModule(readFileSync(file, 'utf8'), file));
}
