import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quote, quoteArgv, shScript } from '../../src/util/quote.js';
import { HOSTILE_ARGS } from '../support/hostile.js';
import { scriptOf } from '../support/shell.js';

describe('quote', () => {
  it('leaves safe words bare and quotes everything else', () => {
    expect(quote('abc-1.2/x_y')).toBe('abc-1.2/x_y');
    expect(quote('')).toBe("''");
    expect(quote('a b')).toBe("'a b'");
    expect(quote("it's")).toBe("'it'\\''s'");
    expect(quote('~/x')).toBe("'~/x'");
  });

  it('round-trips every hostile argument through a real bash', () => {
    const script = `printf '%s\\0' ${quoteArgv(HOSTILE_ARGS)}`;
    const out = execFileSync('bash', ['-c', script]).toString('utf8');
    expect(out.split('\0').slice(0, -1)).toEqual(HOSTILE_ARGS);
  });
});

describe('shScript', () => {
  // what bash, dash and a login shell that is neither take alike (test/integration/login-shells.test.ts: tcsh)
  const tricky = [
    'echo plain',
    "printf '%s|' 'it'\\''s' \"a!b\" '!!' 'x\\0041y' 'back\\\\slash' '\\n' '%b' '\\c' '$HOME'; echo",
    'if [ ! -d / ]; then echo no; else echo "yes: $#"; fi\nfor i in 1 2; do\n  printf "%s\\n" "line $i"\ndone',
    "v='two\nlines'; printf '[%s]' \"$v\"; printf 'tail\\n\\n\\n'",
    ...HOSTILE_ARGS.slice(0, 20).map((a) => `printf '%s' ${quote(a)}`),
  ];
  it('runs the script exactly as `sh -c SCRIPT` does, through bash and through dash', () => {
    for (const script of tricky) {
      const want = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
      for (const login of ['bash', 'dash']) expect(execFileSync(login, ['-c', shScript(script)], { encoding: 'utf8' }), `${login}: ${script}`).toBe(want);
    }
  });
  it('gives the login shell no newline, `!`, backslash or quote inside a quoted word when the script has them', () => {
    const cmd = shScript('a=1\n[ ! -z "$a" ] && echo \'x\\y\'');
    const word = cmd.slice(cmd.indexOf("' sh ") + 5);
    expect(word).toMatch(/^'[^'\n!]*'$/);
    expect(word.slice(1, -1).replace(/\\(0\d{3}|n)/g, '')).not.toContain('\\');
    expect(shScript('echo plain; ls -l')).toBe("sh -c 'echo plain; ls -l'");
    // and the tests' reader of commands (test/support/shell.ts) gets every script back
    for (const script of tricky) expect(scriptOf(shScript(script))).toBe(script);
  });
});
