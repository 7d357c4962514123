/**
 * Screen lines (SPEC §12): what the terminal showed, as text, derived from a run's byte stream
 * with the same headless terminal replay uses.
 *
 * Output is played into a headless xterm at the recorded size. The screen is looked at when the
 * entries' timestamp changes (the capture host stamps each read, so one read of a redraw is one
 * look), and a logical line (wrapped rows joined) becomes a screen line once it is final for the
 * user:
 * - it scrolled off the top into the scrollback;
 * - it stood unchanged for SETTLE_US (so a spinner, a ticking counter or a reply being streamed
 *   yields only the states that stood still, never every frame);
 * - it was replaced or cleared after standing that long;
 * - the full-screen program that drew it left the alternate screen, or the run ended.
 * A line that moves (a full redraw, a scrolled region) or is redrawn in place keeps its identity,
 * so it is recorded once. Everything is decided from the entries' own times, never the clock, so
 * indexing a run live or rebuilding it later gives the same lines.
 */
import { entryLevel, entryTerminalText, type EntryType, type Level, type LogEntry } from '../../../shared/entry.js';
import { readableText } from '../log/format.js';
import { lineAnsi, serializeTerminalState, type SerializerLike, type TerminalLike } from '../../../shared/terminal-state.js';
import { entrySize } from '../replay/seek.js';
import { createReplayTerminal, DEFAULT_COLS, DEFAULT_ROWS, feedTerminal, TerminalFeedError, type ReplayTerminal } from '../replay/terminal.js';

/** A line that is final: a person could have read it on the screen. */
export interface ScreenLine {
  text: string;
  /** The first entry that wrote into the line, and the entry after which it showed this text. */
  firstSeq: number;
  lastSeq: number;
  /** When it showed this text: the time of `lastSeq`, µs since the epoch. */
  time: number;
  /** Set when one entry drew exactly this line: that entry's type and level (capture's classification). */
  own?: { type: EntryType; level: Level };
  /** The line with its colors as SGR sequences, when the maker was asked for colors. */
  ansi?: string;
}

/**
 * How long a line must stand unchanged to count as read. Spinners (80-120 ms), streamed words
 * (tens of ms) and once-a-second timers and countdowns all change faster than this.
 */
export const SETTLE_US = 2_000_000;
/**
 * A row's shape: its text with numbers and spinner glyphs masked. A row that keeps its shape
 * while it changes (`Retrying in 9s · attempt 5/10`, a ticking status line, a spinner with an
 * elapsed time) is one line to a person: once its shape has stood for SETTLE_US, its state then
 * is recorded, once.
 */
function shapeOf(text: string): string {
  return text.replace(/\d+/g, '#').replace(/[\u2800-\u28ff·✢✳✶✻✽]/g, '~');
}

/** Whether a tracked line is final by `now`: its text, or its shape, stood still long enough. */
function hasSettled(t: Tracked, now: number): boolean {
  return !t.emitted && (now - t.since >= SETTLE_US || (!t.shapeDone && now - t.shapeSince >= SETTLE_US));
}

/** A line that vanishes and comes back this soon (a redraw split across two reads) is the same line. */
const REAPPEAR_US = 1_000_000;
/** Rows of scrollback the terminal keeps: far more than one entry scrolls (a 64 KiB line at 80 columns is 820). */
const SCROLLBACK = 5000;

interface Tracked {
  text: string;
  /** When this text appeared. */
  since: number;
  /** When this row's shape (its text with counters and spinner glyphs masked, see `shapeOf`) appeared. */
  shapeSince: number;
  /** A line of this shape was made final already (a countdown is recorded once, not every second). */
  shapeDone: boolean;
  firstSeq: number;
  lastSeq: number;
  lastTime: number;
  emitted: boolean;
  own?: { type: EntryType; level: Level };
  ansi?: string;
}

interface TrimmingList {
  onTrim(listener: (rows: number) => void): { dispose(): void };
}

interface Gone {
  item: Tracked;
  until: number;
}

