/**
 * `tail -n N` over an agent's log (SPEC §5): read backwards from the end of the live file, and for
 * a filtered tail keep reading back, through the rotated files (newest first), until N entries
 * match or the oldest file is exhausted. Never scans more than it needs.
 */
import fs from 'node:fs';
import { parseEntryLine } from '../../../shared/entry.js';
import { completeEnd, linesBackward } from './backwards.js';
import { identifyFile, type FileIdentity } from './fileIdentity.js';
import { isEmptyFilter, matchesFilter, type EntryFilter } from './filter.js';
import { rotatedFiles } from './paths.js';
import { LogReader, type CorruptLine, type ReadEntry } from './reader.js';

/** Preview length of a corrupt line in its report. */
const CORRUPT_PREVIEW_CHARS = 120;

export interface TailOptions {
  /** How many entries to return (the last N that pass the filter). */
  n: number;
  filter?: EntryFilter;
  /** Also read rotated files when the live one has fewer than N matches (default true). */
  includeRotated?: boolean;
  /** Called for each corrupt line met on the way (they are skipped). */
  onCorrupt?: (corrupt: CorruptLine) => void;
}

export interface TailResult {
  /** The last N matching entries, oldest first. */
  entries: ReadEntry[];
  /** Where the live file's complete lines end: a follower resumes here. 0 when there is no live file. */
  end: number;
  /** Identity of the live file that was read, for a follower to check it is still the same. */
  identity: FileIdentity | null;
}

/**
 * The last `n` entries of `file` and its rotated siblings that pass `filter`, oldest first.
 * A missing live file is read as empty (its rotated files may still hold entries). A `.gz` file is
 * read on its own.
 */
export async function tailEntries(file: string, options: TailOptions): Promise<TailResult> {
  const n = Math.max(0, Math.floor(options.n));
  const filter = options.filter ?? {};
  const onCorrupt = options.onCorrupt ?? (() => {});
  if (file.endsWith('.gz')) {
    // A rotated, compressed file on its own: final, so there is nothing to follow after it.
    return { entries: await tailGzipFile(file, n, filter, onCorrupt), end: 0, identity: null };
  }
  const newestFirst: ReadEntry[][] = [];
  let found = 0;

  let end = 0;
  let identity: FileIdentity | null = null;
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (fd !== null) {
    try {
      const stat = fs.fstatSync(fd);
      identity = identifyFile(fd, stat);
      end = completeEnd(fd, stat.size);
      const got = tailPlainFile(fd, file, end, n, filter, onCorrupt);
      newestFirst.push(got);
      found += got.length;
    } finally {
      fs.closeSync(fd);
    }
  }

  if (found < n && options.includeRotated !== false) {
    for (const rotated of rotatedFiles(file).reverse()) {
      const got = rotated.endsWith('.gz')
        ? await tailGzipFile(rotated, n - found, filter, onCorrupt)
        : tailPlainRotated(rotated, n - found, filter, onCorrupt);
      newestFirst.push(got);
      found += got.length;
      if (found >= n) break;
    }
  }
  return { entries: newestFirst.reverse().flat(), end, identity };
}

function tailPlainRotated(
  file: string,
  want: number,
  filter: EntryFilter,
  onCorrupt: (c: CorruptLine) => void,
): ReadEntry[] {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return []; // gzipped and removed in the meantime; the .gz is found on the next tail
  }
  try {
    const size = fs.fstatSync(fd).size;
    return tailPlainFile(fd, file, size, want, filter, onCorrupt);
  } finally {
    fs.closeSync(fd);
  }
}

/** The last `want` matching entries of an open plain file, oldest first, read backwards from `end`. */
function tailPlainFile(
  fd: number,
  file: string,
  end: number,
  want: number,
  filter: EntryFilter,
  onCorrupt: (c: CorruptLine) => void,
): ReadEntry[] {
  const out: ReadEntry[] = [];
  if (want === 0) return out;
  const unfiltered = isEmptyFilter(filter);
  for (const line of linesBackward(fd, end)) {
    if (line.length === 0) continue;
    const parsed = parseEntryLine(line.text);
    if (!parsed.ok) {
      if (line.text.trim() !== '') {
        onCorrupt({
          file,
          lineNumber: null,
          offset: line.offset,
          error: parsed.error,
          preview: line.text.slice(0, CORRUPT_PREVIEW_CHARS),
        });
      }
      continue;
    }
    if (!unfiltered && !matchesFilter(parsed.entry, filter)) continue;
    out.push({ entry: parsed.entry, file, offset: line.offset, length: line.length, line: line.text, lineNumber: null });
    if (out.length >= want) break;
  }
  return out.reverse();
}

/** A gzip stream cannot be read backwards: read it forwards, keeping the last `want` matches. */
async function tailGzipFile(
  file: string,
  want: number,
  filter: EntryFilter,
  onCorrupt: (c: CorruptLine) => void,
): Promise<ReadEntry[]> {
  const ring: ReadEntry[] = [];
  let next = 0;
  const unfiltered = isEmptyFilter(filter);
  try {
    for await (const batch of new LogReader(file, { onCorrupt }).batches()) {
      for (const e of batch) {
        if (!unfiltered && !matchesFilter(e.entry, filter)) continue;
        if (ring.length < want) ring.push(e);
        else ring[next] = e;
        next = (next + 1) % want;
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return [];
  }
  return ring.length < want ? ring : [...ring.slice(next), ...ring.slice(0, next)];
}
