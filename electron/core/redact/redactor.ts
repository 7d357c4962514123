/**
 * Redacting a run's entries before they leave the machine (SPEC §8, issue 6).
 *
 * A secret can be cut across entries: capture flushes a chunk without its newline (`partial`)
 * when output goes idle or hits the chunk limit, and the rest of the line follows in the next
 * entry. So the redactor joins each line's partial chunks, looks for secrets in the visible text
 * of the whole line, and writes the edits back into the entries they came from. Sequences,
 * timestamps and every escape sequence stay as they were; only the secret's visible characters
 * change. A PEM private key spans many lines, so a small state machine follows it from its
 * BEGIN line to its END line.
 */
import { isTerminalEntry, type EntryMetadata, type LogEntry } from '../../../shared/entry.js';
import { BUILTIN_CANDIDATE, BUILTIN_DETECTORS, redactionMarker, type SecretDetector } from './detectors.js';
import { visibleText } from './terminalEscapes.js';

/**
 * A line longer than this (in partial chunks) is redacted in pieces: memory stays bounded, and a
 * secret that straddles two pieces of such a line is the one case that is not caught.
 */
const MAX_LINE_CHARS = 4 * 1024 * 1024;
/** A PEM body line is base64 (64 characters in practice); give up on a "key" that never ends. */
const MAX_PEM_LINES = 400;

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/;
const PEM_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/;
/** Lines inside a PEM block: base64 body, or RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED`. */
const PEM_BODY_LINE = /^\s*(?:[A-Za-z0-9+/=]+|[A-Za-z-]{1,40}:.*)?\s*$/;

/** A complete OSC sequence: its text, and its terminator (BEL or ST). Bounded, so a huge one is skipped. */
const OSC_SEQUENCE = /\x1b\]([^\x07\x1b]{0,65536})(\x07|\x1b\\)/g;

/** How many redactions of each kind were made. */
export type RedactionCounts = Record<string, number>;

interface Span {
  start: number;
  end: number;
  kind: string;
  /** The replacement text. */
  marker: string;
  /** False for PEM body lines: a block is counted once, at its BEGIN line. */
  counted: boolean;
}

/**
 * Redacts one agent's entries, in sequence order. Feed every entry of the run (not only the
 * ones being exported) so a secret split across a slice boundary is still seen whole.
 */
export class RunRedactor {
  readonly counts: RedactionCounts = {};
  private pending: LogEntry[] = [];
  private pendingChars = 0;
  private pemLines = -1; // -1: not inside a PEM block; otherwise lines seen since BEGIN
  private pemMarkerDue = false;

  /** Detectors that always run: the ones that are not built in (the user's patterns). */
  private readonly alwaysRun: readonly SecretDetector[];

  constructor(private readonly detectors: readonly SecretDetector[] = BUILTIN_DETECTORS) {
    this.alwaysRun = detectors.filter((d) => !BUILTIN_DETECTORS.includes(d));
  }

  /** Adds the next entry; returns the entries whose redaction is final, in order. */
  push(entry: LogEntry): LogEntry[] {
    if (this.pending.length === 0 && entry.metadata?.partial !== true) return [this.redactEntry(entry)];
    this.pending.push(entry);
    if (!isTerminalEntry(entry)) return this.pending.length === 1 ? this.take() : [];
    this.pendingChars += entry.content.length;
    if (entry.metadata?.partial === true && this.pendingChars < MAX_LINE_CHARS) return [];
    return this.take();
  }

  /** Returns the entries still held back (a run that ends in a partial chunk). */
  end(): LogEntry[] {
    return this.pending.length > 0 ? this.take() : [];
  }

  /** Entries held back until the rest of their line arrives. */
  get holding(): number {
    return this.pending.length;
  }

  /** Total redactions so far. */
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** Redacts one string on its own (a metadata value, a title): no joining, no PEM state. */
  redactString(text: string): string {
    const visible = visibleText(text);
    const spans = this.resolve(this.detect(visible.visible));
    if (spans.length === 0) return text;
    this.count(spans);
    return applySpans([text], visible.rawIndex, spans)[0];
  }