/** The maker's state between processes: the terminal's serialized state plus what it tracks. */
export interface ScreenState {
  cols: number;
  rows: number;
  terminal: string;
  seq: number;
  time: number;
  /** The time of output not looked at yet, or null. */
  unseenTime: number | null;
  unseenSeq: number;
  bufferType: 'normal' | 'alternate';
  /** Lines tracked per buffer, keyed by their row relative to the first row not yet taken. */
  normal: [number, Tracked][];
  alternate: [number, Tracked][];
  gone: Gone[];
  /**
   * Where the first row not taken yet is, from the top of the screen: negative when rows above
   * the screen are not taken yet (they are in the serialized scrollback).
   */
  takenFromTop: number;
  /** The entry that last wrote each row since the last look (rows as in `normal`/`alternate`). */
  rowSeqs: [number, number][];
  written: [number, WrittenEntry][];
  lineLog: boolean;
  sequential: boolean;
}

/** An entry applied since the last look: enough to tell whether it alone drew a line. */
interface WrittenEntry {
  type: EntryType;
  level: Level;
  content: string;
}

/**
 * Turns one agent's entries, in order, into screen lines. Call `apply` for every entry, take the
 * finished lines with `take()`, `settle(now)` when output has gone quiet, `endRun()` at the end.
 */
export class ScreenLineMaker {
  private terminal: ReplayTerminal;
  private term: TerminalLike;
  /**
   * `term.buffer`, read once per terminal: xterm's getter checks the proposed-API option on every
   * call, which copies the options (a few % of indexing time when read per entry).
   */
  private buffers: TerminalLike['buffer'];
  private serializer: SerializerLike;
  private cols: number;
  private rows: number;
  /** The last entry applied and its time. */
  seq = 0;
  time = Number.NaN;
  /** The time of the output not looked at yet (NaN when the screen has been looked at). */
  private unseenTime = Number.NaN;
  /** The first entry of the output not looked at yet. */
  private unseenSeq = 0;
  private bufferType: 'normal' | 'alternate' = 'normal';
  private normal = new Map<number, Tracked>();
  private alternate = new Map<number, Tracked>();
  private gone: Gone[] = [];
  /** The first absolute row of the normal buffer not taken as a scrolled-off line yet. */
  private taken = 0;
  /** Rows trimmed off the top of the normal buffer's scrollback since the last look. */
  private trimmed = 0;
  private trimWatch: { lines: unknown; subscription: { dispose(): void } } | null = null;
  /** The entry that last wrote each row (by absolute row) since the last look. */
  private rowSeqs = new Map<number, number>();
  private written = new Map<number, WrittenEntry>();
  /**
   * Everything written since the last look only wrote text forward from the cursor (no cursor
   * moves but line ends, no erases): only the rows it crossed (`rowSeqs`) can have changed.
   */
  private sequential = true;
  /**
   * Until a run shows a carriage return, it is a line log written by a tool, not a terminal (a
   * pty ends every line in `\r\n`): its newlines also return to the first column.
   */
  private lineLog = true;
  private out: ScreenLine[] = [];
  private touched = false;
  /** Output chunks xterm failed on (its parser throws on a few rare sequences). */
  feedErrors = 0;
  /** Whether lines carry their colors (`ansi`): exports want them, the index does not. */
  private readonly colors: boolean;

  constructor(cols = DEFAULT_COLS, rows = DEFAULT_ROWS, options: { colors?: boolean } = {}) {
    this.cols = cols;
    this.rows = rows;
    this.colors = options.colors ?? false;
    this.terminal = createReplayTerminal(cols, rows, SCROLLBACK);
    ({ term: this.term, serializer: this.serializer } = this.terminal);
    this.buffers = this.term.buffer;
    this.watchTrims();
  }

