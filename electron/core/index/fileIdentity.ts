/**
 * How the indexer recognises a log file across renames, rotation, gzip and truncation
 * (RELIABILITY D6): by dev + inode, and by a hash of its first line, which survives a rename,
 * a copy and compression alike.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';

/** Enough of a file's start to hold its first line; a longer first line is hashed by this prefix. */
const HEAD_BYTES = 64 * 1024;
/** Compressed bytes read to recover HEAD_BYTES of a gzipped file (log text compresses 5-20x). */
const GZ_HEAD_BYTES = 64 * 1024;

export interface DiskFile {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  gz: boolean;
}

/** The file's identity and size, or null when it is gone. */
export function statLogFile(file: string): DiskFile | null {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return null;
    return { path: file, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, gz: file.endsWith('.gz') };
  } catch {
    return null;
  }
}

/**
 * A hash of the file's first complete line (or of its first 64 KiB when that line is longer), or
 * null while the file holds no complete line yet. The first line carries the first sequence and its
 * timestamp, so two different log files practically never share it.
 */
export function headHash(file: DiskFile): string | null {
  let head: Buffer;
  try {
    head = file.gz ? gunzipHead(file.path) : readHead(file.path);
  } catch {
    return null;
  }
  const nl = head.indexOf(0x0a);
  let line: Buffer;
  if (nl >= 0) line = head.subarray(0, nl);
  else if (head.length >= HEAD_BYTES) line = head.subarray(0, HEAD_BYTES);
  else return null;
  return createHash('sha1').update(line).digest('hex');
}

function readHead(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(HEAD_BYTES);
    const n = fs.readSync(fd, buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function gunzipHead(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  let compressed: Buffer;
  try {
    const buf = Buffer.allocUnsafe(GZ_HEAD_BYTES);
    compressed = buf.subarray(0, fs.readSync(fd, buf, 0, GZ_HEAD_BYTES, 0));
  } finally {
    fs.closeSync(fd);
  }
  // SYNC_FLUSH lets a truncated gzip stream yield what it has instead of throwing.
  const out = zlib.gunzipSync(compressed, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, HEAD_BYTES);
}

/** The whole decompressed content of a gzipped rotated log. */
export function readGzipped(file: string): Buffer {
  return zlib.gunzipSync(fs.readFileSync(file));
}

/** What a checkpoint remembers of its file when it was last read to its end. */
export interface SeenFile {
  dev: number;
  ino: number;
  gz: number;
  size: number;
  mtime_ms: number;
}

/** Whether `disk` is the file `seen` describes, unchanged since it was read to its end. */
export function isUnchanged(seen: SeenFile, disk: DiskFile): boolean {
  return seen.dev === disk.dev && seen.ino === disk.ino && seen.size === disk.size && seen.mtime_ms === disk.mtimeMs && seen.gz === Number(disk.gz);
}
