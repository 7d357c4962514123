/**
 * The scrubber's error and warning marks, merged where a long run has too many to draw one by
 * one. Each mark is an element the browser hit-tests on every pointer event over the scrubber:
 * a 1 GB run's 7,000 marks made a seek there take 208 ms instead of 104 ms (p50, bench
 * `replay-ui`). Up to MAX_MARKS of a kind are drawn one per mark; beyond that, one per
 * 1/MARK_BINS of the run, standing for every mark in it, at the last of them (where a seek
 * from a cluster of errors lands: the whole traceback is on screen then).
 */
import type { ReplayTimeline } from '../../shared/ipc.js';

type Marker = ReplayTimeline['markers'][number];

/** Marks of one kind drawn one by one; more are merged per bin. */
export const MAX_MARKS = 400;
/** Bins over the run's span when marks are merged: 2 to 4 pixels each on a scrubber 800 to 1,600 pixels wide, as wide as a mark. */
export const MARK_BINS = 400;

export interface ShownMark {
  /** The last mark of the bin, where the element sits and what a click seeks to. */
  mark: Marker;
  /** How many marks it stands for. */
  count: number;
}

/** The marks to draw for `marks` (in time order), `fractionOf` placing a time on the scrubber (0..1). */
export function shownMarks(marks: readonly Marker[], fractionOf: (time: number) => number): ShownMark[] {
  if (marks.length <= MAX_MARKS) return marks.map((mark) => ({ mark, count: 1 }));
  const shown: ShownMark[] = [];
  let bin = -1;
  for (const mark of marks) {
    const b = Math.min(MARK_BINS - 1, Math.floor(fractionOf(mark.time) * MARK_BINS));
    if (b === bin) {
      const last = shown[shown.length - 1];
      last.mark = mark;
      last.count++;
    } else {
      shown.push({ mark, count: 1 });
      bin = b;
    }
  }
  return shown;
}

/** A mark's tooltip: its line, or for a merged one how many it stands for and the last line. */
export function markTitle({ mark, count }: ShownMark, noun: 'error' | 'warning'): string {
  return count === 1 ? mark.text : `${count} ${noun}s here; the last: ${mark.text}`;
}
