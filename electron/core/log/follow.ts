/**
 * Following a log as it grows (`tail -F` semantics; SPEC §5, RELIABILITY D5, D6).
 *
 * - Wakes on fs.watch events for the file's folder (and its symlink target's folder), with a
 *   polling fallback when watching is unavailable, and a periodic stat as a safety net because
 *   watch events can be lost (network filesystems, overflowing inotify queues).
 * - Emits complete lines only: its offset never moves past a half-written line (D5).
 * - Follows the path, not the open file: rename-and-recreate rotation (the rest of the old file is
 *   read first), copytruncate (a file smaller than the offset, or whose first line changed),
 *   deletion then recreation, inode reuse, and symlinks (D6).
 */
import fs from 'node:fs';
import path from 'node:path';
import { completeEnd, linesBackward } from './backwards.js';
import { firstLineHash, identifyFile, isSameFile, type FileIdentity } from './fileIdentity.js';
import { parseEntryLine } from '../../../shared/entry.js';
import { readRangeSync, type CorruptLine, type ReadEntry } from './reader.js';

/** Without working fs.watch, how often to look for new bytes. */
export const DEFAULT_POLL_INTERVAL_MS = 100;
/** With fs.watch, how often to stat anyway, in case an event was lost. */
export const DEFAULT_SAFETY_STAT_MS = 1000;
/** At most this much is read per wake-up, so one huge append cannot block the event loop for long. */
const MAX_READ_PER_CHECK_BYTES = 16 * 1024 * 1024;

/** Something that happened to the followed path. */
export interface FileChange {
  kind: 'truncated' | 'replaced' | 'deleted' | 'appeared';
  file: string;
}

/** Where to resume: a byte offset in a specific file (from `tailEntries` or a saved checkpoint). */
export interface FollowPosition {
  offset: number;
  /** The file the offset belongs to. If the path now names another file, reading starts at 0. */
  identity?: FileIdentity | null;
  /** The line number at `offset`, if known. */
  lineNumber?: number | null;
}

export interface FollowOptions {
  /** Where to start. Default: the end of the complete lines of the current file. */
  from?: FollowPosition | 'start' | 'end';
  /** Start right after the entry with this sequence (found by reading backwards). Overrides `from`. */
  afterSequence?: number;
  /** New entries, in file order. */
  onEntries: (entries: ReadEntry[]) => void;
  onCorrupt?: (corrupt: CorruptLine) => void;
  onChange?: (change: FileChange) => void;
  /** Use polling only (for filesystems where fs.watch does not work). */
  pollOnly?: boolean;
  pollIntervalMs?: number;
  safetyStatMs?: number;
}

/** Follows one log path until `close()`. */
export class LogFollower {
  readonly file: string;
  private fd: number | null = null;
  private identity: FileIdentity | null = null;
  private position = 0;
  private lineNumber: number | null = null;
  private start: FollowOptions['from'];
  private afterSequence: number | undefined;
  private readonly options: FollowOptions;
  private watchers = new Map<string, fs.FSWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private checkQueued = false;
  private closed = false;
  /** The path had no file at the last look: the next file that appears is read from its start. */
  private waitingForFile = false;

  constructor(file: string, options: FollowOptions) {
    this.file = path.resolve(file);
    this.options = options;
    this.start = options.from ?? 'end';
    this.afterSequence = options.afterSequence;
    this.check();
    this.armTimer();
  }

  /** Byte offset just past the last complete line emitted, in the current file. */
  get offset(): number {
    return this.position;
  }

  /** The identity of the file being read, or null while the path does not exist. */
  get currentIdentity(): FileIdentity | null {
    return this.identity;
  }

  /** Stops watching and closes the file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.closeFile();
  }

  /** Looks for new bytes now (tests and callers that know the file changed may call it). */
  check(): void {
    if (this.closed) return;
    let stat: fs.Stats | null = null;
    try {
      stat = fs.statSync(this.file);
    } catch {
      stat = null; // gone, or a path component is missing: wait for it to come back
    }
    if (stat !== null && !stat.isFile()) stat = null;

    if (this.fd !== null) {
      const current = fs.fstatSync(this.fd);
      if (stat === null || stat.dev !== current.dev || stat.ino !== current.ino) {
        // The path no longer names our file: read what was appended before the rename or delete.
        this.readUpTo(current.size, Infinity);
        this.closeFile();
        this.options.onChange?.({ kind: stat === null ? 'deleted' : 'replaced', file: this.file });
        this.waitingForFile = stat === null;
      } else {
        this.checkRewritten(current);
        this.readUpTo(current.size, MAX_READ_PER_CHECK_BYTES);
      }
    }
    if (this.fd === null && stat !== null) this.openFile();
    else if (this.fd === null) {
      this.waitingForFile = true;
      this.start = 'start';
    }
    this.watchFolders();
  }

