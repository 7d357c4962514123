/**
 * A read position in one agent's live JSONL file, for streaming entries to a client.
 *
 * It reads only complete lines (a torn or half-written last line waits for its newline), follows
 * the writer across rotation (the old file is drained before the new one is read) and across
 * truncation, and never returns a sequence twice: entries at or below the last one returned are
 * skipped, so a re-read after truncation cannot duplicate anything.
 *
 * Cursors on the same file share one descriptor (RELIABILITY W6): a cursor is a position, not an
 * open file, so hundreds of subscriptions to one log hold one descriptor (two across a rotation,
 * until every cursor has drained the old file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseEntryLine, type LogEntry } from '../../../shared/entry.js';
import { completeEnd, linesBackward } from '../log/backwards.js';

/** Reads are done in pieces this size; a line longer than this is read in several. */
const READ_CHUNK_BYTES = 256 * 1024;

export interface CursorRead {
  entries: LogEntry[];
  /** Bytes of JSONL consumed by this read (the entries' lines, plus any skipped lines). */
  bytes: number;
  /** True when the read stopped at a byte or entry limit with more complete lines waiting. */
  more: boolean;
}

/** An open file shared by the cursors that read it: by path and inode. */
interface SharedFd {
  fd: number;
  ino: number;
  users: number;
}

const openFiles = new Map<string, SharedFd>();

/** How many descriptors the cursors of this process hold (for tests and diagnostics). */
export function cursorDescriptorCount(): number {
  return openFiles.size;
}

/** The file at `file` now, opened once for every cursor on it; null when there is none. */
function acquire(file: string): SharedFd | null {
  let ino: number;
  try {
    ino = fs.statSync(file).ino;
  } catch {
    return null;
  }
  const known = openFiles.get(`${file}\u0000${ino}`);
  if (known !== undefined) {
    known.users++;
    return known;
  }
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  const opened: SharedFd = { fd, ino: fs.fstatSync(fd).ino, users: 1 };
  const key = `${file}\u0000${opened.ino}`;
  const raced = openFiles.get(key); // replaced between the stat and the open, by a file already shared
  if (raced !== undefined) {
    fs.closeSync(fd);
    raced.users++;
    return raced;
  }
  openFiles.set(key, opened);
  return opened;
}

function release(file: string, shared: SharedFd): void {
  if (--shared.users > 0) return;
  openFiles.delete(`${file}\u0000${shared.ino}`);
  fs.closeSync(shared.fd);
}

export class LogCursor {
  readonly file: string;
  private shared: SharedFd | null = null;
  private ino = -1;
  private offset = 0;
  /** Sequences at or below this were already returned. */
  private lastSequence: number;
  /** Lines that were not valid entries (reported by count; a corrupt line never stops a stream). */
  corruptLines = 0;

  /**
   * Opens `file` positioned at the first entry with a sequence ≥ `fromSequence`, found by
   * reading backwards from the end (cheap when the client is close to live). A missing file
   * is fine: the cursor picks it up once it exists.
   */
  constructor(file: string, fromSequence: number) {
    this.file = path.resolve(file);
    this.lastSequence = Math.max(0, fromSequence - 1);
    if (this.reopen()) this.offset = this.offsetOf(fromSequence);
  }

  /** The sequence of the last entry returned (or `fromSequence - 1` before any). */
  get position(): number {
    return this.lastSequence;
  }

  /**
   * Reads complete entries after the cursor: at most about `maxBytes` of JSONL (always at least
   * one line when one is complete) and at most `maxEntries` entries.
   */
  read(maxBytes: number, maxEntries = Number.POSITIVE_INFINITY): CursorRead {
    const out: CursorRead = { entries: [], bytes: 0, more: false };
    if (this.fd === null && !this.reopen()) return out;
    for (;;) {
      const size = fs.fstatSync(this.fd!).size;
      if (size < this.offset) this.offset = 0; // truncated (copytruncate): read again, sequences dedupe
      if (this.offset < size) {
        this.readLines(size, maxBytes, maxEntries, out);
        if (out.more) return out;
      }
      // At the end of this file. If the path now names another file (rotation), drain that next.
      if (!this.switchedFile()) return out;
    }
  }

  /** Lets go of the file (it closes when no other cursor reads it). */
  close(): void {
    if (this.shared !== null) release(this.file, this.shared);
    this.shared = null;
  }

  private get fd(): number | null {
    return this.shared?.fd ?? null;
  }

  private readLines(size: number, maxBytes: number, maxEntries: number, out: CursorRead): void {
    let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, size - this.offset));
    let carry = 0; // bytes of an unfinished line kept at the start of buf
    while (this.offset + carry < size) {
      if (carry === buf.length) {
        // A line longer than the buffer: grow it and keep reading.
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, size - this.offset));
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const want = Math.min(buf.length - carry, size - this.offset - carry);
      const got = fs.readSync(this.fd!, buf, carry, want, this.offset + carry);
      if (got === 0) return;
      const filled = carry + got;
      let start = 0;
      for (let nl = buf.indexOf(0x0a, 0); nl >= 0 && nl < filled; nl = buf.indexOf(0x0a, start)) {
        this.takeLine(buf.toString('utf8', start, nl), out);
        out.bytes += nl + 1 - start;
        this.offset += nl + 1 - start;
        start = nl + 1;
        if (out.bytes >= maxBytes || out.entries.length >= maxEntries) {
          out.more = this.offset < size && this.hasCompleteLine(size);
          return;
        }
      }
      buf.copy(buf, 0, start, filled);
      carry = filled - start;
    }
  }

  private takeLine(text: string, out: CursorRead): void {
    if (text.length === 0) return;
    const parsed = parseEntryLine(text);
    if (!parsed.ok) {
      this.corruptLines++;
      return;
    }
    if (parsed.entry.sequence <= this.lastSequence) return;
    this.lastSequence = parsed.entry.sequence;
    out.entries.push(parsed.entry);
  }

  private hasCompleteLine(size: number): boolean {
    const probe = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, size - this.offset));
    for (let pos = this.offset; pos < size; ) {
      const got = fs.readSync(this.fd!, probe, 0, Math.min(probe.length, size - pos), pos);
      if (got === 0) return false;
      if (probe.subarray(0, got).includes(0x0a)) return true;
      pos += got;
    }
    return false;
  }

  /** When the path names a different file than the one open (rotated or recreated), opens it at 0. */
  private switchedFile(): boolean {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      return false; // deleted: keep what is open; a new file at the path is picked up later
    }
    if (st.ino === this.ino) return false;
    return this.reopen();
  }

  private reopen(): boolean {
    const next = acquire(this.file);
    if (next === null) return false;
    this.close();
    this.shared = next;
    this.ino = next.ino;
    this.offset = 0;
    return true;
  }

  /** The byte offset of the first line whose sequence is ≥ `sequence`. */
  private offsetOf(sequence: number): number {
    // A half-written last line is not yielded backwards; start at it so it is read once complete.
    let offset = completeEnd(this.fd!, fs.fstatSync(this.fd!).size);
    for (const line of linesBackward(this.fd!, offset)) {
      const parsed = parseEntryLine(line.text);
      if (parsed.ok && parsed.entry.sequence < sequence) break;
      offset = line.offset;
    }
    return offset;
  }
}
