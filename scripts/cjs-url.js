// Injected into dist/pilot/cli.cjs (scripts/build-cli.js): what import.meta.url is in a CommonJS script, the
// URL of the script's own file, as src/ modules compute paths next to theirs from it.
export const import_meta_url = require('node:url').pathToFileURL(__filename).href;