  /** Copytruncate or inode reuse: same dev + inode, but shorter than our offset or a new first line. */
  private checkRewritten(current: fs.Stats): void {
    if (this.fd === null || this.identity === null) return;
    const hash = firstLineHash(this.fd, current.size);
    const shrunk = current.size < this.position;
    const rewritten = this.identity.firstLineHash !== null && hash !== null && hash !== this.identity.firstLineHash;
    if (shrunk || rewritten) {
      this.position = 0;
      this.lineNumber = 1;
      this.options.onChange?.({ kind: 'truncated', file: this.file });
    }
    this.identity = { ...this.identity, firstLineHash: hash };
  }

  private openFile(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return; // deleted between stat and open: the next check tries again
    }
    const stat = fs.fstatSync(fd);
    this.fd = fd;
    this.identity = identifyFile(fd, stat);
    const first = this.start;
    this.start = 'start'; // every file after the first is read from its beginning
    if (this.waitingForFile) {
      this.waitingForFile = false;
      this.options.onChange?.({ kind: 'appeared', file: this.file });
    }
    if (this.afterSequence !== undefined) {
      this.position = offsetAfterSequence(fd, completeEnd(fd, stat.size), this.afterSequence);
      this.lineNumber = this.position === 0 ? 1 : null;
      this.afterSequence = undefined;
    } else if (first === 'end') {
      this.position = completeEnd(fd, stat.size);
      this.lineNumber = null;
    } else if (first === 'start' || first === undefined) {
      this.position = 0;
      this.lineNumber = 1;
    } else if (first.identity != null && !isSameFile(first.identity, this.identity)) {
      // The file was rotated or replaced since the position was taken.
      this.position = 0;
      this.lineNumber = 1;
      this.options.onChange?.({ kind: 'replaced', file: this.file });
    } else if (stat.size < first.offset) {
      this.position = 0;
      this.lineNumber = 1;
      this.options.onChange?.({ kind: 'truncated', file: this.file });
    } else {
      this.position = first.offset;
      this.lineNumber = first.lineNumber ?? (first.offset === 0 ? 1 : null);
    }
    this.readUpTo(stat.size, MAX_READ_PER_CHECK_BYTES);
  }

  /** Reads complete lines from the offset up to `size` (at most `limit` bytes) and emits them. */
  private readUpTo(size: number, limit: number): void {
    if (this.fd === null || size <= this.position) return;
    const end = Math.min(size, this.position + limit);
    const batch: ReadEntry[] = [];
    const onCorrupt = this.options.onCorrupt ?? (() => {});
    let result;
    try {
      result = readRangeSync(this.fd, this.file, this.position, end, this.lineNumber, (e) => batch.push(e), onCorrupt);
    } catch {
      return; // an I/O error on a file being replaced: the next check sorts it out
    }
    this.position = result.completeEnd;
    this.lineNumber = result.nextLineNumber;
    if (batch.length > 0) this.options.onEntries(batch);
    // More than one read's worth was waiting: come back soon, after other events had a turn.
    if (end < size && !this.closed) this.queueCheck();
  }

  private closeFile(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = null;
    this.identity = null;
  }

  private queueCheck(): void {
    if (this.checkQueued || this.closed) return;
    this.checkQueued = true;
    setImmediate(() => {
      this.checkQueued = false;
      this.check();
    });
  }

  /** Watches the folder of the path and of its symlink target; a folder that is missing is polled. */
  private watchFolders(): void {
    if (this.options.pollOnly === true || this.closed) return;
    const wanted = new Set([path.dirname(this.file)]);
    try {
      wanted.add(path.dirname(fs.realpathSync(this.file)));
    } catch {
      // the path does not resolve right now
    }
    for (const [dir, w] of this.watchers) {
      if (!wanted.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = fs.watch(dir, { persistent: true }, () => this.queueCheck());
        w.on('error', () => {
          // The folder was removed or the watch limit hit: polling takes over until it is back.
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // no such folder (yet), or no inotify: polling covers it
      }
    }
  }

  private armTimer(): void {
    if (this.closed) return;
    const watching = this.watchers.size > 0;
    const delay = watching
      ? (this.options.safetyStatMs ?? DEFAULT_SAFETY_STAT_MS)
      : (this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.timer = setTimeout(() => {
      this.check();
      this.armTimer();
    }, delay);
  }
}

/** The offset just past the entry with sequence `sequence` (or the last one before it); 0 if none. */
export function offsetAfterSequence(fd: number, end: number, sequence: number): number {
  for (const line of linesBackward(fd, end)) {
    const parsed = parseEntryLine(line.text);
    if (parsed.ok && parsed.entry.sequence <= sequence) return line.offset + line.length + 1;
  }
  return 0;
}
