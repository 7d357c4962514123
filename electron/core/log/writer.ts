/**
 * The batched JSONL writer (SPEC §3, RELIABILITY D1, D2, D7, D9).
 *
 * - Entries are queued and written with one `write()` per batch on an O_APPEND descriptor,
 *   at most `flushDelayMs` after the first queued entry.
 * - Sequences are assigned when a batch lands on disk, so a failed write never leaves a hole.
 * - On open, the last sequence is found by reading backwards from the end, and a torn tail
 *   (half a line, or zero bytes after the last newline) is cut off.
 * - When a write fails (disk full), nothing half-written stays in the file; the batch is dropped
 *   and a `gap` entry saying how many entries were lost is written once writing works again.
 * - Past `rotateBytes` the file is renamed to `<file>.<stamp>` and gzipped in the background.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import {
  checkAgentId,
  formatTimestamp,
  nowMicros,
  parseEntryLine,
  serializeEntry,
  type EntryMetadata,
  type EntryType,
  type LogEntry,
} from '../../../shared/entry.js';
import { completeEnd, linesBackward } from './backwards.js';
import { JsonlBytes } from './jsonl-bytes.js';
import { rotatedFiles } from './paths.js';

/** Default rotation threshold (issue 2). */
export const DEFAULT_ROTATE_BYTES = 100 * 1024 * 1024;
/** Entries are on disk within this long of being queued (SPEC: flushed within 50 ms). */
export const DEFAULT_FLUSH_DELAY_MS = 10;
/** How long a torn tail must stay as it is before a new writer cuts it (another writer may be mid-write). */
const TORN_TAIL_SETTLE_MS = 100;
/** After a failed write, how soon to try again (writing the gap entry) without new output. */
const RETRY_AFTER_FAILURE_MS = 1000;
/** A batch this large is written at once instead of waiting for the timer. */
const MAX_BATCH_BYTES = 1024 * 1024;

export interface NewEntry {
  type: EntryType;
  content: string;
  metadata?: EntryMetadata;
  /** Microseconds since the epoch; defaults to the time of `append`. */
  timeMicros?: number;
}

/** A captured line's type and metadata (for `writeCaptured`): usually one shared object per rule. */
export interface CapturedKind {
  readonly type: EntryType;
  readonly metadata?: EntryMetadata;
}

/** Output known to be missing from a log: gap entries, and how many entries could not be written. */
export interface Losses {
  gaps: number;
  lostEntries: number;
}

export const NO_LOSSES: Losses = { gaps: 0, lostEntries: 0 };

export function addLosses(a: Losses, b: Losses): Losses {
  return { gaps: a.gaps + b.gaps, lostEntries: a.lostEntries + b.lostEntries };
}

export interface LogWriterOptions {
  agentId: string;
  rotateBytes?: number;
  flushDelayMs?: number;
  /** Called when a batch cannot be written (the batch is dropped and a gap entry follows later). */
  onError?: (error: LogWriteError) => void;
}

/** A write that failed; the message names the file and what to do. */
export class LogWriteError extends Error {
  override name = 'LogWriteError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly lostEntries: number,
  ) {
    super(message);
  }
}

export function describeWriteError(file: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOSPC':
      return `cannot write ${file}: the disk is full; free some space (capture resumes and records a gap)`;
    case 'EDQUOT':
      return `cannot write ${file}: disk quota exceeded; free some space`;
    case 'ENOTDIR':
      return `cannot write ${file}: a part of that path is a file, not a folder`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `cannot write ${file}: permission denied (${err.code})`;
    default:
      return `cannot write ${file}: ${err.message}`;
  }
}

