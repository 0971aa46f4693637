/** Build step: writes dist/cli/help.txt (see topLevelHelp in main.ts). Run by `npm run build`. */
import { writeFileSync } from 'node:fs';
import { topLevelHelp } from './main.js';

writeFileSync(new URL('./help.txt', import.meta.url), topLevelHelp());
