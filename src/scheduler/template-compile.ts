/**
 * Templates compiled to JavaScript when pilot is built (scripts/build-cli.js writes dist/templates-compiled/),
 * so that a launch renders the default script with nunjucks' small runtime instead of loading its compiler
 * and compiling the template: about 20 ms of the ~250 ms a `pilot launch` costs on the laptop (issue 16).
 * A compiled file is used only when it was made from exactly the template's current text (its sha256 is in
 * it); anything else (a template of your own, an edited one, no build) is compiled at run time as before.
 */
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFile } from '../util/import-file.js';
import { quote } from '../util/quote.js';

/** Beside the modules, one level up: dist/templates-compiled/ for the SDK (dist/scheduler/) and the CLI (dist/pilot/). */
const COMPILED_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'templates-compiled');

export type Render = (context: object) => string;

/** How pilot's templates are read: no HTML escaping (quoting is the `q` filter's job), undefined is an error. */
const OPTIONS = { autoescape: false, throwOnUndefined: true, trimBlocks: false } as const;

type Nunjucks = typeof import('nunjucks');

function environment(nunjucks: Nunjucks) {
  const env = new nunjucks.Environment(null, OPTIONS);
  env.addFilter('q', (v: unknown) => quote(String(v)));
  return env;
}

export const textSha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The file the build writes for `templatePath`. */
export const compiledFileOf = (templatePath: string, dir = COMPILED_DIR) => join(dir, `${basename(templatePath)}.js`);

/** Compiles a template's text at run time (nunjucks' compiler). */
export async function compileTemplate(text: string, templatePath: string): Promise<Render> {
  const nunjucks = (await import('nunjucks')).default;
  const template = new nunjucks.Template(text, environment(nunjucks), templatePath, true);
  return (context) => template.render(context);
}

/** The ES module the build writes: the template's sha256 and its compiled code (the body of a function). */
export async function compiledModule(text: string, templatePath: string): Promise<string> {
  const nunjucks = (await import('nunjucks')).default;
  const code = nunjucks.precompileString(text, {
    name: templatePath, env: environment(nunjucks),
    // a list of { name, template } at run time (the published types say one object)
    wrapper: (templates) => (templates as unknown as { template: string }[])[0]!.template,
  });
  return `// Made by scripts/build-cli.js from ${basename(templatePath)} (src/scheduler/template-compile.ts): do not edit.\n`
    + `export const sha256 = ${JSON.stringify(textSha(text))};\nexport default function template() {\n${code}\n}\n`;
}

/** The compiled form of `text` when the build made one from that very text; undefined otherwise. */
export async function compiledTemplate(text: string, templatePath: string, dir?: string): Promise<Render | undefined> {
  let mod: { sha256: string; default: () => object };
  try {
    mod = await importFile(compiledFileOf(templatePath, dir)) as typeof mod;
  } catch {
    return undefined;   // not built (tests run the sources), or a template of your own
  }
  if (mod.sha256 !== textSha(text)) return undefined;
  // the runtime alone: nunjucks' build without lexer, parser and compiler
  const nunjucks = (await import('nunjucks/browser/nunjucks-slim.js')).default as Nunjucks;
  const template = new nunjucks.Template({ type: 'code', obj: mod.default() } as unknown as string, environment(nunjucks), templatePath);
  return (context) => template.render(context);
}
