/**
 * What every source format maps into (SPEC §14): a parsed session, i.e. the entries of one run
 * with their source timestamps, plus what identifies the session across imports. One module per
 * format (claudeTranscript.ts, codexRollout.ts, asciicast.ts) turns a file's lines into this.
 */
import { totalTokens, type TokenCounts } from '../../../shared/cost.js';
import type { EntryMetadata, EntryType } from '../../../shared/entry.js';

export type { TokenCounts };

export type TranscriptFormat = 'claude' | 'claude-stream' | 'codex' | 'asciicast';

/** The formats that are an agent's own record (search's `transcript` source); a cast is a terminal's. */
export const AGENT_TRANSCRIPT_FORMATS: readonly TranscriptFormat[] = ['claude', 'claude-stream', 'codex'];

/** One complete line of a source file, numbered from 1. */
export interface SourceLine {
  text: string;
  line: number;
}

/** A source line that could not be read; the import goes on without it. */
export interface CorruptSourceLine {
  line: number;
  error: string;
}

/** An entry to write, stamped with the time the source gives it (µs since the epoch). */
export interface ImportedEntry {
  type: EntryType;
  content: string;
  metadata?: EntryMetadata;
  timeMicros: number;
}

/** Token counts as Loupe reports them: `input` excludes the cached input read or written. */
export interface ParsedSession {
  format: TranscriptFormat;
  /** The source's own session id (Claude `sessionId`, Codex `session_meta.id`, a hash for casts). */
  sessionId: string;
  /** What the started entry names as the command (`claude`, `codex`, a cast's recorded command). */
  command: string;
  cwd: string | null;
  /** The first timestamp in the source, null when it has none. */
  startMicros: number | null;
  /** Extra metadata for the run's started entry (a cast's cols and rows, ...). */
  startMetadata: EntryMetadata;
  entries: ImportedEntry[];
  corrupt: CorruptSourceLine[];
}

/** Options every parser takes. */
export interface ParseOptions {
  /** The time for records before any timestamp, when the source has none at all (the file's mtime). */
  fallbackMicros: number;
}

/** Capture's chunk limit (spool-capture PARTIAL_MAX_BYTES): imported lines are cut the same way. */
export const MAX_ENTRY_CHARS = 64 * 1024;

/** Microseconds of an ISO 8601 timestamp or a Unix time in seconds, or null for anything else. */
export function sourceMicros(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.round(value * 1_000_000);
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms * 1000 : null;
}

/**
 * Text as entries, one per line, lines longer than MAX_ENTRY_CHARS cut into `partial` chunks.
 * Empty text gives no entries. The importer ends each line as a terminal does (`asTerminalLine`).
 */
export function textEntries(text: string, type: EntryType, timeMicros: number, metadata: EntryMetadata = {}): ImportedEntry[] {
  const clean = text.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  if (clean.trim() === '') return [];
  const out: ImportedEntry[] = [];
  for (const line of clean.split('\n')) {
    for (const [chunk, partial] of chunks(line)) {
      out.push({ type, content: chunk, timeMicros, metadata: partial ? { ...metadata, partial: true } : metadata });
    }
  }
  return out;
}

/**
 * A transcript line as a pty records it, ending in `\r` (the entry's newline then returns to the
 * first column), so the live pane, replay and exports show it as the screen lines do, not as a
 * staircase. Partial chunks and entries that are not terminal output stay as they are.
 */
export function asTerminalLine(entry: ImportedEntry): ImportedEntry {
  const terminal = entry.type === 'stdout' || entry.type === 'stderr' || (entry.type === 'control' && entry.metadata?.tool_call !== undefined);
  if (!terminal || entry.metadata?.partial === true || entry.content.endsWith('\r')) return entry;
  return { ...entry, content: `${entry.content}\r` };
}

