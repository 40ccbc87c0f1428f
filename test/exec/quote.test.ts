import { describe, expect, test } from 'vitest';
import { LocalRunner } from '../../src/exec/local.js';
import { shellQuote } from '../../src/exec/quote.js';

describe(shellQuote, () => {
  test('leaves plain words alone and single-quotes everything else', () => {
    expect(shellQuote(['ip', '-n', 'mb-src', 'link', 'set', 'tap0', 'up'])).toBe('ip -n mb-src link set tap0 up');
    expect(shellQuote(['echo', 'a b', "it's", '', '$HOME', '`x`', 'a;b'])).toBe(`echo 'a b' 'it'\\''s' '' '$HOME' '\`x\`' 'a;b'`);
  });

  test('a real sh splits the quoted line back into the same argv', async () => {
    const argv = ['printf', '%s\\n', "it's", 'two words', '', '$(id)', '*', 'tab\there', 'new\nline', '\\back', '"dq"', 'é ü'];
    const result = await new LocalRunner().run(['sh', '-c', shellQuote(argv)]);
    expect(result.stdout).toBe(`${argv.slice(2).join('\n')}\n`);
  });

  test('refuses what cannot be quoted', () => {
    expect(() => shellQuote([])).toThrow(/empty argv/);
    expect(() => shellQuote(['a\0b'])).toThrow(/NUL/);
  });
});
