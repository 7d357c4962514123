/**
 * Telling whether a path still names the file we were reading (RELIABILITY D6).
 *
 * dev + inode alone is not enough: a deleted file's inode number is reused by the next file
 * created, and copytruncate keeps the inode while replacing the content. So a file is identified by
 * dev + inode + a hash of its first line; log lines start with a microsecond timestamp, so two
 * files practically never share a first line.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';

/** The first line is hashed up to this many bytes: enough to hold the timestamp and the sequence. */
const FIRST_LINE_HASH_BYTES = 4096;

export interface FileIdentity {
  dev: number;
  ino: number;
  /** Hash of the first line (up to 4 KiB); null while the file has no complete first line. */
  firstLineHash: string | null;
}

/** The identity of an open file. */
export function identifyFile(fd: number, stat: fs.Stats = fs.fstatSync(fd)): FileIdentity {
  return { dev: stat.dev, ino: stat.ino, firstLineHash: firstLineHash(fd, stat.size) };
}

/** Hash of the file's first line (or its first 4 KiB, when the line is longer), or null if incomplete. */
export function firstLineHash(fd: number, size: number): string | null {
  if (size === 0) return null;
  const buf = Buffer.allocUnsafe(Math.min(size, FIRST_LINE_HASH_BYTES));
  const read = fs.readSync(fd, buf, 0, buf.length, 0);
  const nl = buf.subarray(0, read).indexOf(0x0a);
  if (nl < 0 && read < FIRST_LINE_HASH_BYTES) return null;
  return createHash('sha1')
    .update(buf.subarray(0, nl < 0 ? read : nl))
    .digest('hex');
}

/**
 * Whether two identities name the same file. An unknown first-line hash on either side cannot
 * tell files apart, so only dev + inode decide then.
 */
export function isSameFile(a: FileIdentity, b: FileIdentity): boolean {
  if (a.dev !== b.dev || a.ino !== b.ino) return false;
  return a.firstLineHash === null || b.firstLineHash === null || a.firstLineHash === b.firstLineHash;
}
