/**
 * The log entry: one JSON object per line of `<agent_id>_stream.jsonl` (SPEC §3).
 * Pure: no Node, no DOM, so every process can use it.
 */

/**
 * Where a run's text (search's `source` filter) comes from: `terminal`, what a terminal showed (captured panes, imported
 * asciicast recordings); `transcript`, an agent's own record (imported Claude Code transcripts
 * and stream-json logs, Codex rollouts).
 */
export const SEARCH_SOURCES = ['terminal', 'transcript'] as const;
export type SearchSource = (typeof SEARCH_SOURCES)[number];

export const ENTRY_TYPES = ['stdout', 'stderr', 'system', 'control'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

export const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];

/** Metadata keys Loupe writes. Other keys written by other tools are kept as they are. */
export interface EntryMetadata {
  /** The chunk did not end in a newline (flushed on idle or at the chunk size limit). */
  partial?: boolean;
  level?: Level;
  cols?: number;
  rows?: number;
  tmux_session?: string;
  pane_id?: string;
  capture?: CaptureMethod;
  exit_status?: number | null;
  tool_call?: string;
  error?: string;
  /** Output is known to be missing here; the value says why. */
  gap?: string;
  /** What a system entry records: started, resized, terminated, capture_lost, capture_reattached, ... */
  event?: string;
  command?: string;
  [key: string]: unknown;
}

export type CaptureMethod = 'pipe-pane' | 'poll';

export interface LogEntry {
  timestamp: string;
  agent_id: string;
  type: EntryType;
  sequence: number;
  content: string;
  metadata?: EntryMetadata;
}

/** Agent ids double as file names, so they are an allow-list (SPEC §3, RELIABILITY E6). */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** `TASK-<YYYYMMDD-HHMMSS>-<8 hex>`: the name of a task's folder under `.agent-workspace/`. */
export const TASK_ID_PATTERN = /^TASK-\d{8}-\d{6}-[0-9a-f]{8}$/;

/** tmux `-L` socket names become file names under the tmux socket folder. */
export const SOCKET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isAgentId(value: string): boolean {
  return AGENT_ID_PATTERN.test(value);
}

export function isTaskId(value: string): boolean {
  return TASK_ID_PATTERN.test(value);
}

/** Throws an error that names the bad id and says what a valid one looks like. */
export function checkAgentId(value: string): string {
  if (!isAgentId(value)) {
    throw new InvalidIdError(
      `invalid agent id ${JSON.stringify(value)}: use 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit`,
    );
  }
  return value;
}

export function checkTaskId(value: string): string {
  if (!isTaskId(value)) {
    throw new InvalidIdError(
      `invalid task id ${JSON.stringify(value)}: expected TASK-YYYYMMDD-HHMMSS-xxxxxxxx (8 lowercase hex digits), e.g. TASK-20260101-120000-0a1b2c3d`,
    );
  }
  return value;
}

export function checkSocketName(value: string): string {
  if (!SOCKET_NAME_PATTERN.test(value)) {
    throw new InvalidIdError(
      `invalid tmux socket name ${JSON.stringify(value)}: use 1-64 characters from A-Z a-z 0-9 . _ -`,
    );
  }
  return value;
}

/** A user-facing input error: the CLI prints its message without a stack trace. */
export class InvalidIdError extends Error {
  override name = 'InvalidIdError';
}

/** Turns a free-form name (a command's basename, say) into a valid agent id. */
export function sanitizeAgentId(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return cleaned.length > 0 ? cleaned : 'agent';
}

// ---------------------------------------------------------------------------
// Timestamps: ISO 8601 with microseconds and a UTC offset.

/** The high-resolution clock, present in Node and browsers alike. */
declare const performance: { readonly timeOrigin: number; now(): number };

/** Microseconds since the epoch, from the high-resolution clock. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** The last second formatted, reused: all lines of one read share their timestamp, and most share the second. */
let cachedSecond = Number.NaN;
let cachedSecondText = '';

