/**
 * Which part of a run an export holds: a time range, a sequence range, and a type, level and
 * regex filter with the same meaning as a search of the index (`loupe search`), so exporting
 * what a search shows gives exactly those entries. The regex runs on the text search sees:
 * escape sequences removed, carriage returns as line breaks.
 */
import { entryLevel, LEVELS, parseTimestamp, type LogEntry } from '../../../shared/entry.js';
import { searchableText } from '../index/searchableText.js';
import { isEmptyFilter, type EntryFilter } from '../log/filter.js';

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
  return rangePosition(entry, slice) === 'inside' && (slice.filter === undefined || passesFilter(entry, slice.filter));
}

function passesFilter(entry: LogEntry, filter: EntryFilter): boolean {
  if (filter.types !== undefined && !filter.types.includes(entry.type)) return false;
  if (filter.minLevel !== undefined && LEVELS.indexOf(entryLevel(entry)) < LEVELS.indexOf(filter.minLevel)) return false;
  return filter.regex === undefined || filter.regex.test(searchableText(entry.content));
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