  /** A maker that continues from a saved state. */
  static restore(state: ScreenState): ScreenLineMaker {
    const m = new ScreenLineMaker(state.cols, state.rows);
    m.feed(state.terminal);
    m.seq = state.seq;
    m.time = state.time;
    m.unseenTime = state.unseenTime ?? Number.NaN;
    m.unseenSeq = state.unseenSeq;
    m.bufferType = state.bufferType;
    const buf = m.buffers.normal;
    m.taken = Math.max(0, buf.baseY + state.takenFromTop);
    m.normal = new Map(state.normal.map(([rel, t]) => [m.taken + rel, t]));
    m.alternate = new Map(state.alternate);
    m.gone = state.gone;
    const base = state.bufferType === 'normal' ? m.taken : 0;
    m.rowSeqs = new Map(state.rowSeqs.map(([rel, seq]) => [base + rel, seq]));
    m.written = new Map(state.written);
    m.lineLog = state.lineLog;
    m.sequential = state.sequential;
    m.touched = state.normal.length + state.alternate.length > 0;
    m.watchTrims();
    return m;
  }

  /**
   * Everything needed to continue in another process. It does not look at the screen: looks
   * happen only where the entries' times say, so where a save falls changes nothing.
   */
  save(): ScreenState {
    if (this.bufferType === 'normal') this.followTrim();
    // Rows not taken yet above the screen go into the state's scrollback; a resize that added
    // rows can also have brought taken rows back onto the screen (`taken` below its top).
    const takenFromTop = this.taken - this.buffers.normal.baseY;
    return {
      cols: this.cols,
      rows: this.rows,
      terminal: serializeTerminalState(this.term, this.serializer, Math.max(0, -takenFromTop)),
      seq: this.seq,
      time: this.time,
      unseenTime: Number.isNaN(this.unseenTime) ? null : this.unseenTime,
      unseenSeq: this.unseenSeq,
      bufferType: this.bufferType,
      normal: [...this.normal].map(([abs, t]) => [abs - this.taken, t]),
      alternate: [...this.alternate],
      gone: this.gone,
      takenFromTop,
      rowSeqs: [...this.rowSeqs].map(([row, seq]) => [row - (this.bufferType === 'normal' ? this.taken : 0), seq]),
      written: [...this.written],
      lineLog: this.lineLog,
      sequential: this.sequential,
    };
  }

  /** Plays one entry. System entries only matter for their size (started, resized) and the run's end. */
  apply(entry: LogEntry, time: number): void {
    if (time !== this.time && !Number.isNaN(this.unseenTime)) this.look();
    if (time !== this.time) this.settle(time);
    const size = entrySize(entry);
    if (size !== null) {
      if (entry.metadata?.event === 'started' && this.touched) this.endRun(time);
      this.look();
      if (size.cols !== this.cols || size.rows !== this.rows) {
        this.term.resize(size.cols, size.rows);
        this.cols = size.cols;
        this.rows = size.rows;
        this.unseenTime = time;
        this.sequential = false;
        this.look();
      }
    } else if (entry.type === 'system' && entry.metadata?.event === 'terminated') {
      this.seq = entry.sequence;
      this.time = time;
      this.endRun(time);
      return;
    } else {
      let text = entryTerminalText(entry);
      if (text !== '') {
        if (this.lineLog && text.includes('\r')) this.lineLog = false;
        if (this.lineLog && text.endsWith('\n')) text = text.slice(0, -1) + '\r\n';
        const before = this.cursorRow();
        if (this.sequential && !writesForward(text)) this.sequential = false;
        this.feed(text);
        this.markWritten(before, entry.sequence);
        this.written.set(entry.sequence, { type: entry.type, level: entryLevel(entry), content: entry.content });
        if (Number.isNaN(this.unseenTime)) this.unseenSeq = entry.sequence;
        this.unseenTime = time;
        this.touched = true;
        if (this.buffers.active.type === 'normal' && this.buffers.normal.baseY > this.taken) {
          // Lines that scrolled off are final at once, whatever comes next in this read.
          this.seq = entry.sequence;
          this.time = time;
          this.takeScrolled(time);
        }
      }
    }
    this.seq = entry.sequence;
    this.time = time;
  }

