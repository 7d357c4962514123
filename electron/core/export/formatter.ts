/**
 * What every export format implements. The exporter reads each agent's run in order, redacts it,
 * and hands the formatter the entries the slice selects; the formatter turns them into text and
 * passes it to the sink as it goes, so memory stays flat for any size of run.
 */
import type { LogEntry } from '../../../shared/entry.js';
import type { EntryFilter } from '../log/filter.js';

export const EXPORT_FORMATS = ['jsonl', 'text', 'ansi', 'html', 'cast', 'replay-html'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The file name extension for each format (before any `.gz`). */
export const FORMAT_EXTENSIONS: Record<ExportFormat, string> = {
  jsonl: '.jsonl',
  text: '.txt',
  ansi: '.ans',
  html: '.html',
  cast: '.cast',
  'replay-html': '.html',
};

/** Where formatted output goes. */
export interface OutputSink {
  write(chunk: string | Uint8Array): void;
}

/** One agent being exported. */
export interface ExportAgent {
  agentId: string;
  taskId: string;
  /** The root it lives under (its classification rules apply to its screen lines). */
  root?: string;
}

/** What the formatter knows of the export as a whole. */
export interface ExportContext {
  /** A title for the export: the agent, or the task. */
  title: string;
  /** Every agent in the export, in order. */
  agents: readonly ExportAgent[];
  /** The slice's type, level and regex filter, for formatters that apply it to screen lines. */
  lineFilter?: EntryFilter;
}

export interface RunFormatter {
  /**
   * Set by formatters of screen lines (text, html): they are handed every entry in the slice's
   * time and sequence range and apply the slice's filter to the lines themselves, since a line
   * is made from entries the filter would have left out (SPEC §12).
   */
  readonly readsLines?: true;
  startAgent(agent: ExportAgent): void;
  /**
   * An entry that records the terminal size (`cols`/`rows`): the start, or a resize. Called for
   * every such entry up to the end of the slice's range, selected or not, so the formatter
   * always knows the size its output is played at.
   */
  resize(cols: number, rows: number, entry: LogEntry): void;
  /**
   * An entry the slice selects (already redacted). `storedLine` is its JSONL line exactly as
   * stored (without the newline) when redaction left it unchanged.
   */
  entry(entry: LogEntry, storedLine?: string): void;
  endAgent(): void;
  /** Called after each batch of entries: a formatter that buffers waits here for room. */
  drain?(): Promise<void>;
  /** Writes what is left; `redactions` counts the redactions made by kind, null when redaction was off. */
  finish(redactions: Record<string, number> | null): Promise<void> | void;
}