  /** A complete line on its own: the common case, without the grouping. */
  private redactEntry(entry: LogEntry): LogEntry {
    const content = isTerminalEntry(entry) ? this.redactLine([entry.content])[0] : this.redactString(entry.content);
    const metadata = entry.metadata === undefined ? undefined : this.redactMetadata(entry.metadata);
    if (content === entry.content && metadata === entry.metadata) return entry;
    const copy: LogEntry = { ...entry, content };
    if (metadata !== undefined) copy.metadata = metadata;
    return copy;
  }

  private take(): LogEntry[] {
    const group = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    const terminal = group.filter(isTerminalEntry);
    const redactedTerminal = this.redactLine(terminal.map((e) => e.content));
    let t = 0;
    return group.map((entry) => {
      if (!isTerminalEntry(entry)) return this.redactEntry(entry);
      const content = redactedTerminal[t++];
      const metadata = entry.metadata === undefined ? undefined : this.redactMetadata(entry.metadata);
      if (content === entry.content && metadata === entry.metadata) return entry;
      const copy: LogEntry = { ...entry, content };
      if (metadata !== undefined) copy.metadata = metadata;
      return copy;
    });
  }

  /** Redacts the chunks of one line together; returns the chunks' new contents. */
  private redactLine(chunks: string[]): string[] {
    if (chunks.length === 0) return chunks;
    const joined = chunks.length === 1 ? chunks[0] : chunks.join('');
    const visible = visibleText(joined);
    const spans = this.resolve([...this.detect(visible.visible), ...this.followPem(visible.visible)]);
    let out = chunks;
    if (spans.length > 0) {
      this.count(spans);
      out = applySpans(chunks, visible.rawIndex, spans);
    }
    return joined.includes('\x1b]') ? out.map((chunk) => this.redactOscPayloads(chunk)) : out;
  }

  /**
   * Secrets in the text of OSC sequences that are not shown, such as an OSC 8 link target
   * (`ESC ] 8 ;; https://user:pass@host BEL`). The marker holds no ESC or BEL, so the sequence
   * stays well-formed. Sequences cut across chunks are not looked into.
   */
  private redactOscPayloads(chunk: string): string {
    return chunk.replace(OSC_SEQUENCE, (sequence: string, payload: string, terminator: string) => {
      const spans = this.resolve(this.detect(payload));
      if (spans.length === 0) return sequence;
      this.count(spans);
      return `\x1b]${applySpans([payload], (i) => i, spans)[0]}${terminator}`;
    });
  }

  private detect(visible: string): Span[] {
    const spans: Span[] = [];
    const detectors = BUILTIN_CANDIDATE.test(visible) ? this.detectors : this.alwaysRun;
    for (const detector of detectors) {
      for (const s of detector.find(visible)) {
        spans.push({ start: s.start, end: s.end, kind: s.kind, marker: redactionMarker(s.kind), counted: true });
      }
    }
    return spans;
  }