  /** Output has been quiet until `now` (µs): lines that stood SETTLE_US by then are final. */
  settle(now: number): void {
    this.look();
    const ready: [number, Tracked][] = [];
    for (const [row, t] of this.current()) if (hasSettled(t, now)) ready.push([row, t]);
    ready.sort((a, b) => a[0] - b[0]);
    for (const [, t] of ready) this.emit(t);
    this.gone = this.gone.filter((g) => g.until > now);
  }

  /** The earliest time at which `settle` would make a line final, or null when none is waiting. */
  nextSettle(): number | null {
    let at: number | null = Number.isNaN(this.unseenTime) ? null : this.unseenTime + SETTLE_US;
    for (const map of [this.normal, this.alternate]) {
      for (const t of map.values()) {
        if (t.emitted) continue;
        const when = Math.min(t.since, t.shapeDone ? Infinity : t.shapeSince) + SETTLE_US;
        if (at === null || when < at) at = when;
      }
    }
    return at;
  }

  /** The run ended: everything still shown is final; the terminal starts afresh for the next run. */
  endRun(time: number): void {
    this.look();
    for (const map of [this.alternate, this.normal]) {
      const rows = [...map].sort((a, b) => a[0] - b[0]);
      for (const [, t] of rows) if (!t.emitted) this.emit(t);
    }
    this.terminal.dispose();
    this.terminal = createReplayTerminal(this.cols, this.rows, SCROLLBACK);
    ({ term: this.term, serializer: this.serializer } = this.terminal);
    this.buffers = this.term.buffer;
    this.trimWatch = null;
    this.watchTrims();
    this.normal.clear();
    this.alternate.clear();
    this.gone = [];
    this.taken = 0;
    this.rowSeqs.clear();
    this.written.clear();
    this.lineLog = true;
    this.bufferType = 'normal';
    this.touched = false;
    this.unseenTime = Number.NaN;
    this.time = time;
  }

  /** The lines that became final since the last call. */
  take(): ScreenLine[] {
    const lines = this.out;
    this.out = [];
    return lines;
  }

  /** The visible screen as rows of text (trailing blanks trimmed) and the cursor's row. */
  snapshot(): { rows: string[]; cursorRow: number } {
    const buf = this.buffers.active;
    const rows: string[] = [];
    for (let r = 0; r < this.term.rows; r++) rows.push(buf.getLine(buf.baseY + r)?.translateToString(true) ?? '');
    return { rows, cursorRow: buf.cursorY };
  }

  dispose(): void {
    this.terminal.dispose();
  }

  /** The cursor's row: absolute in the normal buffer, on the screen in the alternate one. */
  private cursorRow(): { type: string; row: number } {
    const buf = this.buffers.active;
    return { type: buf.type, row: (buf.type === 'normal' ? buf.baseY : 0) + buf.cursorY };
  }

  /** Rows from where the cursor was to where it is now were written by entry `seq`. */
  private markWritten(before: { type: string; row: number }, seq: number): void {
    const after = this.cursorRow();
    if (after.type !== before.type) return;
    const [from, to] = before.row <= after.row ? [before.row, after.row] : [after.row, before.row];
    for (let row = from; row <= to; row++) this.rowSeqs.set(row, seq);
  }

  /** A line seen for the first time in this look (continuing `old` when that was still being written). */
  private newLine(text: string, row: number, end: number, at: number, old: Tracked | undefined): Tracked {
    const continues = old !== undefined && !old.emitted;
    const wrote = this.writers(row, end);
    const sameShape = old !== undefined && shapeOf(old.text) === shapeOf(text);
    const t: Tracked = {
      text,
      since: at,
      shapeSince: sameShape ? old.shapeSince : at,
      shapeDone: sameShape ? old.shapeDone : false,
      firstSeq: continues ? old.firstSeq : (wrote?.first ?? this.unseenSeq),
      lastSeq: wrote?.last ?? this.seq,
      lastTime: this.time,
      emitted: false,
    };
    if (this.colors) {
      const buf = this.buffers.active;
      let ansi = '';
      for (let r = row; r <= end; r++) {
        const line = buf.getLine(r);
        if (line !== undefined) ansi += lineAnsi(line, this.term.cols);
      }
      t.ansi = ansi;
    }
    if (wrote !== null && wrote.first === wrote.last && !continues) {
      const e = this.written.get(wrote.last);
      if (e !== undefined && readableText(e.content).trimEnd() === text) t.own = { type: e.type, level: e.level };
    }
    return t;
  }

