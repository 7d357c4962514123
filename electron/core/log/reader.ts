/**
 * Reading a JSONL log forwards (SPEC §5, RELIABILITY D2, D5, D8).
 *
 * - Plain files are read from any byte offset; rotated `.gz` files are decompressed on the fly
 *   (their offsets count decompressed bytes).
 * - Only complete (newline-terminated) lines are read. Bytes after the last newline are a torn or
 *   still-growing tail: they are skipped, and `completeEnd` says where they start, so a follower can
 *   resume there and pick the line up once it is complete.
 * - A line that is not a valid entry is reported (file, line number, offset, reason) and skipped.
 * - Memory is bounded by the chunk size plus the longest line; lines are decoded straight out of the
 *   read buffer, without a per-line Buffer copy.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { parseEntryLine, type LogEntry } from '../../../shared/entry.js';

/** Big reads keep syscalls rare; 1 MiB keeps memory small and JSON.parse the bottleneck. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** A corrupt line is quoted in its report up to this many characters. */
const CORRUPT_PREVIEW_CHARS = 120;

/** One entry read from a log, with where it sits in the file. */
export interface ReadEntry {
  entry: LogEntry;
  /** The file it was read from. */
  file: string;
  /** Byte offset of the line's first byte (decompressed bytes for `.gz`). */
  offset: number;
  /** Byte length of the line, without its newline. */
  length: number;
  /** The line exactly as stored, without its newline. */
  line: string;
  /** 1-based line number, when known (reads from offset 0, or given `firstLineNumber`). */
  lineNumber: number | null;
}

/** A line that could not be read as an entry. */
export interface CorruptLine {
  file: string;
  /** 1-based line number, when known. */
  lineNumber: number | null;
  offset: number;
  /** What is wrong with it. */
  error: string;
  /** The start of the line, for the report. */
  preview: string;
}

/** `file:line: reason` — the one-line report of a corrupt line. */
export function describeCorruptLine(c: CorruptLine): string {
  const where = c.lineNumber !== null ? `line ${c.lineNumber}` : `byte ${c.offset}`;
  return `${c.file}: ${where}: skipped a corrupt line (${c.error}): ${JSON.stringify(c.preview)}`;
}

export interface ReadLogOptions {
  /** Where to start: a byte offset at the start of a line (default 0). */
  offset?: number;
  /** The line number of the line at `offset` (default: 1 when offset is 0, else unknown). */
  firstLineNumber?: number;
  /** Stop at this offset (plain files only; default: the size at the time of each read). */
  end?: number;
  /** Called for each corrupt line. Without it, corrupt lines are collected in `LogReader.corrupt`. */
  onCorrupt?: (corrupt: CorruptLine) => void;
  /**
   * Bytes read (and parsed) at a time from a plain file (default 1 MiB). A reader that usually
   * stops after a few entries, like a replay seek, reads less, so it parses less it never uses.
   */
  chunkBytes?: number;
}

/**
 * Turns byte chunks into complete lines. Keeps the unterminated rest of a chunk and prepends it to
 * the next one; everything else is decoded in place.
 */
export class LineSplitter {
  private rest: Buffer | null = null;
  /** Offset (in the stream) of the first byte not yet part of a complete line. */
  completeEnd: number;
  /** Line number of the next line, or null when unknown. */
  nextLineNumber: number | null;

  constructor(
    startOffset: number,
    firstLineNumber: number | null,
    private readonly visit: (buf: Buffer, start: number, end: number, offset: number, lineNumber: number | null) => void,
  ) {
    this.completeEnd = startOffset;
    this.nextLineNumber = firstLineNumber;
  }

  /** Bytes held back because their line is not complete yet. */
  get pendingBytes(): number {
    return this.rest?.length ?? 0;
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest !== null) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        this.rest = Buffer.concat([this.rest, chunk]);
        return;
      }
      // Finish the line that straddles the chunks, then go on in the new chunk itself.
      const line = Buffer.concat([this.rest, chunk.subarray(0, nl)]);
      this.rest = null;
      this.emit(line, 0, line.length);
      buf = chunk.subarray(nl + 1);
    }
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      this.emit(buf, start, nl);
      start = nl + 1;
    }
    if (start < buf.length) this.rest = Buffer.from(buf.subarray(start));
  }

  private emit(buf: Buffer, start: number, end: number): void {
    const offset = this.completeEnd;
    const lineNumber = this.nextLineNumber;
    this.completeEnd += end - start + 1;
    if (this.nextLineNumber !== null) this.nextLineNumber++;
    this.visit(buf, start, end, offset, lineNumber);
  }
}

/**
 * Parses lines into entries, reporting corrupt ones. Blank lines are skipped silently: they carry
 * nothing and some tools append them.
 */