export class LogWriter {
  readonly file: string;
  readonly agentId: string;
  private fd: number;
  private size: number;
  private sequence: number;
  private queue: { entry: NewEntry; time: number }[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private lostEntries = 0;
  private lostReason = '';
  /** Gap entries appended or written by this writer, and the entries its write_failed gaps counted. */
  private gapsSoFar = 0;
  private lostSoFar = 0;
  private readonly rotateBytes: number;
  private readonly flushDelayMs: number;
  private readonly onError: (error: LogWriteError) => void;
  private readonly compressions = new Set<Promise<void>>();
  private closed = false;

  /** Opens (creating if needed) `file`, repairs a torn tail and continues its sequence. */
  constructor(file: string, options: LogWriterOptions) {
    this.file = file;
    this.agentId = checkAgentId(options.agentId);
    this.rotateBytes = options.rotateBytes ?? DEFAULT_ROTATE_BYTES;
    this.flushDelayMs = options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
    this.onError = options.onError ?? (() => {});
    try {
      this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new LogWriteError(describeWriteError(file, e), e.code, 0);
    }
    this.size = repairTornTail(this.fd);
    this.sequence = lastSequenceIn(this.fd, this.size) ?? lastSequenceOfRotated(file) ?? 0;
    for (const unfinished of finishInterruptedRotations(file)) {
      const job = gzipFile(unfinished).finally(() => this.compressions.delete(job));
      this.compressions.add(job);
    }
  }

  /** The sequence of the last entry on disk (0 for none). */
  get lastSequence(): number {
    return this.sequence;
  }

  /**
   * Output known to be missing from what this writer was given: gap entries (its own `write_failed`
   * ones and any appended with `metadata.gap`), and the entries lost, including those whose gap
   * entry is still waiting for space.
   */
  get losses(): Losses {
    const waiting = this.lostEntries > 0 ? 1 : 0;
    return { gaps: this.gapsSoFar + waiting, lostEntries: this.lostSoFar + this.lostEntries };
  }

  /** Bytes in the current (unrotated) file. */
  get fileSize(): number {
    return this.size;
  }

  /** Queues an entry; it is on disk within `flushDelayMs`, or at once for a large batch. */
  append(entry: NewEntry): void {
    if (this.closed) throw new Error(`log writer for ${this.file} is closed`);
    if (typeof entry.metadata?.gap === 'string') this.gapsSoFar++;
    this.queue.push({ entry, time: entry.timeMicros ?? nowMicros() });
    this.queuedBytes += entry.content.length + 100;
    if (this.queuedBytes >= MAX_BATCH_BYTES) this.flush();
    else if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.flushDelayMs);
  }

  /**
   * Writes everything queued, synchronously, in one `write()`.
   * Returns the entries written (with their sequences), or [] when the write failed.
   */
  flush(): LogEntry[] {
    this.clearTimer();
    if (this.queue.length === 0 && this.lostEntries === 0) return [];
    const count = this.queue.length;
    const gapFirst = this.lostEntries > 0;
    const entries = this.takeQueued(nowMicros());
    const written = this.land(Buffer.from(entries.map(serializeEntry).join(''), 'utf8'), count, this.sequence + entries.length, gapFirst);
    return entries.slice(0, written);
  }

