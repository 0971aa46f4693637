// Build step (after tsc): the CLI as bundled, tree-shaken ESM with code splitting, as zx ships it.
//   dist/pilot/cli.js         what bin/pilot.js loads: commander and the command definitions only
//   dist/pilot/<chunk>.js     one per command and per shared piece, loaded when a command runs
//   dist/pilot/cached-log.js  `pilot logs NAME/I` of a complete cached log, tried first by bin/pilot.js
//   dist/pilot/supervisor.js  the local cluster's detached supervisor (LocalBackend starts it next to itself)
// Why: one file per command instead of ~100 module files to resolve, read and link, and only the parts of
// zod, yaml and tar that are used. ssh2 stays outside (it loads optional native addons by relative path)
// and is imported only when a connection is opened. The SDK (dist/index.js + .d.ts) stays tsc's output.
// The chunks sit two levels below the package root, as tsc's modules do, so the paths they compute from
// import.meta.url (package.json, templates/) are the same.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'pilot');
rmSync(outdir, { recursive: true, force: true });

const options = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  sourcemap: 'linked',
  minifySyntax: true,
  // ssh2 (and its optional native helper) is required at run time from node_modules, when connecting
  external: ['ssh2', 'cpu-features'],
  // yaml's ESM build (its "browser" one needs nothing of the browser): tree-shaken, no CommonJS interop
  alias: { yaml: './node_modules/yaml/browser/dist/index.js' },
  // CommonJS dependencies (yaml, nunjucks) call require() for node built-ins: give the bundle a real one
  banner: { js: "import { createRequire as __pilotRequire } from 'node:module'; const require = __pilotRequire(import.meta.url);" },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};
const result = await build({ ...options, entryPoints: { cli: 'src/cli/main.ts', supervisor: 'src/scheduler/local/supervisor.ts' }, splitting: true });
// the cached log's printer is ONE file of its own (no chunks shared with the CLI): it is the whole of a
// `pilot logs NAME/I` that is already here, and each module loaded is a file to resolve, read and link
const cachedLog = await build({ ...options, entryPoints: { 'cached-log': 'src/cli/cached-log.ts' }, splitting: false });
Object.assign(result.metafile.outputs, cachedLog.metafile.outputs);

// What each output file holds (its inputs): the CLI start-up test checks which sources a command loads
const contents = Object.fromEntries(Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'))
  .map(([f, o]) => [f.slice(f.lastIndexOf('/') + 1), Object.keys(o.inputs)]));
writeFileSync(join(outdir, 'contents.json'), JSON.stringify(contents, null, 1) + '\n');

// Source maps: our own sources are shipped (src/), so the maps point at them; a dependency's source is not
// in the package, so its text is embedded in the map instead (nothing dangles, and the maps stay small).
for (const f of readdirSync(outdir).filter((x) => x.endsWith('.map'))) {
  const map = JSON.parse(readFileSync(join(outdir, f), 'utf8'));
  map.sourcesContent = map.sources.map((s, i) => (s.includes('node_modules/') ? map.sourcesContent[i] : null));
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
