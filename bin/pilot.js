#!/usr/bin/env node
// Thin launcher: the CLI is dist/pilot/cli.cjs, one bundled script (scripts/build-cli.js,
// run by `npm run build` and by `npm ci` through the prepare script).
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
// `pilot` and `pilot --help` print the help the build wrote (dist/cli/help.txt, made from the very commander
// program) without loading commander: the most common cold start costs what node costs. On a terminal the text
// is 80 columns wide, as when piped. Anything else goes through the CLI.
if (argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h'))) {
  let help;
  try {
    help = readFileSync(new URL('../dist/cli/help.txt', import.meta.url), 'utf8');
  } catch {
    help = undefined; // not built with it: fall through to the CLI
  }
  if (help !== undefined) {
    process.stdout.on('error', (err) => { if (err.code !== 'EPIPE') throw err; });
    process.stdout.write(help);
  } else {
    void run();
  }
} else if (argv[0] === 'logs') {
  // a task's complete cached log is printed by a small module of its own (src/cli/cached-log.ts), without
  // commander, the engine or a connection; anything else about `logs` goes through the CLI as usual
  let printed = false;
  try {
    const { printCachedLog } = await import('../dist/pilot/cached-log.js');
    printed = await printCachedLog(argv);
  } catch (err) {
    console.error(`error: ${err?.message ?? err}`);
    process.exitCode = 1;
    printed = true;
  }
  if (!printed) void run();
} else {
  void run();
}

async function run() {
  // the CLI is one script, compiled with V8's code cache (src/cli/code-cache.ts says why)
  const { runCli } = await import('../dist/cli/code-cache.js');
  let settled = false;
  // If node runs out of work while main() still waits (a promise nobody will ever settle), it would exit 0 with
  // nothing printed: a failed command that looks like a success. Never let that happen.
  process.once('beforeExit', () => {
    if (settled) return;
    console.error('error: the command stopped before it finished (an operation was left waiting); nothing more is known');
    console.error('hint: run it again with --verbose and report this');
    process.exitCode = 1;
  });
  await runCli(argv).then(
    (code) => { settled = true; process.exitCode = code; },
    (err) => { settled = true; console.error(err); process.exitCode = 1; },
  );
}
