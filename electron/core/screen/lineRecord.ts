/**
 * A screen line as the text features read it: its text, when it showed, the entries that made
 * it, and the type and level the classification rules (SPEC §4) give it.
 */
import { entryLevel, type EntryType, type Level, type LogEntry } from '../../../shared/entry.js';
import type { Classifier } from '../capture/classify.js';
import { readableText } from '../log/format.js';
import type { ScreenLine } from './screenLines.js';

export interface LineRecord {
  /** The entry after which the line showed this text (a search hit opens the replay there). */
  sequence: number;
  /** The first entry that wrote into it. */
  firstSequence: number;
  /** µs since the epoch. */
  time: number;
  type: EntryType;
  level: Level;
  text: string;
  /** The line with its colors (SGR sequences), when they were asked for (exports). */
  ansi?: string;
}

/**
 * Type and level of a screen line. A line that one entry drew, as capture saw it, keeps that
 * entry's type and level (capture classified it in context, or the tool that wrote the log said
 * so); any other line is classified on its own text with the root's rules.
 */
export function classifyScreenLine(line: ScreenLine, classify: Classifier): { type: EntryType; level: Level } {
  if (line.own !== undefined) return line.own;
  const c = classify(line.text);
  const level = c.metadata?.level;
  return { type: c.type, level: typeof level === 'string' ? (level as Level) : c.type === 'stderr' ? 'error' : 'info' };
}

/** The line of a system entry (started, resized, terminated, gaps): its content, as it is. */
export function systemLine(entry: LogEntry, time: number): LineRecord {
  return {
    sequence: entry.sequence,
    firstSequence: entry.sequence,
    time,
    type: 'system',
    level: entryLevel(entry),
    text: readableText(entry.content),
  };
}

/** A screen line with its type and level. */
export function lineRecord(line: ScreenLine, classify: Classifier): LineRecord {
  return { sequence: line.lastSeq, firstSequence: line.firstSeq, time: line.time, text: line.text, ...classifyScreenLine(line, classify) };
}
