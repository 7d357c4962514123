/**
 * Reading a JSONL file backwards from its end, one complete line at a time, without scanning
 * the whole file. The writer uses it to find the last sequence; `tail -n` uses it for the last N.
 */
import fs from 'node:fs';

/** Big enough that a typical `tail -n 100` is one read; lines longer than this are stitched. */
const BACKWARD_CHUNK_BYTES = 256 * 1024;

export interface BackwardLine {
  /** The line's text, without its newline. */
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte length, without the newline. */
  length: number;
}

/**
 * Yields the complete (newline-terminated) lines of `fd` that end at or before `end`, last first.
 * Bytes after the last newline (a torn tail) are not yielded; `completeEnd` reports where they start.
 */
export function* linesBackward(fd: number, end: number): Generator<BackwardLine, void, undefined> {
  let pos = end;
  // Bytes of a line that spans chunks, in reverse chunk order; its end offset is `lineEnd`.
  let pieces: Buffer[] = [];
  let lineEnd = -1; // offset of the newline that terminates the line in progress; -1 until the first newline
  const buf = Buffer.allocUnsafe(BACKWARD_CHUNK_BYTES);
  while (pos > 0) {
    const size = Math.min(BACKWARD_CHUNK_BYTES, pos);
    pos -= size;
    const read = fs.readSync(fd, buf, 0, size, pos);
    let stop = read; // exclusive end of the not-yet-consumed region of this chunk
    // lastIndexOf is a native memrchr: much faster than a byte loop in JS.
    for (let i = read > 0 ? buf.lastIndexOf(0x0a, read - 1) : -1; i >= 0; i = i > 0 ? buf.lastIndexOf(0x0a, i - 1) : -1) {
      if (lineEnd >= 0) {
        const offset = pos + i + 1;
        if (pieces.length === 0) {
          // The whole line is in this chunk: decode it in place, no copy.
          yield { text: buf.toString('utf8', i + 1, stop), offset, length: lineEnd - offset };
        } else {
          pieces.push(Buffer.from(buf.subarray(i + 1, stop)));
          yield makeLine(pieces, offset, lineEnd);
        }
      }
      pieces = [];
      lineEnd = pos + i;
      stop = i;
    }
    if (lineEnd >= 0 && stop > 0) pieces.push(Buffer.from(buf.subarray(0, stop)));
  }
  if (lineEnd >= 0) yield makeLine(pieces, 0, lineEnd);
}

function makeLine(reversedPieces: Buffer[], offset: number, lineEnd: number): BackwardLine {
  const bytes = reversedPieces.length === 1 ? reversedPieces[0] : Buffer.concat(reversedPieces.reverse());
  return { text: bytes.toString('utf8'), offset, length: lineEnd - offset };
}

/** The offset just past the last newline at or before `end`: where a torn tail starts. 0 when there is none. */
export function completeEnd(fd: number, end: number): number {
  const buf = Buffer.allocUnsafe(64 * 1024);
  let pos = end;
  while (pos > 0) {
    const size = Math.min(buf.length, pos);
    pos -= size;
    const read = fs.readSync(fd, buf, 0, size, pos);
    const i = buf.subarray(0, read).lastIndexOf(0x0a);
    if (i >= 0) return pos + i + 1;
  }
  return 0;
}
