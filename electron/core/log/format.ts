/**
 * Output formats for entries read from a log (SPEC §5): what `loupe tail` prints and what
 * `get_agent_output` returns.
 *
 * - `text`: one readable line per terminal line: local time, type, level when it matters, and the
 *   content with ANSI stripped and `\r` overwrites resolved to what the terminal finally showed.
 *   Chunks flushed without a newline (`partial`) are joined with the rest of their line.
 * - `ansi`: the exact terminal byte stream (`entryTerminalText`): terminal entries only.
 * - `jsonl`: the lines exactly as stored.
 * - `json`: a JSON array of the entries.
 */
import { entryLevel, entryTerminalText, type LogEntry } from '../../../shared/entry.js';
import { visibleText } from '../redact/terminalEscapes.js';
import type { ReadEntry } from './reader.js';

export const OUTPUT_FORMATS = ['text', 'ansi', 'jsonl', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A streaming formatter: write `begin()`, then `format()` for each batch, then `end()`. */
export interface EntryFormatter {
  begin(): string;
  format(entries: readonly ReadEntry[]): string;
  /** Text held back waiting for the rest of a line (text format); '' when none. */
  flushPending(): string;
  end(): string;
}

/** Creates a formatter for `format`. */
export function createFormatter(format: OutputFormat): EntryFormatter {
  switch (format) {
    case 'ansi':
      return simpleFormatter((e) => entryTerminalText(e.entry));
    case 'jsonl':
      return simpleFormatter((e) => e.line + '\n');
    case 'json':
      return jsonArrayFormatter();
    case 'text':
      return new TextFormatter();
  }
}

function simpleFormatter(one: (e: ReadEntry) => string): EntryFormatter {
  return {
    begin: () => '',
    format: (entries) => {
      let out = '';
      for (const e of entries) out += one(e);
      return out;
    },
    flushPending: () => '',
    end: () => '',
  };
}

/** A JSON array that can be streamed: `[`, entries separated by commas, `]`. */
function jsonArrayFormatter(): EntryFormatter {
  let count = 0;
  return {
    begin: () => '[',
    format: (entries) => {
      let out = '';
      for (const e of entries) out += `${count++ === 0 ? '\n' : ',\n'}${JSON.stringify(e.entry)}`;
      return out;
    },
    flushPending: () => '',
    end: () => (count === 0 ? ']\n' : '\n]\n'),
  };
}

/** Control characters other than tab and `\r` (already resolved): they only garble a text line. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * What a terminal line finally shows after `\r` overwrites: each segment after a `\r` overwrites
 * the start of the line, and a longer earlier segment keeps its tail (as a terminal would).
 */
export function resolveCarriageReturns(text: string): string {
  if (!text.includes('\r')) return text;
  let shown = '';
  for (const segment of text.split('\r')) {
    shown = segment.length >= shown.length ? segment : segment + shown.slice(segment.length);
  }
  return shown;
}

/**
 * One entry's content as readable text: escape sequences stripped (8-bit C1 forms like their
 * 7-bit ones, RELIABILITY E7), `\r` resolved, control characters dropped.
 */
export function readableText(content: string): string {
  return resolveCarriageReturns(visibleText(content).visible).replace(CONTROL_CHARS, '');
}

const TYPE_LABELS: Record<LogEntry['type'], string> = {
  stdout: 'out',
  stderr: 'err',
  system: 'sys',
  control: 'ctl',
};

function localTime(timestamp: string): string {
  // Entries are read as written; a naive or odd stamp is shown as it is rather than reinterpreted.
  const millis = Date.parse(timestamp);
  if (Number.isNaN(millis)) return timestamp;
  const d = new Date(millis);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** `2026-11-21 23:54:09.712 out  text`, with `[warn]`/`[error]`/`[fatal]` before the text when present. */
export function textLine(entry: LogEntry, content: string): string {
  const level = entryLevel(entry);
  const marker = level === 'warn' || level === 'error' || level === 'fatal' ? `[${level}] ` : '';
  return `${localTime(entry.timestamp)} ${TYPE_LABELS[entry.type]}  ${marker}${readableText(content)}\n`;
}

/**
 * The text format. Holds a partial chunk back until the rest of its line arrives, so a spinner
 * written as many `\r` chunks shows as one line in its final state.
 */
class TextFormatter implements EntryFormatter {
  private pending: { entry: LogEntry; content: string } | null = null;

  begin(): string {
    return '';
  }

  format(entries: readonly ReadEntry[]): string {
    let out = '';
    for (const { entry } of entries) {
      if (this.pending !== null && this.pending.entry.type !== entry.type) out += this.flushPending();
      const content = this.pending !== null ? this.pending.content + entry.content : entry.content;
      const first = this.pending?.entry ?? entry;
      if (entry.metadata?.partial === true) {
        this.pending = { entry: first, content };
        continue;
      }
      this.pending = null;
      out += textLine(first, content);
    }
    return out;
  }

  flushPending(): string {
    if (this.pending === null) return '';
    const line = textLine(this.pending.entry, this.pending.content);
    this.pending = null;
    return line;
  }

  end(): string {
    return this.flushPending();
  }
}
