import { describe, expect, it } from 'vitest';
import { formatUsd, totalTokens } from './cost.js';

describe('tokens and cost as printed', () => {
  it('adds every kind of token', () => {
    expect(totalTokens({ input: 5000, output: 500, cacheRead: 20000, cacheWrite: 10 })).toBe(25510);
  });

  it('prints dollars with cents, sub-cent costs with four places, and an unknown price as unpriced', () => {
    expect(formatUsd(0.4249)).toBe('$0.42');
    expect(formatUsd(0.00312)).toBe('$0.0031');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(null)).toBe('unpriced');
  });
});
