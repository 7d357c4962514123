import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { compileUserRegex, RegexError } from './userRegex.js';
import { translateToSafeNative } from './nativeSubset.js';

describe('compileUserRegex', () => {
  it('returns (a+)+$ against a 100 KB line within its budget (E5)', () => {
    const re = compileUserRegex('(a+)+$');
    const line = 'a'.repeat(100_000) + '!';
    const started = performance.now();
    expect(re.test(line)).toBe(false);
    // A backtracking engine takes longer than the age of the universe here; RE2 takes milliseconds.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(re.engine).toBe('re2');
  });

  it('keeps other classic catastrophic patterns linear', () => {
    const line = 'x'.repeat(50_000);
    for (const p of ['(x|x)*y', '(x*)*y', '(.*a){20}', 'x*x*x*x*x*y', '^(\\w+\\s?)*$']) {
      const started = performance.now();
      compileUserRegex(p).test(line + '!');
      expect(performance.now() - started, p).toBeLessThan(2000);
    }
  });

  it('throws a RegexError naming the pattern for bad syntax', () => {
    expect(() => compileUserRegex('(abc')).toThrow(RegexError);
    expect(() => compileUserRegex('(abc')).toThrow(/"\(abc".*missing closing \)/);
    expect(() => compileUserRegex('(a)\\1')).toThrow(/invalid regex "\(a\)\\\\1"/);
  });

  it('refuses a pattern that is too long', () => {
    expect(() => compileUserRegex('a'.repeat(5000))).toThrow(/too long/);
  });

  it('refuses a pattern that expands into a huge program', () => {
    expect(() => compileUserRegex('((((a{100}){100}){100}){100})')).toThrow(RegexError);
  });

  it('matches case-insensitively on request', () => {
    expect(compileUserRegex('traceback').test('Traceback (most recent call last)')).toBe(false);
    expect(compileUserRegex('traceback', { ignoreCase: true }).test('Traceback (most recent call last)')).toBe(true);
    expect(compileUserRegex('trace(back)+', { ignoreCase: true }).test('TRACEBACK')).toBe(true);
  });

  it('runs simple patterns natively and the rest on RE2', () => {
    expect(compileUserRegex('Traceback').engine).toBe('native');
    expect(compileUserRegex('error|warn').engine).toBe('native');
    expect(compileUserRegex('id=\\d\\d [a-f0-9]').engine).toBe('native');
    expect(compileUserRegex('a+').engine).toBe('re2');
    expect(compileUserRegex('(error)').engine).toBe('re2');
  });

  it('finds match positions', () => {
    const re = compileUserRegex('b+');
    expect(re.find('aabbbc')).toEqual({ index: 2, length: 3 });
    expect(re.findAll('ab abb b')).toEqual([
      { index: 1, length: 1 },
      { index: 4, length: 2 },
      { index: 7, length: 1 },
    ]);
    const native = compileUserRegex('o|x');
    expect(native.engine).toBe('native');
    expect(native.findAll('foo box', 2)).toEqual([
      { index: 1, length: 1 },
      { index: 2, length: 1 },
    ]);
  });
});

describe('the native subset', () => {
  const patterns = [
    'abc', 'a|b|c', '^ab', 'ab$', '^$', 'a.c', '\\d\\d', '\\w\\W', '\\s', '\\S', '\\bab\\b', '\\Bb',
    '[abc]', '[^abc]', '[a-c]', '[\\d]', '[\\s]', '[-a]', '[a-]', '[\\]]', '\\.', '\\*', '\\-', '\\n', '\\t',
    'é', '日本', '😀.', 'a.b|c\\.d', '[^\\n]',
  ];
  const alphabet = ['a', 'b', 'c', 'A', 'B', '1', '2', ' ', '\t', '\r', '\n', '.', '*', '-', ']', 'é', 'É', '日', '本', '😀', '\u2028', '\u00a0', 'ſ', 'K'];
  function randomText(seed: number): string {
    let x = seed;
    let s = '';
    const n = 1 + (seed % 12);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      s += alphabet[x % alphabet.length];
    }
    return s;
  }

  it('gives the same answers as RE2 on random texts', () => {
    for (const ignoreCase of [false, true]) {
      for (const p of patterns) {
        const translated = translateToSafeNative(p, ignoreCase);
        if (translated === null) continue;
        const native = new RegExp(translated, ignoreCase ? 'iu' : 'u');
        const re2 = RE2JS.compile(p, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
        const texts = ['a\rc', 'a\u2028c', 'a\nc', ' \u00a0', 'ab\n', 'ſK', 'AB', 'ab c', ...Array.from({ length: 400 }, (_, i) => randomText((i + 1) * 7919))];
        for (const text of texts) {
          expect(native.test(text), `${p} on ${JSON.stringify(text)} ignoreCase=${ignoreCase}`).toBe(re2.test(text));
        }
      }
    }
  });

  it('rejects groups, quantifiers and RE2-only syntax', () => {
    for (const p of ['a*', 'a+', 'a?', 'a{2}', '(a)', '(?:a)', '[[:alpha:]]', '[]a]', '\\x41', '\\pL', '\\Qa\\E', '\\1', '\\z']) {
      expect(translateToSafeNative(p, false), p).toBeNull();
    }
  });

  it('leaves non-ASCII case-insensitive patterns to RE2', () => {
    expect(translateToSafeNative('é', true)).toBeNull();
    expect(translateToSafeNative('\\w', true)).toBeNull();
  });
});