/** `2026-11-21T23:54:09.712345+00:00` */
export function formatTimestamp(micros: number): string {
  const second = Math.floor(micros / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = new Date(second * 1000).toISOString().slice(0, 19); // 2026-11-21T23:54:09
  }
  return `${cachedSecondText}.${String(micros - second * 1_000_000).padStart(6, '0')}+00:00`;
}

const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses a timestamp to microseconds since the epoch, or NaN.
 * Naive stamps (no offset), as Python's `datetime.now().isoformat()` writes them, are read as local time.
 */
export function parseTimestamp(value: string): number {
  const m = TIMESTAMP_PATTERN.exec(value);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const micros = Number((frac + '000000').slice(0, 6));
  let millis: number;
  if (zone === undefined) {
    millis = new Date(+y, +mo - 1, +d, +h, +mi, +s).getTime();
  } else {
    millis = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
    if (zone !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      millis -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
  }
  return millis * 1000 + micros;
}

// ---------------------------------------------------------------------------
// Validation. Hand-written rather than a schema library: readers run it on every line.

export type ParsedLine = { ok: true; entry: LogEntry } | { ok: false; error: string };

/** Checks that a parsed JSON value is a valid entry; returns the reason when it is not. */
export function validateEntry(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  // A shape check, not a full parse: readers run this on every line, and parsing cost as much as JSON.parse.
  if (typeof e.timestamp !== 'string' || !TIMESTAMP_PATTERN.test(e.timestamp)) {
    return 'timestamp is missing or not ISO 8601';
  }
  if (typeof e.agent_id !== 'string' || !isAgentId(e.agent_id)) return 'agent_id is missing or invalid';
  if (typeof e.type !== 'string' || !(ENTRY_TYPES as readonly string[]).includes(e.type)) {
    return `type must be one of ${ENTRY_TYPES.join(', ')}`;
  }
  if (typeof e.sequence !== 'number' || !Number.isSafeInteger(e.sequence) || e.sequence < 1) {
    return 'sequence must be an integer >= 1';
  }
  if (typeof e.content !== 'string') return 'content must be a string';
  if (e.metadata !== undefined && (typeof e.metadata !== 'object' || e.metadata === null || Array.isArray(e.metadata))) {
    return 'metadata must be an object';
  }
  return null;
}

/** Parses one line of a JSONL log (without its newline). */
export function parseEntryLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: 'not valid JSON' };
  }
  const error = validateEntry(value);
  return error === null ? { ok: true, entry: value as LogEntry } : { ok: false, error };
}

/**
 * One line of JSONL, with its newline, keys in the documented order.
 * Built by hand rather than from a reordered object: the capture path runs this on every line.
 */
export function serializeEntry(entry: LogEntry): string {
  const head =
    `{"timestamp":${JSON.stringify(entry.timestamp)},"agent_id":${JSON.stringify(entry.agent_id)},` +
    `"type":${JSON.stringify(entry.type)},"sequence":${entry.sequence},"content":${JSON.stringify(entry.content)}`;
  return entry.metadata === undefined ? `${head}}\n` : `${head},"metadata":${JSON.stringify(entry.metadata)}}\n`;
}

/** The level an entry carries, defaulting by type. */
export function entryLevel(entry: LogEntry): Level {
  const level = entry.metadata?.level;
  if (typeof level === 'string' && (LEVELS as readonly string[]).includes(level)) return level as Level;
  return entry.type === 'stderr' ? 'error' : 'info';
}

/**
 * Whether an entry is terminal output. stdout and stderr are; so is a `control` entry with
 * `tool_call` metadata, because classification turns captured tool-call lines into those,
 * and dropping them would break the byte stream. Other `control` and all `system` entries are not.
 */
export function isTerminalEntry(entry: LogEntry): boolean {
  if (entry.type === 'stdout' || entry.type === 'stderr') return true;
  return entry.type === 'control' && entry.metadata?.tool_call !== undefined;
}

/** The terminal bytes an entry contributes to its run's byte stream (SPEC §3). */
export function entryTerminalText(entry: LogEntry): string {
  if (!isTerminalEntry(entry)) return '';
  return entry.metadata?.partial === true ? entry.content : entry.content + '\n';
}
