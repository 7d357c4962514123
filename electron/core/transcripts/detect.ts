/**
 * Which format a file holds, from its content (not its name): the first records decide.
 */
import { asciicastVersion } from './asciicast.js';
import { asString, parseRecord, type SourceLine, type TranscriptFormat } from './session.js';

/** Records looked at before giving up: a transcript may start with a few records of other kinds. */
const DETECT_LINES = 20;

const CODEX_TYPES = new Set(['session_meta', 'response_item', 'event_msg', 'turn_context', 'compacted']);
const STREAM_TYPES = new Set(['system', 'assistant', 'user', 'result', 'stream_event']);
const CLAUDE_TYPES = new Set(['user', 'assistant', 'system', 'summary', 'file-history-snapshot', 'queue-operation']);

export type Detected = { format: TranscriptFormat } | { unsupported: string } | null;

/**
 * The format of a file whose first lines are `lines`: a format Loupe imports, a known format it
 * does not import yet (`unsupported` names it), or null.
 */
export function detectFormat(lines: readonly SourceLine[]): Detected {
  const first = lines[0];
  if (first === undefined) return null;
  const header = parseRecord(first);
  if ('record' in header && asciicastVersion(header.record) !== null) return { format: 'asciicast' };
  if ('record' in header && header.record.version === 1 && Array.isArray(header.record.stdout)) return { unsupported: 'asciicast v1' };
  for (const line of lines.slice(0, DETECT_LINES)) {
    const parsed = parseRecord(line);
    if (!('record' in parsed)) continue;
    const r = parsed.record;
    const type = asString(r.type) ?? '';
    if (CODEX_TYPES.has(type) && typeof r.payload === 'object') return { format: 'codex' };
    // `claude -p --output-format stream-json` uses snake_case `session_id`; transcripts `sessionId`.
    if (typeof r.session_id === 'string' && r.sessionId === undefined && STREAM_TYPES.has(type)) return { format: 'claude-stream' };
    if (CLAUDE_TYPES.has(type) && (typeof r.sessionId === 'string' || typeof r.uuid === 'string' || type === 'summary')) return { format: 'claude' };
  }
  return null;
}
