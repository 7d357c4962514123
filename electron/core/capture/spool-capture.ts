/**
 * Turns one pane's spool (the raw bytes loupe-pipe.sh appends) into JSONL entries.
 *
 * - Timestamps are taken when the bytes are read; lines are split on `\n`; a line without its
 *   newline is flushed as a `partial` entry after PARTIAL_IDLE_MS of quiet or at PARTIAL_MAX_BYTES,
 *   always cut on a UTF-8 character boundary.
 * - Exactly once across crashes (RELIABILITY D1): after every batch lands in the log, the capture
 *   record stores the spool offset the log now covers and the log's last sequence. A kill between
 *   the two leaves the log ahead of the record; on open, the entries after the recorded sequence
 *   are read back from the end of the log and matched against the spool bytes after the recorded
 *   offset, which yields the true offset. So no entry is written twice and none is skipped.
 * - Invalid UTF-8 is written as U+FFFD (JSON strings hold text); everything else is byte-exact.
 * - Speed (SPEC §10: capture keeps up with tmux): each read (up to 1 MiB) is decoded once and
 *   split, its lines are written with one `write()` by LogWriter.writeCaptured, and the record is
 *   saved once per read. bench/spool.bench.js measures this alone.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { EntryMetadata, LogEntry } from '../../../shared/entry.js';
import { nowMicros, parseEntryLine } from '../../../shared/entry.js';
import { linesBackward } from '../log/backwards.js';
import { addLosses, LogWriter, NO_LOSSES, type CapturedKind, type Losses, type LogWriteError } from '../log/writer.js';
import type { Classifier } from './classify.js';
import { saveRecordIfPossible, type CaptureRecord } from './state.js';

/** SPEC §3: a line without a newline is flushed once output has been idle this long (≤ 50 ms). */
export const PARTIAL_IDLE_MS = 40;
/** SPEC §3: the chunk limit for a line without a newline. */
export const PARTIAL_MAX_BYTES = 64 * 1024;
/** How much spool is read per step: bounds the host's memory however far behind it is (T5). */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Reclaim consumed spool space once this much has piled up (fallocate --punch-hole). */
const PUNCH_HOLE_EVERY_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;
/**
 * A line this many UTF-16 units long may exceed PARTIAL_MAX_BYTES once encoded (3 bytes per unit
 * at most), so a chunk holding one goes the byte-exact way, which cuts such lines into chunks.
 */
const LONG_LINE_CHARS = Math.floor(PARTIAL_MAX_BYTES / 3);

/**
 * One read buffer for every capture of the process: a chunk is read, converted and written
 * synchronously, so captures never share it at the same time, and 100 idle panes don't hold 100
 * megabytes. Room for a chunk plus what a capture still holds (less than one partial chunk).
 */
let sharedReadBuffer: Buffer | null = null;
function readBuffer(): Buffer {
  sharedReadBuffer ??= Buffer.allocUnsafe(READ_CHUNK_BYTES + PARTIAL_MAX_BYTES + 4);
  return sharedReadBuffer;
}
/**
 * Gathers tmux's small writes of a burst into one read (one log write, one record save); 2 ms is
 * little next to the 60 ms latency goal.
 */
const PUMP_COALESCE_MS = 2;
/** A read this large means a burst: batching it longer costs less CPU per line, and 10 ms of latency is fine then. */
const BURST_READ_BYTES = 64 * 1024;
const BURST_COALESCE_MS = 10;

const NO_BYTES = Buffer.alloc(0);

/** Metadata that marks entries not made from spool bytes (system entries, backfill). */
function isFromSpool(entry: LogEntry): boolean {
  const m = entry.metadata;
  return m === undefined || (m.event === undefined && m.backfill === undefined);
}

