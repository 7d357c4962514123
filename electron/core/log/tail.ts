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
  /** Stop at this many bytes of JSONL (the newest entries that fit; at least one). Default: no limit. */
  maxBytes?: number;
}

export interface TailResult {
  /** The last N matching entries, oldest first. */
  entries: ReadEntry[];
  /** Where the live file's complete lines end: a follower resumes here. 0 when there is no live file. */
  end: number;
  /** Identity of the live file that was read, for a follower to check it is still the same. */
  identity: FileIdentity | null;
  /** True when older matching entries were left out to stay under `maxBytes`. */
  truncated: boolean;
}

/** What a tail still wants: entries, and bytes before `maxBytes`. */
interface Budget {
  entries: number;
  bytes: number;
  /** Entries taken so far (the first always fits, however long). */
  taken: number;
  truncated: boolean;
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
  const budget: Budget = { entries: n, bytes: options.maxBytes ?? Number.POSITIVE_INFINITY, taken: 0, truncated: false };
  if (file.endsWith('.gz')) {
    // A rotated, compressed file on its own: final, so there is nothing to follow after it.
    const entries = await tailGzipFile(file, budget, filter, onCorrupt);
    return { entries, end: 0, identity: null, truncated: budget.truncated };
  }
  const newestFirst: ReadEntry[][] = [];

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
      newestFirst.push(tailPlainFile(fd, file, end, budget, filter, onCorrupt));
    } finally {
      fs.closeSync(fd);
    }
  }

  if (budget.entries > 0 && !budget.truncated && options.includeRotated !== false) {
    for (const rotated of rotatedFiles(file).reverse()) {
      newestFirst.push(
        rotated.endsWith('.gz') ? await tailGzipFile(rotated, budget, filter, onCorrupt) : tailPlainRotated(rotated, budget, filter, onCorrupt),
      );
      if (budget.entries === 0 || budget.truncated) break;
    }
  }
  return { entries: newestFirst.reverse().flat(), end, identity, truncated: budget.truncated };
}

/** Takes one entry of `bytes` from the budget; false (and truncated) when it does not fit. */
function take(budget: Budget, bytes: number): boolean {
  if (budget.taken > 0 && bytes > budget.bytes) {
    budget.truncated = true;
    return false;
  }
  budget.entries--;
  budget.bytes -= bytes;
  budget.taken++;
  return true;
}

function tailPlainRotated(
  file: string,
  budget: Budget,
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
    return tailPlainFile(fd, file, size, budget, filter, onCorrupt);
  } finally {
    fs.closeSync(fd);
  }
}

/** The last matching entries of an open plain file that fit the budget, oldest first, read backwards from `end`. */
function tailPlainFile(
  fd: number,
  file: string,
  end: number,
  budget: Budget,
  filter: EntryFilter,
  onCorrupt: (c: CorruptLine) => void,
): ReadEntry[] {
  const out: ReadEntry[] = [];
  if (budget.entries === 0) return out;
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
    if (!take(budget, line.length)) break;
    out.push({ entry: parsed.entry, file, offset: line.offset, length: line.length, line: line.text, lineNumber: null });
    if (budget.entries === 0) break;
  }
  return out.reverse();
}

/** A gzip stream cannot be read backwards: read it forwards, keeping the last matches that fit the budget. */
async function tailGzipFile(
  file: string,
  budget: Budget,
  filter: EntryFilter,
  onCorrupt: (c: CorruptLine) => void,
): Promise<ReadEntry[]> {
  const want = budget.entries;
  if (want === 0) return [];
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
  const last = ring.length < want ? ring : [...ring.slice(next), ...ring.slice(0, next)];
  let from = last.length;
  while (from > 0 && take(budget, last[from - 1].length)) from--;
  return last.slice(from);
}