  /** The entries that wrote the rows `start`..`end` since the last look, or null when none did. */
  private writers(start: number, end: number): { first: number; last: number } | null {
    let first = Infinity;
    let last = -Infinity;
    for (let row = start; row <= end; row++) {
      const seq = this.rowSeqs.get(row);
      if (seq === undefined) continue;
      if (seq < first) first = seq;
      if (seq > last) last = seq;
    }
    return last < 0 ? null : { first, last };
  }

  private current(): Map<number, Tracked> {
    return this.bufferType === 'normal' ? this.normal : this.alternate;
  }

  private feed(data: string): void {
    try {
      feedTerminal(this.term, data);
    } catch (err) {
      if (!(err instanceof TerminalFeedError)) throw err;
      this.feedErrors++;
    }
  }

  private emit(t: Tracked): void {
    t.emitted = true;
    t.shapeDone = true;
    this.out.push({
      text: t.text,
      firstSeq: t.firstSeq,
      lastSeq: t.lastSeq,
      time: t.lastTime,
      ...(t.own ? { own: t.own } : {}),
      ...(t.ansi !== undefined ? { ansi: t.ansi } : {}),
    });
  }

  /** A line no longer shown: final if it stood long enough; remembered a moment in case it comes back. */
  private vanish(t: Tracked, at: number): void {
    if (hasSettled(t, at)) this.emit(t);
    this.gone.push({ item: t, until: at + REAPPEAR_US });
  }

  /**
   * Counts the rows the normal buffer's scrollback drops off its top when full, so the rows
   * tracked (by their place in the buffer) can be shifted. xterm has no public event for it; its
   * line list's own one is what its markers use. A resize may replace the list: looked up again.
   */
  private watchTrims(): void {
    const core = (this.term as unknown as { _core?: { _bufferService?: { buffers?: { _normal?: { lines?: TrimmingList } } } } })._core;
    const lines = core?._bufferService?.buffers?._normal?.lines;
    if (lines === undefined || this.trimWatch?.lines === lines) return;
    this.trimWatch?.subscription.dispose();
    this.trimWatch = { lines, subscription: lines.onTrim((n) => (this.trimmed += n)) };
  }

