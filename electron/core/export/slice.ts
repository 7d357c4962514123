/**
 * Which part of a run an export holds: a time range, a sequence range, and the same type, level
 * and regex filter a filtered tail or pane uses (so "export what I am looking at" is exact).
 */
import { parseTimestamp, type LogEntry } from '../../../shared/entry.js';
import { isEmptyFilter, matchesFilter, type EntryFilter } from '../log/filter.js';

export interface ExportSlice {
  /** Keep entries at or after this time (microseconds since the epoch). */
  sinceMicros?: number;
  /** Keep entries at or before this time (microseconds since the epoch). */
  untilMicros?: number;
  /** Keep entries with a sequence at or above this. */
  fromSeq?: number;
  /** Keep entries with a sequence at or below this. */
  toSeq?: number;
  /** Type, level and regex filter. */
  filter?: EntryFilter;
}

/** Where an entry stands relative to the slice's ranges (ignoring the filter). */
export type RangePosition = 'before' | 'inside' | 'after';

/** Whether the entry is before, inside or after the slice's time and sequence ranges. */
export function rangePosition(entry: LogEntry, slice: ExportSlice): RangePosition {
  if (slice.fromSeq !== undefined && entry.sequence < slice.fromSeq) return 'before';
  if (slice.toSeq !== undefined && entry.sequence > slice.toSeq) return 'after';
  if (slice.sinceMicros !== undefined || slice.untilMicros !== undefined) {
    const t = parseTimestamp(entry.timestamp);
    if (slice.sinceMicros !== undefined && t < slice.sinceMicros) return 'before';
    if (slice.untilMicros !== undefined && t > slice.untilMicros) return 'after';
  }
  return 'inside';
}

/** Whether `entry` is exported: inside the ranges and kept by the filter. */
export function inSlice(entry: LogEntry, slice: ExportSlice): boolean {
  return rangePosition(entry, slice) === 'inside' && (slice.filter === undefined || matchesFilter(entry, slice.filter));
}

/** True when the slice keeps the whole run. */
export function isWholeRun(slice: ExportSlice): boolean {
  return (
    slice.sinceMicros === undefined &&
    slice.untilMicros === undefined &&
    slice.fromSeq === undefined &&
    slice.toSeq === undefined &&
    (slice.filter === undefined || isEmptyFilter(slice.filter))
  );
}