  /** PEM blocks across lines: everything between a BEGIN line and its END line is secret. */
  private followPem(visible: string): Span[] {
    const spans: Span[] = [];
    const redactBody = (start: number, end: number) => {
      spans.push({ start, end, kind: 'private-key', marker: this.pemMarkerDue ? redactionMarker('private-key') : '', counted: false });
      this.pemMarkerDue = false;
    };
    let lineStart = 0;
    while (lineStart <= visible.length) {
      const nl = visible.indexOf('\n', lineStart);
      const lineEnd = nl === -1 ? visible.length : nl;
      const line = visible.slice(lineStart, lineEnd);
      if (this.pemLines < 0) {
        const begin = line.includes('-----BEGIN') ? PEM_BEGIN.exec(line) : null;
        if (begin !== null && !PEM_END.test(line.slice(begin.index))) {
          // A block is counted once, at its BEGIN line; its marker goes on the first body text.
          this.counts['private-key'] = (this.counts['private-key'] ?? 0) + 1;
          this.pemLines = 0;
          this.pemMarkerDue = true;
          const body = trimmedRange(line, begin.index + begin[0].length, line.length);
          if (body !== null) redactBody(lineStart + body[0], lineStart + body[1]);
        }
      } else {
        const end = PEM_END.exec(line);
        if (end === null && (!PEM_BODY_LINE.test(line) || ++this.pemLines > MAX_PEM_LINES)) {
          this.pemLines = -1;
        } else {
          const body = trimmedRange(line, 0, end === null ? line.length : end.index);
          if (body !== null) redactBody(lineStart + body[0], lineStart + body[1]);
          if (end !== null) this.pemLines = -1;
        }
      }
      if (nl === -1) break;
      lineStart = nl + 1;
    }
    return spans;
  }

  /** Keeps non-overlapping spans, earlier detectors first; returns them sorted by position. */
  private resolve(spans: Span[]): Span[] {
    const kept: Span[] = [];
    for (const s of spans) {
      if (kept.some((k) => s.start < k.end && k.start < s.end)) continue;
      kept.push(s);
    }
    return kept.sort((a, b) => a.start - b.start);
  }

  private count(spans: Span[]): void {
    for (const s of spans) if (s.counted) this.counts[s.kind] = (this.counts[s.kind] ?? 0) + 1;
  }

  private redactMetadata(metadata: EntryMetadata): EntryMetadata {
    const redacted = this.redactValue(metadata);
    return redacted as EntryMetadata;
  }

  private redactValue(value: unknown): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (Array.isArray(value)) {
      const out = value.map((v) => this.redactValue(v));
      return out.some((v, i) => v !== value[i]) ? out : value;
    }
    if (typeof value === 'object' && value !== null) {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        out[k] = this.redactValue(v);
        if (out[k] !== v) changed = true;
      }
      return changed ? out : value;
    }
    return value;
  }
}

/** The range of `line[from, to)` without surrounding whitespace, or null when it is all whitespace. */
function trimmedRange(line: string, from: number, to: number): [number, number] | null {
  while (from < to && /\s/.test(line[from])) from++;
  while (to > from && /\s/.test(line[to - 1])) to--;
  return to > from ? [from, to] : null;
}

/**
 * Replaces spans of visible text in the chunks they came from. Each span's visible characters
 * are removed wherever they are (escape sequences between them stay), and its marker goes where
 * its first character was.
 */
function applySpans(chunks: string[], rawIndex: (visibleIndex: number) => number, spans: Span[]): string[] {
  const joined = chunks.length === 1 ? chunks[0] : chunks.join('');
  // Runs of consecutive raw indices to delete; the first run of each span carries the marker.
  const runs: { start: number; end: number; insert: string }[] = [];
  for (const span of spans) {
    let first = true;
    let i = span.start;
    while (i < span.end) {
      const start = rawIndex(i);
      let end = start + 1;
      i++;
      while (i < span.end && rawIndex(i) === end) {
        end++;
        i++;
      }
      runs.push({ start, end, insert: first ? span.marker : '' });
      first = false;
    }
  }
  const out: string[] = [];
  let r = 0;
  let chunkStart = 0;
  for (const chunk of chunks) {
    const chunkEnd = chunkStart + chunk.length;
    let text = '';
    let pos = chunkStart;
    while (r < runs.length && runs[r].start < chunkEnd) {
      const run = runs[r];
      const from = Math.max(run.start, chunkStart);
      text += joined.slice(pos, from);
      if (run.start >= chunkStart) text += run.insert;
      pos = Math.min(run.end, chunkEnd);
      if (run.end > chunkEnd) break;
      r++;
    }
    text += joined.slice(pos, chunkEnd);
    out.push(text);
    chunkStart = chunkEnd;
  }
  return out;
}