  /** Compares the screen now with what was tracked, and records what became final. */
  private look(): void {
    if (Number.isNaN(this.unseenTime)) return;
    const at = this.unseenTime;
    this.unseenTime = Number.NaN;
    this.unseenSeq = this.unseenSeq || this.seq;
    const active = this.buffers.active;
    if (active.type !== this.bufferType) {
      // Leaving the alternate screen (a full-screen program exited) makes all it showed final,
      // however briefly; the normal screen's lines were kept and are matched again below.
      if (this.bufferType === 'alternate') {
        for (const [, t] of [...this.alternate].sort((a, b) => a[0] - b[0])) if (!t.emitted) this.emit(t);
        this.alternate.clear();
      }
      this.bufferType = active.type;
    }
    const finals: [number, Tracked][] = [];
    if (active.type === 'normal') {
      this.followTrim();
      this.takeScrolledOff(at, finals);
    }
    const map = this.current();
    const next = new Map<number, Tracked>();
    let seen: { row: number; end: number; text: string }[];
    let unmatched: Map<number, Tracked>;
    if (this.sequential && active.type === 'normal' && this.fullScrollRegion()) {
      // Only the rows written can differ; every other line is unchanged (the full comparison
      // below would match each of them to itself). Most output is like this, and it is cheap.
      const starts = this.writtenLineStarts();
      unmatched = new Map();
      for (const [row, t] of map) (starts.has(row) ? unmatched : next).set(row, t);
      seen = [];
      const bottom = active.baseY + this.term.rows;
      for (const row of [...starts].sort((a, b) => a - b)) {
        const end = Math.min(this.lineEnd(row), bottom - 1);
        const text = this.lineText(row, end);
        if (text.trim() !== '') seen.push({ row, end, text });
      }
    } else {
      seen = this.logicalLines(active.type === 'normal' ? this.viewportStart() : 0);
      unmatched = new Map(map);
    }
    const fresh: { row: number; end: number; text: string }[] = [];
    // Same row, same text: unchanged.
    for (const line of seen) {
      const t = unmatched.get(line.row);
      if (t !== undefined && t.text === line.text) {
        next.set(line.row, t);
        unmatched.delete(line.row);
      } else fresh.push(line);
    }
    // Same text elsewhere: moved by a redraw or a scroll. Else a line that just vanished, back.
    const changed: { row: number; end: number; text: string }[] = [];
    for (const line of fresh) {
      const moved = nearestWithText(unmatched, line.text, line.row);
      if (moved !== null) {
        next.set(line.row, unmatched.get(moved)!);
        unmatched.delete(moved);
        continue;
      }
      const back = this.gone.findIndex((g) => g.item.text === line.text);
      if (back >= 0) {
        next.set(line.row, this.gone[back].item);
        this.gone.splice(back, 1);
        continue;
      }
      changed.push(line);
    }
    // A changed row: the new text continues the old one's line (a word streamed in) unless the
    // old text was final already.
    for (const line of changed) {
      next.set(line.row, this.newLine(line.text, line.row, line.end, at, unmatched.get(line.row)));
    }
    const vanished = [...unmatched].sort((a, b) => a[0] - b[0]);
    for (const [, t] of vanished) this.vanish(t, at);
    finals.sort((a, b) => a[0] - b[0]);
    for (const [, t] of finals) if (!t.emitted) this.emit(t);
    if (active.type === 'normal') this.normal = next;
    else this.alternate = next;
    this.rowSeqs.clear();
    this.written.clear();
    this.sequential = true;
    this.watchTrims();
  }

  /** The first rows of the screen's logical lines that hold a row written since the last look. */
  private writtenLineStarts(): Set<number> {
    const buf = this.buffers.normal;
    const top = this.viewportStart();
    const bottom = buf.baseY + this.term.rows;
    const starts = new Set<number>();
    for (const row of this.rowSeqs.keys()) {
      if (row < top || row >= bottom) continue;
      let start = row;
      while (start > top && buf.getLine(start)?.isWrapped === true) start--;
      starts.add(start);
    }
    return starts;
  }

  /** No scroll region is set (a line feed at the bottom scrolls the whole screen into the scrollback). */
  private fullScrollRegion(): boolean {
    const buffer = (this.term as unknown as { _core?: { buffer?: { scrollTop: number; scrollBottom: number } } })._core?.buffer;
    return buffer !== undefined && buffer.scrollTop === 0 && buffer.scrollBottom === this.term.rows - 1;
  }

  /** Takes the lines that scrolled off since the last look or take. */
  private takeScrolled(at: number): void {
    this.followTrim();
    const finals: [number, Tracked][] = [];
    this.takeScrolledOff(at, finals);
    finals.sort((a, b) => a[0] - b[0]);
    for (const [, t] of finals) if (!t.emitted) this.emit(t);
  }

  /** The scrollback was trimmed (more rows than it keeps): shift the rows tracked by the trim. */
  private followTrim(): void {
    const shift = this.trimmed;
    this.trimmed = 0;
    if (shift <= 0) return;
    if (shift > this.taken) {
      // More rows than the scrollback keeps scrolled at once: those in between left no trace.
      this.taken = 0;
      this.normal.clear();
      this.rowSeqs.clear();
      return;
    }
    this.taken -= shift;
    this.normal = new Map([...this.normal].map(([row, t]) => [row - shift, t]));
    this.rowSeqs = new Map([...this.rowSeqs].map(([row, seq]) => [row - shift, seq]));
  }