  /**
   * Writes lines captured in one read, after anything queued, in one `write()` now: the capture
   * path's fast lane, which builds no entry objects. The lines share the read's timestamp, and
   * `kinds[i]` gives line i's type and metadata; a frozen metadata object (classification results
   * are shared by many lines) is serialized once. Returns false when the write failed: the lines
   * are lost, and a `gap` entry saying so is written once writing works again.
   */
  writeCaptured(timeMicros: number, contents: readonly string[], kinds: readonly CapturedKind[]): boolean {
    if (this.closed) throw new Error(`log writer for ${this.file} is closed`);
    this.clearTimer();
    const lost = this.queue.length + contents.length;
    const gapFirst = this.lostEntries > 0;
    const queued = this.takeQueued(timeMicros);
    const out = new JsonlBytes();
    if (queued.length > 0) out.addText(queued.map(serializeEntry).join(''));
    let seq = this.sequence + queued.length;
    const stamp = `{"timestamp":"${formatTimestamp(timeMicros)}","agent_id":${JSON.stringify(this.agentId)},"type":"`;
    // Everything before the sequence, per entry type. Timestamps and agent ids are ASCII.
    const heads: Partial<Record<EntryType, Buffer>> = {};
    for (let i = 0; i < contents.length; i++) {
      const kind = kinds[i];
      out.addBytes((heads[kind.type] ??= Buffer.from(`${stamp}${kind.type}","sequence":`, 'latin1')));
      out.addInteger(++seq);
      out.addBytes(CONTENT_KEY);
      out.addJsonString(contents[i]);
      out.addBytes(kind.metadata === undefined ? ENTRY_END : metadataTail(kind.metadata));
    }
    return this.land(out.bytes(), lost, seq, gapFirst) === queued.length + contents.length;
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /**
   * Empties the queue into entries numbered from the last sequence on disk, after the `gap` entry
   * for earlier lost entries if there are any. `fallbackMicros` stamps a gap entry with no queue.
   */
  private takeQueued(fallbackMicros: number): LogEntry[] {
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    const entries: LogEntry[] = [];
    let seq = this.sequence;
    if (this.lostEntries > 0) {
      entries.push({
        timestamp: formatTimestamp(queued[0]?.time ?? fallbackMicros),
        agent_id: this.agentId,
        type: 'system',
        sequence: ++seq,
        content: `[loupe] ${this.lostEntries} entries could not be written (${this.lostReason})`,
        metadata: { level: 'error', event: 'write_failed', gap: this.lostReason, lost_entries: this.lostEntries },
      });
    }
    for (const { entry, time } of queued) {
      const e: LogEntry = {
        timestamp: formatTimestamp(time),
        agent_id: this.agentId,
        type: entry.type,
        sequence: ++seq,
        content: entry.content,
      };
      if (entry.metadata !== undefined) e.metadata = entry.metadata;
      entries.push(e);
    }
    return entries;
  }

  /**
   * Writes lines that end at sequence `lastSeq` (the first of them the gap entry when `gapFirst`),
   * rotating first when they would pass the threshold. When the disk fills part way, the complete
   * lines that fit stay (RELIABILITY D10) and only the rest is lost: no half line stays, the lost
   * entries are counted for the next gap entry, and a retry is scheduled. Returns how many lines
   * were written.
   */
  private land(bytes: Buffer, lostOnFailure: number, lastSeq: number, gapFirst: boolean): number {
    const lines = lastSeq - this.sequence;
    const reported = gapFirst ? this.lostEntries : 0; // what the gap entry at the front says
    const gapLanded = () => {
      if (!gapFirst) return;
      this.gapsSoFar++;
      this.lostSoFar += reported;
    };
    try {
      if (this.size > 0 && this.size + bytes.length > this.rotateBytes) this.rotate();
      writeAll(this.fd, bytes);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { bytesWritten?: number };
      const keptBytes = bytes.subarray(0, e.bytesWritten ?? 0).lastIndexOf(0x0a) + 1;
      const kept = keptBytes === 0 ? 0 : countNewlines(bytes, keptBytes);
      this.undoPartialWrite(keptBytes);
      const lostNow = kept > 0 ? lostOnFailure - (kept - (gapFirst ? 1 : 0)) : lostOnFailure;
      if (kept > 0) {
        // The gap entry (if first) is on disk and covers the earlier losses: only these remain.
        gapLanded();
        this.size += keptBytes;
        this.sequence += kept;
        this.lostEntries = lostNow;
      } else {
        this.lostEntries += lostOnFailure;
      }
      this.lostReason = e.code === 'ENOSPC' ? 'disk full' : `write failed: ${e.code ?? e.message}`;
      this.onError(new LogWriteError(describeWriteError(this.file, e), e.code, lostNow));
      if (!this.closed) {
        this.timer = setTimeout(() => this.flush(), RETRY_AFTER_FAILURE_MS);
        this.timer.unref();
      }
      return kept;
    }
    gapLanded();
    this.size += bytes.length;
    this.sequence = lastSeq;
    this.lostEntries = 0;
    return lines;
  }

  /** Flushes, closes the file and waits for background compression of rotated files. */
  async close(): Promise<void> {
    this.closeSync();
    await Promise.all(this.compressions);
  }

  /** Flushes and closes the file without waiting for compression. */
  closeSync(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    fs.closeSync(this.fd);
  }

  /** Cuts off whatever a failed write left after its first `keep` bytes, so no half record stays. */
  private undoPartialWrite(keep: number): void {
    try {
      const actual = fs.fstatSync(this.fd).size;
      if (actual > this.size + keep) fs.ftruncateSync(this.fd, this.size + keep);
    } catch {
      // The next open repairs the torn tail anyway.
    }
  }

  private rotate(): void {
    const rotated = freeRotatedName(this.file, new Date());
    fs.renameSync(this.file, rotated);
    const fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
    fs.closeSync(this.fd);
    this.fd = fd;
    this.size = 0;
    const job = gzipFile(rotated).finally(() => this.compressions.delete(job));
    this.compressions.add(job);
  }
}

const CONTENT_KEY = Buffer.from(',"content":');
const ENTRY_END = Buffer.from('}\n');

/** `,"metadata":{…}}\n` of frozen metadata objects, which classification shares between many lines. */
const frozenMetadataTails = new WeakMap<EntryMetadata, Buffer>();

function metadataTail(metadata: EntryMetadata): Buffer {
  const cached = frozenMetadataTails.get(metadata);
  if (cached !== undefined) return cached;
  const tail = Buffer.from(`,"metadata":${JSON.stringify(metadata)}}\n`);
  if (Object.isFrozen(metadata)) frozenMetadataTails.set(metadata, tail);
  return tail;
}

/** Writes all of `bytes`; on failure the error carries `bytesWritten`, how many made it. */
function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  try {
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    (err as { bytesWritten?: number }).bytesWritten = off;
    throw err;
  }
}

