/**
 * Reading every entry of an agent's run, oldest first: its rotated files (plain or `.gz`), then
 * the live file. Corrupt lines are skipped and reported, never fatal (RELIABILITY D8).
 */
import type { LogEntry } from '../../../shared/entry.js';
import { rotatedFiles } from '../log/paths.js';
import { LogReader, type CorruptLine } from '../log/reader.js';

/** The entries of the run whose live log is `file`, in batches, rotated files first. */
export async function* readRunEntries(
  file: string,
  onCorrupt: (corrupt: CorruptLine) => void = () => {},
): AsyncGenerator<LogEntry[], void, undefined> {
  for (const part of [...rotatedFiles(file), file]) {
    for await (const batch of new LogReader(part, { onCorrupt }).batches()) {
      yield batch.map((read) => read.entry);
    }
  }
}