  /** Logical lines that scrolled off entirely since the last look are final. */
  private takeScrolledOff(at: number, finals: [number, Tracked][]): void {
    const buf = this.buffers.normal;
    let row = this.taken;
    while (row < buf.baseY) {
      const end = this.lineEnd(row);
      if (end >= buf.baseY) break; // its last rows are still on the screen
      const text = this.lineText(row, end);
      const t = this.normal.get(row);
      for (let r = row; r <= end; r++) this.normal.delete(r);
      if (t !== undefined && t.text === text) finals.push([row, t]);
      else {
        if (t !== undefined) this.vanish(t, at);
        if (text.trim() !== '') finals.push([row, this.newLine(text, row, end, at, t)]);
      }
      row = end + 1;
    }
    this.taken = row;
  }

  /**
   * The first row of the first logical line that shows on the screen and was not taken yet (a
   * resize that adds rows brings taken lines back from the scrollback: they stay taken).
   */
  private viewportStart(): number {
    const buf = this.buffers.normal;
    if (buf.baseY < this.taken) return this.taken;
    let row = buf.baseY;
    while (row > this.taken && buf.getLine(row)?.isWrapped === true) row--;
    return row;
  }

  private lineEnd(row: number): number {
    const buf = this.buffers.active;
    let end = row;
    while (end + 1 < buf.length && buf.getLine(end + 1)?.isWrapped === true) end++;
    return end;
  }

  private lineText(start: number, end: number): string {
    const buf = this.buffers.active;
    let text = '';
    for (let r = start; r <= end; r++) text += buf.getLine(r)?.translateToString(r === end) ?? '';
    return text.trimEnd();
  }

  /** The screen's non-blank logical lines from `start`, by their first row. */
  private logicalLines(start: number): { row: number; end: number; text: string }[] {
    const buf = this.buffers.active;
    const bottom = buf.baseY + this.term.rows;
    const lines: { row: number; end: number; text: string }[] = [];
    for (let row = start; row < bottom; ) {
      const end = Math.min(this.lineEnd(row), bottom - 1);
      const text = this.lineText(row, end);
      if (text.trim() !== '') lines.push({ row, end, text });
      row = end + 1;
    }
    return lines;
  }
}

/** Colors (SGR) are the only escape sequences that leave the cursor where text puts it. */
// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;:]*m/g;
// eslint-disable-next-line no-control-regex
const CURSOR_CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

/**
 * Whether output only writes text forward from the cursor: printable text, colors, tabs, `\r`
 * and `\n`. It then changes no row but those between where the cursor was and where it ends.
 */
function writesForward(text: string): boolean {
  const plain = text.includes('\x1b') ? text.replace(SGR, '') : text;
  return !CURSOR_CONTROLS.test(plain);
}

/** The tracked row nearest to `row` whose text is `text`, or null. */
function nearestWithText(map: Map<number, Tracked>, text: string, row: number): number | null {
  let best: number | null = null;
  for (const [r, t] of map) {
    if (t.text === text && (best === null || Math.abs(r - row) < Math.abs(best - row))) best = r;
  }
  return best;
}

/** Screen lines of a whole run, start to end (for tests, exports and logs outside an index). */
export function screenLinesOf(entries: Iterable<{ entry: LogEntry; time: number }>): ScreenLine[] {
  const maker = new ScreenLineMaker();
  const lines: ScreenLine[] = [];
  let last = Number.NaN;
  for (const { entry, time } of entries) {
    maker.apply(entry, time);
    lines.push(...maker.take());
    last = time;
  }
  maker.endRun(last);
  lines.push(...maker.take());
  maker.dispose();
  return lines;
}