function countNewlines(bytes: Buffer, end: number): number {
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < end; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** `20261121T235409123`: sortable (UTC, milliseconds). */
function rotationStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '').replace('Z', '');
}

/**
 * `<file>.<stamp><nnn>`: a rotated name that no existing file (plain, `.gz` or being compressed)
 * has. Two rotations within one millisecond (a small threshold, a burst) must not overwrite each
 * other, so a 3-digit counter follows the milliseconds; names still sort by time.
 */
function freeRotatedName(file: string, d: Date): string {
  const stamp = rotationStamp(d);
  for (let n = 0; ; n++) {
    const name = `${file}.${stamp}${String(n).padStart(3, '0')}`;
    if (!fs.existsSync(name) && !fs.existsSync(`${name}.gz`) && !fs.existsSync(`${name}.gz.tmp`)) return name;
  }
}

/**
 * Cleans up after a process killed while compressing a rotated file (RELIABILITY D11): a
 * `.gz.tmp` is half a gzip and goes; a plain rotated file whose `.gz` is complete (the kill came
 * between the rename and the unlink) goes too. Returns the plain rotated files still to compress.
 */
export function finishInterruptedRotations(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const toCompress: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const full = path.join(dir, name);
    if (name.endsWith('.gz.tmp')) {
      fs.rmSync(full, { force: true });
      continue;
    }
    if (!/^\d{8}T\d{6}\d*$/.test(name.slice(prefix.length))) continue; // only plain rotated files
    if (fs.existsSync(`${full}.gz`)) fs.rmSync(full, { force: true });
    else toCompress.push(full);
  }
  return toCompress.sort();
}

/** Compresses `file` to `file.gz` and removes `file`. A failure leaves the plain file in place. */
export async function gzipFile(file: string): Promise<void> {
  const tmp = `${file}.gz.tmp`;
  try {
    await pipeline(fs.createReadStream(file), zlib.createGzip(), fs.createWriteStream(tmp));
    fs.renameSync(tmp, `${file}.gz`);
    fs.unlinkSync(file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Cuts off a torn tail (bytes after the last newline: half a JSON line, or zero bytes a crash
 * left behind). Returns the new size.
 */
export function repairTornTail(fd: number): number {
  const size = fs.fstatSync(fd).size;
  const end = completeEnd(fd, size);
  if (end === size) return size;
  // Another writer of this file (RELIABILITY D9) may be in the middle of a write(): Linux grows a
  // file page by page, so its line can look torn for a moment. Only a tail that stays torn is
  // a crashed writer's, and only that is cut; a growing file is left to its writer.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, TORN_TAIL_SETTLE_MS);
  const now = fs.fstatSync(fd).size;
  if (now !== size) return now;
  fs.ftruncateSync(fd, end);
  return end;
}

/** The sequence of the last valid entry in the first `end` bytes of `fd`, skipping corrupt lines. */
export function lastSequenceIn(fd: number, end: number): number | null {
  for (const line of linesBackward(fd, end)) {
    const parsed = parseEntryLine(line.text);
    if (parsed.ok) return parsed.entry.sequence;
  }
  return null;
}

/** The last sequence of the newest rotated sibling, for a live file that is new or empty after a rotation. */
function lastSequenceOfRotated(file: string): number | null {
  const rotated = rotatedFiles(file);
  const newest = rotated[rotated.length - 1];
  if (newest === undefined) return null;
  if (!newest.endsWith('.gz')) {
    const fd = fs.openSync(newest, 'r');
    try {
      return lastSequenceIn(fd, fs.fstatSync(fd).size);
    } finally {
      fs.closeSync(fd);
    }
  }
  // Rare path (a crash right after a rotation): a gzip file cannot be read backwards.
  const text = zlib.gunzipSync(fs.readFileSync(newest)).toString('utf8');
  const lines = text.split('\n');
  for (let i = lines.length - 2; i >= 0; i--) {
    const parsed = parseEntryLine(lines[i]);
    if (parsed.ok) return parsed.entry.sequence;
  }
  return null;
}
