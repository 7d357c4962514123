/**
 * asciicast v2 and v3 recordings (`.cast`, https://docs.asciinema.org/manual/asciicast/v2 and
 * /v3) as the entries a capture of the same output would give, so replay, search and export
 * treat an imported recording like a captured run.
 *
 * - Line 1 is the header: v2 `{version: 2, width, height, timestamp?, command?}`, v3
 *   `{version: 3, term: {cols, rows}, timestamp?, command?}`.
 * - Then `[time, code, data]` events: the time is seconds since the start in v2 and since the
 *   previous event in v3. Codes: `o` output, `i` input, `r` resize (`COLSxROWS`), `m` marker,
 *   `x` exit status (v3). v3 lines starting with `#` are comments.
 * - Output is split at newlines as capture splits it; an event's text after its last newline is a
 *   `partial` entry, so the run's byte stream (content + "\n" unless partial) is the recording's
 *   output exactly. Lines are typed and levelled by the same classifier capture uses.
 * - Input events (keystrokes, possibly passwords) are not written; the archived copy keeps them.
 */
import { createHash } from 'node:crypto';
import type { Classifier } from '../capture/classify.js';
import { asObject, chunks, parseRecord, type ImportedEntry, type ParsedSession, type ParseOptions, type SourceLine } from './session.js';

/** Terminal size when the header has none (asciinema's own default). */
const DEFAULT_SIZE = { cols: 80, rows: 24 };

/**
 * Whether a parsed first line is an asciicast header, and which version. The size may be missing
 * or 0 (then it is asciinema's default), so the version decides, on a record that is not a
 * transcript's (those have a `type`).
 */
export function asciicastVersion(header: Record<string, unknown>): 2 | 3 | null {
  if (header.type !== undefined) return null;
  if (header.version === 2 && (header.width === undefined || typeof header.width === 'number')) return 2;
  if (header.version === 3 && (header.term === undefined || asObject(header.term) !== null)) return 3;
  return null;
}

/**
 * A recording's events as entries. `fileStem` names a recording whose header has no start time
 * (the header alone would name every such recording of one size alike).
 */
export function parseAsciicast(lines: readonly SourceLine[], fileStem: string, classify: Classifier, options: ParseOptions): ParsedSession {
  const headerText = lines[0]?.text ?? '';
  // A recording has no id of its own: its header names it (it stays the same while the recording
  // grows), with the file's name when the header has no start time.
  const idOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
  const session: ParsedSession = {
    format: 'asciicast',
    sessionId: idOf(`${headerText}\n${fileStem}`),
    command: 'asciicast',
    cwd: null,
    startMicros: null,
    startMetadata: { ...DEFAULT_SIZE },
    entries: [],
    corrupt: [],
  };
  const first = lines[0];
  const parsedHeader = first === undefined ? null : parseRecord(first);
  const header = parsedHeader !== null && 'record' in parsedHeader ? parsedHeader.record : null;
  const version = header === null ? null : asciicastVersion(header);
  if (header === null || version === null) {
    session.corrupt.push({ line: 1, error: 'not an asciicast v2 or v3 header' });
    return session;
  }
  const term = version === 3 ? asObject(header.term) : header;
  const cols = positive(version === 3 ? term?.cols : header.width) ?? DEFAULT_SIZE.cols;
  const rows = positive(version === 3 ? term?.rows : header.height) ?? DEFAULT_SIZE.rows;
  session.startMetadata = { cols, rows, asciicast_version: version };
  if (typeof header.title === 'string') session.startMetadata.title = header.title;
  if (typeof header.command === 'string' && header.command !== '') session.command = header.command;
  const start = typeof header.timestamp === 'number' && header.timestamp > 0 ? Math.round(header.timestamp * 1_000_000) : null;
  session.startMicros = start;
  if (start !== null) session.sessionId = idOf(headerText);
  const origin = start ?? options.fallbackMicros;

  let elapsed = 0;
  const out = session.entries;
  for (const line of lines.slice(1)) {
    if (line.text.trim() === '' || (version === 3 && line.text.startsWith('#'))) continue;
    let event: unknown;
    try {
      event = JSON.parse(line.text);
    } catch (err) {
      session.corrupt.push({ line: line.line, error: `not JSON: ${(err as Error).message}` });
      continue;
    }
    if (!Array.isArray(event) || event.length < 3 || typeof event[0] !== 'number' || !Number.isFinite(event[0]) || typeof event[1] !== 'string' || typeof event[2] !== 'string') {
      session.corrupt.push({ line: line.line, error: 'not an asciicast event [time, code, data]' });
      continue;
    }
    const [t, code, data] = event as [number, string, string];
    elapsed = version === 3 ? elapsed + Math.max(0, t) : Math.max(elapsed, t);
    const time = origin + Math.round(elapsed * 1_000_000);
    switch (code) {
      case 'o':
        out.push(...outputEntries(data, time, classify));
        break;
      case 'r': {
        const size = /^(\d+)x(\d+)$/.exec(data);
        if (size === null || positive(Number(size[1])) === null || positive(Number(size[2])) === null) {
          session.corrupt.push({ line: line.line, error: `bad resize ${JSON.stringify(data.slice(0, 40))}` });
          break;
        }
        const [c, r] = [Number(size[1]), Number(size[2])];
        out.push({ type: 'system', content: `[loupe] resized to ${c}x${r}`, timeMicros: time, metadata: { event: 'resized', cols: c, rows: r, level: 'info' } });
        break;
      }
      case 'm':
        out.push({ type: 'system', content: `[marker] ${data}`, timeMicros: time, metadata: { event: 'marker', label: data } });
        break;
      case 'x': {
        const status = /^-?\d+$/.test(data) ? Number(data) : null;
        out.push({
          type: 'system',
          content: `[loupe] terminated${status === null ? ' (exit status unknown)' : ` with status ${status}`}`,
          timeMicros: time,
          metadata: { event: 'terminated', exit_status: status, level: status !== null && status !== 0 ? 'error' : 'info' },
        });
        break;
      }
      case 'i':
        break;
      default:
        out.push({ type: 'system', content: `[asciicast] ${code.slice(0, 16)} event`, timeMicros: time, metadata: { event: 'record', record_type: code, data } });
    }
  }
  return session;
}

/** One output event as capture's entries: a line per newline, the rest partial. */
function outputEntries(data: string, time: number, classify: Classifier): ImportedEntry[] {
  const out: ImportedEntry[] = [];
  const parts = data.split('\n');
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (last && part === '') return; // the event ended with its newline
    const pieces = [...chunks(part)];
    pieces.forEach(([chunk, cut], j) => {
      const partial = cut || (last && j === pieces.length - 1);
      const kind = classify(chunk);
      const metadata = partial ? { ...kind.metadata, partial: true } : kind.metadata;
      out.push(metadata === undefined ? { type: kind.type, content: chunk, timeMicros: time } : { type: kind.type, content: chunk, timeMicros: time, metadata });
    });
  });
  return out;
}

function positive(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 10_000 ? value : null;
}
