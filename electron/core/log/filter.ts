/**
 * Which entries a filtered tail or a filtered pane shows: by type, by level, by a regex on the
 * ANSI-stripped content (SPEC §5).
 */
import { visibleText } from '../redact/terminalEscapes.js';
import { entryLevel, LEVELS, type EntryType, type Level, type LogEntry } from '../../../shared/entry.js';
import type { UserRegex } from '../regex/userRegex.js';

export interface EntryFilter {
  /** Keep only these types. */
  types?: readonly EntryType[];
  /** Keep entries at this level or more severe (`warn` keeps warn, error and fatal). */
  minLevel?: Level;
  /** Keep entries whose ANSI-stripped content matches. */
  regex?: UserRegex;
}

/** True when the filter keeps nothing out. */
export function isEmptyFilter(filter: EntryFilter): boolean {
  return filter.types === undefined && filter.minLevel === undefined && filter.regex === undefined;
}

/** Whether `entry` passes `filter`. */
export function matchesFilter(entry: LogEntry, filter: EntryFilter): boolean {
  if (filter.types !== undefined && !filter.types.includes(entry.type)) return false;
  if (filter.minLevel !== undefined && LEVELS.indexOf(entryLevel(entry)) < LEVELS.indexOf(filter.minLevel)) {
    return false;
  }
  if (filter.regex !== undefined && !filter.regex.test(strippedContent(entry.content))) return false;
  return true;
}

/**
 * ANSI-stripped content without its line ending: a pty ends every line in `\r`, which is never
 * content (so `end$` matches `echo alpha end`). Most lines have no escape at all, and stripping
 * costs more than the match.
 */
function strippedContent(content: string): string {
  const text = visibleText(content).visible;
  return text.endsWith('\r') ? text.replace(/\r+$/, '') : text;
}
