/**
 * `cast`: asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/), which `asciinema play`
 * and `asciinema cat` read. One agent per file: a header with the terminal size at the first
 * exported entry, then `o` events carrying the byte stream, `r` events for resizes, and `m`
 * (marker) events at error entries. Players that predate markers skip events they do not know.
 */
import { entryLevel, entryTerminalText, parseTimestamp, type LogEntry } from '../../../shared/entry.js';
import { visibleText } from '../redact/terminalEscapes.js';
import type { ExportContext, OutputSink, RunFormatter } from './formatter.js';

/** tmux's default window size, for a run whose log records none. */
export const DEFAULT_TERMINAL_SIZE = { cols: 80, rows: 24 } as const;
/** Markers are labels in a player's timeline; longer text is cut. */
const MARKER_LABEL_CHARS = 80;

/** The label of an error marker: the entry's first line of visible text. */
export function markerLabel(entry: LogEntry): string {
  const text = visibleText(entry.content).visible.trim().split('\n')[0] ?? '';
  return text.length > MARKER_LABEL_CHARS ? `${text.slice(0, MARKER_LABEL_CHARS - 1)}…` : text;
}

export function castFormatter(sink: OutputSink, context: ExportContext): RunFormatter {
  let cols: number = DEFAULT_TERMINAL_SIZE.cols;
  let rows: number = DEFAULT_TERMINAL_SIZE.rows;
  let startMicros: number | null = null;
  let lastSeconds = 0;

  const seconds = (entry: LogEntry) => {
    const t = (parseTimestamp(entry.timestamp) - (startMicros ?? 0)) / 1e6;
    // Events must not go back in time; a clock step between entries is flattened.
    lastSeconds = Number.isFinite(t) ? Math.max(lastSeconds, Math.round(t * 1e6) / 1e6) : lastSeconds;
    return lastSeconds;
  };
  const start = (entry: LogEntry) => {
    const micros = parseTimestamp(entry.timestamp);
    startMicros = Number.isFinite(micros) ? micros : 0;
    const header = {
      version: 2,
      width: cols,
      height: rows,
      timestamp: Math.floor(startMicros / 1e6),
      title: context.title,
      env: { TERM: 'xterm-256color' },
    };
    sink.write(JSON.stringify(header) + '\n');
  };

  return {
    startAgent() {},
    resize(c, r, entry) {
      if (startMicros === null) {
        cols = c;
        rows = r;
      } else {
        sink.write(JSON.stringify([seconds(entry), 'r', `${c}x${r}`]) + '\n');
      }
    },
    entry(entry) {
      if (startMicros === null) start(entry);
      const text = entryTerminalText(entry);
      if (text !== '') sink.write(JSON.stringify([seconds(entry), 'o', text]) + '\n');
      const level = entryLevel(entry);
      if (level === 'error' || level === 'fatal') {
        sink.write(JSON.stringify([seconds(entry), 'm', markerLabel(entry)]) + '\n');
      }
    },
    endAgent() {},
    finish() {
      if (startMicros === null) {
        startMicros = 0;
        sink.write(JSON.stringify({ version: 2, width: cols, height: rows, title: context.title }) + '\n');
      }
    },
  };
}