/** The length of the longest prefix of `bytes` that ends on a UTF-8 character boundary. */
export function completeUtf8Length(bytes: Buffer, end = bytes.length): number {
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  let i = end - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (bytes[i] & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return end;
  const lead = bytes[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return continuation + 1 >= need ? end : i;
}

export interface CaptureWriterOptions {
  /** Called when a log write fails (disk full): the host reports it; a gap entry follows later. */
  onWriteError?: (error: LogWriteError) => void;
  /** Rotation size of the log (config `rotateBytes`); the writer's default when absent. */
  rotateBytes?: number;
}

/** One captured pane's spool → JSONL converter. `dispose()` stops it without writing anything. */
export class SpoolCapture {
  readonly record: CaptureRecord;
  readonly writer: LogWriter;
  /** What earlier hosts of this capture lost (from its record), before this writer's own. */
  private readonly lossesBefore: Losses;
  private readonly dir: string;
  private readonly spool: string;
  private readonly classify: Classifier;
  private fd: number | null = null;
  /** Bytes read past `record.offset` that are not in an entry yet (a line without its newline). */
  private pending: Buffer = NO_BYTES;
  private watcher: fs.FSWatcher | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private scheduled = false;
  /** Bytes the last read returned: large during a burst. */
  private lastReadBytes = 0;
  private punchedTo = 0;
  private disposed = false;

  constructor(dir: string, spool: string, record: CaptureRecord, classify: Classifier, options: CaptureWriterOptions = {}) {
    this.dir = dir;
    this.spool = spool;
    this.record = record;
    this.classify = classify;
    this.writer = new LogWriter(record.logFile, {
      agentId: record.agentId,
      onError: options.onWriteError,
      rotateBytes: options.rotateBytes,
    });
    this.lossesBefore = record.losses ?? NO_LOSSES;
    this.openSpool();
    this.reconcile();
  }

  /** Output this capture knows is missing from its log, over every host that ran it. */
  get losses(): Losses {
    return addLosses(this.lossesBefore, this.writer.losses);
  }

  /** Starts following the spool with inotify (fs.watch); the host's tick is the safety poll. */
  start(): void {
    this.pump();
    try {
      this.watcher = fs.watch(this.spool, () => this.schedulePump());
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No spool yet or no inotify: the host's periodic pump still reads it.
    }
  }

  /** Current spool size, or -1 when it is missing. */
  spoolSize(): number {
    try {
      return fs.statSync(this.spool).size;
    } catch {
      return -1;
    }
  }

  /** True when every spool byte is in the log (nothing read but unwritten, nothing unread). */
  get caughtUp(): boolean {
    return this.pending.length === 0 && this.spoolSize() <= this.record.offset;
  }

  private openSpool(): void {
    if (this.fd !== null) return;
    try {
      this.fd = fs.openSync(this.spool, 'r');
    } catch {
      this.fd = null;
    }
  }

  /**
   * Pumps soon. tmux appends in small writes, each waking the watcher; waiting PUMP_COALESCE_MS
   * gathers them into one batch (one log write, one record update) at little cost in latency.
   * During a burst (the last read was large) it waits BURST_COALESCE_MS, for fewer, larger batches.
   */
  private schedulePump(delayMs = this.lastReadBytes >= BURST_READ_BYTES ? BURST_COALESCE_MS : PUMP_COALESCE_MS): void {
    if (this.scheduled || this.disposed) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.pump();
    };
    if (delayMs === 0) setImmediate(run);
    else setTimeout(run, delayMs);
  }

  /**
   * Reads what the spool holds now (at most READ_CHUNK_BYTES, then yields and continues), writes
   * the complete lines, and arms the partial-line timer for a line still without its newline.
   */
  pump(): void {
    if (this.disposed) return;
    this.readChunk();
    this.armPartialTimer();
  }

  /**
   * Reads one chunk after `pending` and writes the complete lines; returns the bytes read.
   * `flushPartial` also writes a trailing line without its newline when the spool has no more
   * (output went idle); `final` writes even an incomplete trailing character (the capture ends).
   */
  private readChunk(flushPartial = false, final = false): number {
    this.openSpool();
    const buf = readBuffer();
    const held = this.pending.length;
    this.pending.copy(buf, 0);
    const wanted = buf.length - held;
    const n = this.fd === null ? 0 : fs.readSync(this.fd, buf, held, wanted, this.record.offset + held);
    const more = n === wanted;
    this.lastReadBytes = n;
    if (n > 0 || flushPartial || final) this.emitLines(buf.subarray(0, held + Math.max(n, 0)), flushPartial && !more, final && !more);
    if (more) this.schedulePump(0); // more to read: continue after other work
    return n;
  }

  /**
   * A line without its newline goes out as a `partial` entry PARTIAL_IDLE_MS after it started
   * waiting. The timer is not pushed back by more output, so a slow trickle (a spinner) is
   * still shown within the limit.
   */
  private armPartialTimer(): void {
    if (this.pending.length === 0 || this.idleTimer !== null || this.disposed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.disposed) return;
      this.readChunk(true);
      this.armPartialTimer(); // an incomplete character may still be waiting
    }, PARTIAL_IDLE_MS);
  }

  /**
   * Turns `data` (the spool from `record.offset` on) into entries: every complete line, every full
   * PARTIAL_MAX_BYTES chunk of a long line, and, when `flushPartial`, the rest as far as it ends
   * on a character boundary. `final` also flushes an incomplete trailing character. What is left
   * becomes `pending`. All entries of one call share one timestamp and one write.
   */
  private emitLines(data: Buffer, flushPartial: boolean, final: boolean): void {
    const time = nowMicros();
    const contents: string[] = [];
    const kinds: CapturedKind[] = [];
    let start = this.takeCompleteLines(data, contents, kinds);
    for (;;) {
      const nl = data.indexOf(NEWLINE, start);
      if (nl >= 0 && nl - start <= PARTIAL_MAX_BYTES) {
        this.addLine(data.toString('utf8', start, nl), false, contents, kinds);
        start = nl + 1;
        continue;
      }
      const available = (nl >= 0 ? nl : data.length) - start;
      if (available >= PARTIAL_MAX_BYTES) {
        const cut = completeUtf8Length(data, start + PARTIAL_MAX_BYTES) - start;
        this.addLine(data.toString('utf8', start, start + cut), true, contents, kinds);
        start += cut;
        continue;
      }
      break;
    }
    if ((flushPartial || final) && start < data.length) {
      const cut = final ? data.length - start : completeUtf8Length(data) - start;
      if (cut > 0) {
        this.addLine(data.toString('utf8', start, start + cut), true, contents, kinds);
        start += cut;
      }
    }
    // A copy: `data` is the shared read buffer.
    this.pending = start === data.length ? NO_BYTES : Buffer.from(data.subarray(start));
    if (contents.length === 0) return;
    this.writer.writeCaptured(time, contents, kinds);
    this.commit(this.record.offset + start);
  }

  /**
   * The fast way for the usual chunk: decode everything up to the last newline at once, split the
   * text, and classify each line. Returns the bytes taken: all complete lines, or none when one of
   * them may be longer than PARTIAL_MAX_BYTES (the byte-exact loop cuts those into chunks).
   * Decoding the lines together gives the same text as decoding each alone: a newline byte never
   * belongs to a multi-byte character, so it also ends any invalid sequence before it.
   */
  private takeCompleteLines(data: Buffer, contents: string[], kinds: CapturedKind[]): number {
    const lastNewline = data.lastIndexOf(NEWLINE);
    if (lastNewline < 0) return 0;
    const text = data.toString('utf8', 0, lastNewline);
    for (let from = 0; ; ) {
      const nl = text.indexOf('\n', from);
      const end = nl < 0 ? text.length : nl;
      if (end - from > LONG_LINE_CHARS) {
        contents.length = 0;
        return 0;
      }
      contents.push(text.slice(from, end));
      if (nl < 0) break;
      from = nl + 1;
    }
    // Classified only now: the classifier keeps state across lines, so it must see each line once.
    for (const line of contents) kinds.push(this.classify(line));
    return lastNewline + 1;
  }

  private addLine(content: string, partial: boolean, contents: string[], kinds: CapturedKind[]): void {
    const c = this.classify(content);
    contents.push(content);
    kinds.push(partial ? { type: c.type, metadata: { ...c.metadata, partial: true } } : c);
  }

  /** Writes an entry that is not spool output (system events, backfill) after draining the spool. */
  writeEvent(entry: { type: LogEntry['type']; content: string; metadata: EntryMetadata }): void {
    this.pump();
    this.writer.append(entry);
    this.commit(this.record.offset);
  }

  /** Lands queued entries in the log, then records the offset and sequence they cover. */
  private commit(offset: number): void {
    this.writer.flush();
    this.record.offset = offset;
    this.record.sequence = this.writer.lastSequence;
    this.record.losses = this.losses;
    saveRecordIfPossible(this.dir, this.record);
    this.punchHoles();
  }

  /** Frees consumed spool blocks in the background; the file keeps its size, so offsets stay valid. */
  private punchHoles(): void {
    const upTo = Math.floor(this.record.offset / 4096) * 4096;
    if (upTo - this.punchedTo < PUNCH_HOLE_EVERY_BYTES) return;
    const from = this.punchedTo;
    this.punchedTo = upTo;
    execFile('fallocate', ['--punch-hole', '--offset', String(from), '--length', String(upTo - from), this.spool], () => {
      // Best effort: without fallocate (or on a file system without holes) the spool is freed when the capture ends.
    });
  }

  /**
   * Reads every remaining spool byte into the log (including an unfinished line and an incomplete
   * trailing character), for a capture that is ending.
   */
  drain(): void {
    if (this.disposed) return;
    while (this.readChunk() > 0);
    this.readChunk(true, true);
  }

  /**
   * After a crash the log may hold entries the record does not cover yet: match them against the
   * spool bytes after the recorded offset to find where the log really ends.
   */
  private reconcile(): void {
    const last = this.writer.lastSequence;
    if (last <= this.record.sequence) {
      this.record.sequence = last;
      return;
    }
    const newer = entriesAfter(this.record.logFile, this.record.sequence);
    let offset = this.record.offset;
    for (const entry of newer) {
      if (!isFromSpool(entry)) continue;
      offset += this.spoolBytesOf(entry, offset);
    }
    this.record.offset = offset;
    this.record.sequence = last;
    saveRecordIfPossible(this.dir, this.record);
  }

  /** How many spool bytes starting at `offset` the entry was made from. */
  private spoolBytesOf(entry: LogEntry, offset: number): number {
    if (this.fd === null) return Buffer.byteLength(entry.content) + (entry.metadata?.partial ? 0 : 1);
    if (entry.metadata?.partial !== true) {
      // A complete line: its bytes run to the next newline.
      const buf = Buffer.allocUnsafe(64 * 1024);
      let pos = offset;
      for (;;) {
        const n = fs.readSync(this.fd, buf, 0, buf.length, pos);
        if (n <= 0) return pos - offset;
        const nl = buf.subarray(0, n).indexOf(NEWLINE);
        if (nl >= 0) return pos + nl + 1 - offset;
        pos += n;
      }
    }
    const encoded = Buffer.byteLength(entry.content);
    if (!entry.content.includes('\ufffd')) return encoded;
    // Invalid bytes became U+FFFD (3 bytes each), so the raw chunk is at most as long: find it.
    const raw = Buffer.alloc(encoded);
    const n = fs.readSync(this.fd, raw, 0, encoded, offset);
    for (let len = n; len > 0; len--) if (raw.toString('utf8', 0, len) === entry.content) return len;
    return encoded;
  }

  /** Stops watching and closes files. Entries already read are on disk; nothing else is written. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.watcher?.close();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.writer.closeSync();
  }
}

/** The valid entries of `file` whose sequence is above `sequence`, oldest first, read from the end. */
function entriesAfter(file: string, sequence: number): LogEntry[] {
  const fd = fs.openSync(file, 'r');
  try {
    const found: LogEntry[] = [];
    for (const line of linesBackward(fd, fs.fstatSync(fd).size)) {
      const parsed = parseEntryLine(line.text);
      if (!parsed.ok) continue;
      if (parsed.entry.sequence <= sequence) break;
      found.push(parsed.entry);
    }
    return found.reverse();
  } finally {
    fs.closeSync(fd);
  }
}