/** A line cut into MAX_ENTRY_CHARS pieces, never inside a surrogate pair; all but the last are partial. */
export function* chunks(line: string): Generator<[string, boolean]> {
  let start = 0;
  while (line.length - start > MAX_ENTRY_CHARS) {
    let end = start + MAX_ENTRY_CHARS;
    const code = line.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end--; // a high surrogate: keep the pair together
    yield [line.slice(start, end), true];
    start = end;
  }
  yield [line.slice(start), false];
}

/** One line as a short summary (tool arguments, record kinds): at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A plain JSON object, or null. */
export function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

export function asString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** A non-negative token count, 0 for anything else. */
export function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** Parses one source line as a JSON object, or says why it is not one. */
export function parseRecord(line: SourceLine): { record: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
  const record = asObject(value);
  return record === null ? { error: 'not a JSON object' } : { record };
}

/**
 * A JSON-lines session (a Claude transcript, a Codex rollout) about to be read: named after its
 * file until the records say otherwise, starting at its first record's `timestamp`.
 */
export function jsonLinesSession(format: TranscriptFormat, lines: readonly SourceLine[], fileStem: string): ParsedSession {
  return {
    format,
    sessionId: fileStem,
    command: format,
    cwd: null,
    startMicros: firstTimestamp(lines, (r) => r.timestamp),
    startMetadata: {},
    entries: [],
    corrupt: [],
  };
}

/** The records of a JSON-lines source, in order; a line that is not a JSON object goes to `session.corrupt`. */
export function* jsonRecords(lines: readonly SourceLine[], session: ParsedSession): Generator<Record<string, unknown>> {
  for (const line of lines) {
    const parsed = parseRecord(line);
    if ('error' in parsed) session.corrupt.push({ line: line.line, error: parsed.error });
    else yield parsed.record;
  }
}

/** The first timestamp among the records (`timestamp` keys), for records that come before it. */
export function firstTimestamp(lines: readonly SourceLine[], pick: (record: Record<string, unknown>) => unknown): number | null {
  for (const line of lines) {
    const parsed = parseRecord(line);
    if (!('record' in parsed)) continue;
    const micros = sourceMicros(pick(parsed.record));
    if (micros !== null) return micros;
  }
  return null;
}

/**
 * A `system` entry with `event: 'usage'`: tokens a model used, as they appear in the source.
 * Run summaries add these up and price them (index/runs.ts), or take `costUsd` when the source
 * states what the tokens cost (stream-json's `total_cost_usd`).
 */
export function usageEntry(model: string | null, tokens: TokenCounts, timeMicros: number, costUsd?: number): ImportedEntry {
  const cost = costUsd === undefined ? '' : `, cost $${costUsd}`;
  return {
    type: 'system',
    content: `[tokens] ${model ?? 'unknown model'}: input ${tokens.input}, output ${tokens.output}, cache read ${tokens.cacheRead}, cache write ${tokens.cacheWrite}${cost}`,
    timeMicros,
    metadata: { event: 'usage', level: 'debug', usage: costUsd === undefined ? { model, ...tokens } : { model, ...tokens, costUsd } },
  };
}

/** What a cumulative count grew by since `before` (never negative). */
export function tokenGrowth(after: TokenCounts, before: TokenCounts): TokenCounts {
  return {
    input: Math.max(0, after.input - before.input),
    output: Math.max(0, after.output - before.output),
    cacheRead: Math.max(0, after.cacheRead - before.cacheRead),
    cacheWrite: Math.max(0, after.cacheWrite - before.cacheWrite),
  };
}

export function isZero(t: TokenCounts): boolean {
  return totalTokens(t) === 0;
}

/** A record kind this importer does not know: kept whole in metadata, never dropped. */
export function unknownRecordEntry(kind: string, record: Record<string, unknown>, timeMicros: number, label: string): ImportedEntry {
  return {
    type: 'system',
    content: `[${label}] ${oneLine(kind, 80)} record`,
    timeMicros,
    metadata: { event: 'record', record_type: kind, record },
  };
}
