import { describe, expect, it } from 'vitest';
import { compileUserRegex } from '../regex/userRegex.js';
import { containsInOrder, literalSequence, requiredLiterals } from './regexPrefilter.js';

/** A small alphabet, so random patterns match random texts often enough to test both answers. */
const ALPHABET = ['a', 'b', 'c', 'ab', '.', '.*', '+', '?', '*', '{2}', '\\d', '[ab]', '(ab)', '(a|b)', '\\.', '^', '$', '1'];

let seed = 7;
function random(): number {
  seed = (seed * 48271) % 2147483647;
  return seed / 2147483647;
}
function pick<T>(list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

describe('regex prefilter', () => {
  it('finds the literal runs in pattern order', () => {
    expect(literalSequence('FAIL.*took \\d+', false)).toEqual(['FAIL', 'took ']);
    expect(literalSequence('src/.*\\.ts', false)).toEqual(['src/', '.ts']);
    expect(literalSequence('ab?c', false)).toEqual(['a', 'c']);
    expect(literalSequence('a|b', false)).toBeNull();
    expect(literalSequence('FAIL', true)).toBeNull();
    expect(literalSequence('(?i)FAIL', false)).toBeNull();
    expect(requiredLiterals('FAIL.*took \\d+', false)).toEqual(['took ', 'FAIL']);
  });

  it('never rejects a text the regex matches (random patterns and texts)', () => {
    let matched = 0;
    for (let i = 0; i < 1500; i++) {
      let pattern = '';
      for (let n = 1 + Math.floor(random() * 6); n > 0; n--) pattern += pick(ALPHABET);
      let regex;
      try {
        regex = compileUserRegex(pattern);
      } catch {
        continue; // e.g. a quantifier with nothing before it
      }
      const sequence = literalSequence(pattern, false);
      for (let t = 0; t < 5; t++) {
        let text = '';
        for (let n = Math.floor(random() * 12); n > 0; n--) text += pick(['a', 'b', 'c', '1', '.', ' ']);
        if (!regex.test(text)) continue;
        matched++;
        if (sequence !== null) expect(containsInOrder(text, sequence), `${pattern} on ${JSON.stringify(text)}`).toBe(true);
      }
    }
    expect(matched).toBeGreaterThan(250);
  });
});
