import { describe, expect, it } from 'vitest';
import { MARK_BINS, MAX_MARKS, markTitle, shownMarks } from './markBins.js';

const marker = (seq: number, time: number) => ({ seq, time, level: 'error' as const, text: `error ${seq}` });
const fractionOf = (span: number) => (t: number) => t / span;

describe('the marks a scrubber draws', () => {
  it('draws every mark while there are few, however close they are', () => {
    const marks = Array.from({ length: MAX_MARKS }, (_, i) => marker(i, 1000 + i));
    const shown = shownMarks(marks, fractionOf(1_000_000_000));
    expect(shown).toHaveLength(MAX_MARKS);
    expect(shown.every((s) => s.count === 1)).toBe(true);
    expect(markTitle(shown[3], 'error')).toBe('error 3');
  });

  it('merges many marks into one per bin, at the last mark of each, counting them all', () => {
    const span = 1_000_000;
    const bin = span / MARK_BINS;
    // A burst of 4,000 marks in the first bin, then one in the middle of every bin.
    const marks = [
      ...Array.from({ length: 4000 }, (_, i) => marker(i, (i / 4000) * (bin / 4))),
      ...Array.from({ length: MARK_BINS }, (_, i) => marker(4000 + i, (i + 0.5) * bin)),
    ];
    const shown = shownMarks(marks, fractionOf(span));
    expect(shown).toHaveLength(MARK_BINS);
    expect(shown.reduce((n, s) => n + s.count, 0)).toBe(marks.length);
    expect(shown[0]).toEqual({ mark: marker(4000, bin / 2), count: 4001 });
    expect(shown[1]).toEqual({ mark: marker(4001, 1.5 * bin), count: 1 });
    expect(markTitle(shown[0], 'error')).toBe('4001 errors here; the last: error 4000');
    expect(shown.at(-1)!.mark.seq).toBe(4000 + MARK_BINS - 1);
    // A mark at the very end of the run falls in the last bin, not past it.
    expect(shownMarks([...marks, marker(9999, span)], fractionOf(span)).at(-1)).toEqual({ mark: marker(9999, span), count: 2 });
  });
});
