import { describe, expect, it } from 'vitest';
import { chooseFontSize, DEFAULT_MIN_FONT_SIZE, MAX_FITTED_FONT_SIZE } from './fitTerminal.js';

const settings = { minFontSize: DEFAULT_MIN_FONT_SIZE, zoom: 0 };

describe('chooseFontSize', () => {
  it('takes the size that fits, in half-pixel steps', () => {
    expect(chooseFontSize(13.7, settings)).toBe(13.5);
  });

  it('never goes below the readable minimum: the pane scrolls instead', () => {
    expect(chooseFontSize(6.2, settings)).toBe(11);
    expect(chooseFontSize(6.2, { minFontSize: 8, zoom: 0 })).toBe(8);
  });

  it('does not blow a small terminal up to fill a huge pane', () => {
    expect(chooseFontSize(41, settings)).toBe(MAX_FITTED_FONT_SIZE);
  });

  it('zooms the fitted size by 10 % a step, also below the minimum and above the fitted maximum', () => {
    expect(chooseFontSize(12, { ...settings, zoom: 1 })).toBe(13);
    expect(chooseFontSize(12, { ...settings, zoom: -2 })).toBe(9.5);
    expect(chooseFontSize(41, { ...settings, zoom: 3 })).toBe(26.5);
    expect(chooseFontSize(12, { ...settings, zoom: -40 })).toBeGreaterThanOrEqual(5);
  });
});
