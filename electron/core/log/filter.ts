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

/** Whether `entry` passes `filter` (the regex runs on its ANSI-stripped content). */
export function matchesFilter(entry: LogEntry, filter: EntryFilter): boolean {
  if (!matchesTypeAndLevel(entry.type, entryLevel(entry), filter)) return false;
  return filter.regex === undefined || filter.regex.test(strippedContent(entry.content));
}

/** Whether a screen line (SPEC §12) passes `filter`: the same meaning, the regex on its text. */
export function matchesLine(line: { type: EntryType; level: Level; text: string }, filter: EntryFilter): boolean {
  if (!matchesTypeAndLevel(line.type, line.level, filter)) return false;
  return filter.regex === undefined || filter.regex.test(line.text);
}

function matchesTypeAndLevel(type: EntryType, level: Level, filter: EntryFilter): boolean {
  if (filter.types !== undefined && !filter.types.includes(type)) return false;
  return filter.minLevel === undefined || LEVELS.indexOf(level) >= LEVELS.indexOf(filter.minLevel);
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
