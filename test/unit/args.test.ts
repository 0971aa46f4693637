import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeArgsLine, encodeArgsFile, objectToArgv, splitShellWords, toArgv } from '../../src/model/args.js';
import { PilotError } from '../../src/model/errors.js';
import { HOSTILE_ARGS } from '../support/hostile.js';
import { quoteArgv } from '../../src/util/quote.js';

describe('splitShellWords', () => {
  it('splits like a shell without expanding anything', () => {
    expect(splitShellWords('--lr 0.01  --bs 32')).toEqual(['--lr', '0.01', '--bs', '32']);
    expect(splitShellWords(`--name 'a b' --x "c \\"d\\" $HOME" e\\ f`)).toEqual(['--name', 'a b', '--x', 'c "d" $HOME', 'e f']);
    expect(splitShellWords(`'' ""`)).toEqual(['', '']);
    expect(splitShellWords('$(rm -rf /) `x` *')).toEqual(['$(rm', '-rf', '/)', '`x`', '*']);
    expect(splitShellWords('   ')).toEqual([]);
  });

  it('agrees with bash on quoted input', () => {
    const line = quoteArgv(HOSTILE_ARGS);
    expect(splitShellWords(line)).toEqual(HOSTILE_ARGS);
  });

  it('rejects unterminated quotes with a hint', () => {
    expect(() => splitShellWords(`--x 'oops`, 'args[2]')).toThrowError(PilotError);
    expect(() => splitShellWords(`--x "oops`)).toThrowError(/unterminated double quote/);
  });
});

describe('objectToArgv', () => {
  it('maps keys to flags, booleans to presence, lists to several words', () => {
    expect(objectToArgv({ lr: 0.01, fast: true, slow: false, none: null, layers: [64, 32], '-v': true })).toEqual(['--lr', '0.01', '--fast', '--layers', '64', '32', '-v']);
  });
  it('refuses nested objects', () => {
    expect(() => toArgv({ a: { b: 1 } }, 'args[0]')).toThrowError(/args\[0\]\.a/);
  });
});

describe('args file', () => {
  it('round-trips every hostile argv, including empty ones, through bash exactly as the script decodes it', () => {
    const argvs = [HOSTILE_ARGS, [], [''], ['a\nb', 'c'], HOSTILE_ARGS.slice().reverse()];
    const file = encodeArgsFile(argvs);
    expect(file.split('\n')).toHaveLength(argvs.length + 1);
    argvs.forEach((argv, i) => expect(decodeArgsLine(file.split('\n')[i]!)).toEqual(argv));
    // the same decoding the template does, in a real bash
    for (let i = 1; i <= argvs.length; i++) {
      // prints the word count first: printf with no words would still print one empty word
      const script = `ARGS_LINE=$(sed -n "${i}p"); ARGV=(); while IFS= read -r -d '' word; do ARGV+=("$word"); done < <(printf '%s' "$ARGS_LINE" | base64 -d); printf '%s;' \${#ARGV[@]}; [ \${#ARGV[@]} -eq 0 ] || printf '%s\\0' "\${ARGV[@]}"`;
      const out = execFileSync('bash', ['-c', script], { input: file }).toString('utf8');
      const count = Number(out.slice(0, out.indexOf(';')));
      const words = out.slice(out.indexOf(';') + 1);
      expect(count).toBe(argvs[i - 1]!.length);
      expect(count === 0 ? [] : words.split('\0').slice(0, -1)).toEqual(argvs[i - 1]);
    }
  });
});
