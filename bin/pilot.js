#!/usr/bin/env node
// Thin launcher: everything lives in dist/cli (compiled by `npm ci` through the prepare script).
import { main } from '../dist/cli/main.js';

let settled = false;
// If node runs out of work while main() still waits (a promise nobody will ever settle), it would exit 0 with
// nothing printed: a failed command that looks like a success. Never let that happen.
process.once('beforeExit', () => {
  if (settled) return;
  console.error('error: the command stopped before it finished (an operation was left waiting); nothing more is known');
  console.error('hint: run it again with --verbose and report this');
  process.exitCode = 1;
});
main(process.argv.slice(2)).then(
  (code) => { settled = true; process.exitCode = code; },
  (err) => { settled = true; console.error(err); process.exitCode = 1; },
);