export function entryParser(
  file: string,
  onEntry: (entry: ReadEntry) => void,
  onCorrupt: (corrupt: CorruptLine) => void,
): (buf: Buffer, start: number, end: number, offset: number, lineNumber: number | null) => void {
  return (buf, start, end, offset, lineNumber) => {
    if (end === start) return;
    const line = buf.toString('utf8', start, end);
    const parsed = parseEntryLine(line);
    if (parsed.ok) {
      onEntry({ entry: parsed.entry, file, offset, length: end - start, line, lineNumber });
    } else if (line.trim() !== '') {
      onCorrupt({ file, lineNumber, offset, error: parsed.error, preview: line.slice(0, CORRUPT_PREVIEW_CHARS) });
    }
  };
}

/**
 * Reads the complete lines of an open plain file between `start` and `end`, synchronously, in
 * chunks. Returns where the complete part ends (the start of any torn tail) and the next line number.
 * Used by the follower, which reads only what was appended since its last look.
 */
export function readRangeSync(
  fd: number,
  file: string,
  start: number,
  end: number,
  firstLineNumber: number | null,
  onEntry: (entry: ReadEntry) => void,
  onCorrupt: (corrupt: CorruptLine) => void,
): { completeEnd: number; nextLineNumber: number | null } {
  const splitter = new LineSplitter(start, firstLineNumber, entryParser(file, onEntry, onCorrupt));
  const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(end - start, 1)));
  let pos = start;
  while (pos < end) {
    const read = fs.readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
    if (read === 0) break; // truncated under us: the caller notices on its next stat
    pos += read;
    splitter.push(buf.subarray(0, read));
  }
  return { completeEnd: splitter.completeEnd, nextLineNumber: splitter.nextLineNumber };
}

/**
 * A forward read of one log file (plain or `.gz`). Iterate it for entries, or `batches()` for
 * arrays of entries (faster for big files). After the iteration, `completeEnd` is where the
 * complete lines end and `corrupt` lists corrupt lines (unless `onCorrupt` was given).
 */
export class LogReader implements AsyncIterable<ReadEntry> {
  readonly file: string;
  /** Offset just past the last complete line read so far. */
  completeEnd: number;
  /** Line number of the next line, when known. */
  nextLineNumber: number | null;
  /** Bytes after `completeEnd` that do not end in a newline (a torn or growing tail). */
  tornBytes = 0;
  readonly corrupt: CorruptLine[] = [];
  private readonly options: ReadLogOptions;

  constructor(file: string, options: ReadLogOptions = {}) {
    this.file = file;
    this.options = options;
    this.completeEnd = options.offset ?? 0;
    this.nextLineNumber = options.firstLineNumber ?? (this.completeEnd === 0 ? 1 : null);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReadEntry> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** The entries, one array per chunk read. */
  async *batches(): AsyncGenerator<ReadEntry[], void, undefined> {
    let batch: ReadEntry[] = [];
    const onCorrupt = this.options.onCorrupt ?? ((c: CorruptLine) => this.corrupt.push(c));
    const splitter = new LineSplitter(
      this.completeEnd,
      this.nextLineNumber,
      entryParser(this.file, (e) => batch.push(e), onCorrupt),
    );
    const sync = () => {
      this.completeEnd = splitter.completeEnd;
      this.nextLineNumber = splitter.nextLineNumber;
      this.tornBytes = splitter.pendingBytes;
    };
    try {
      for await (const chunk of this.chunks()) {
        splitter.push(chunk);
        sync();
        if (batch.length > 0) {
          const full = batch;
          batch = [];
          yield full;
        }
      }
    } catch (err) {
      // A damaged .gz: report where it broke and stop reading this file, rather than crash.
      sync();
      onCorrupt({
        file: this.file,
        lineNumber: this.nextLineNumber,
        offset: this.completeEnd,
        error: `cannot read further: ${(err as Error).message}`,
        preview: '',
      });
    }
  }

  private async *chunks(): AsyncGenerator<Buffer, void, undefined> {
    if (this.file.endsWith('.gz')) {
      yield* this.gzipChunks();
      return;
    }
    const handle = await fs.promises.open(this.file, 'r');
    try {
      const end = this.options.end ?? (await handle.stat()).size;
      let pos = this.completeEnd;
      // One buffer, reused for every read: the splitter decodes lines before the next read and
      // copies only an unterminated rest.
      const buf = Buffer.allocUnsafe(Math.min(this.options.chunkBytes ?? READ_CHUNK_BYTES, Math.max(end - pos, 1)));
      while (pos < end) {
        const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, end - pos), pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  private async *gzipChunks(): AsyncGenerator<Buffer, void, undefined> {
    const skip = this.completeEnd;
    let seen = 0;
    const stream = fs.createReadStream(this.file).pipe(zlib.createGunzip({ chunkSize: 256 * 1024 }));
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (seen + chunk.length <= skip) {
          seen += chunk.length;
          continue;
        }
        const from = Math.max(0, skip - seen);
        seen += chunk.length;
        yield from === 0 ? chunk : chunk.subarray(from);
      }
    } finally {
      stream.destroy();
    }
  }
}

/** Reads a whole log into memory: for tests and small files. */
export async function readAllEntries(file: string, options: ReadLogOptions = {}): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  for await (const batch of new LogReader(file, options).batches()) out.push(...batch);
  return out;
}
