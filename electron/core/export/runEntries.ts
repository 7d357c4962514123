/**
 * Reading every entry of an agent's run, oldest first: its rotated files (plain or `.gz`), then
 * the live file. Corrupt lines are skipped and reported, never fatal (RELIABILITY D8).
 */
import { rotatedFiles } from '../log/paths.js';
import { LogReader, type CorruptLine, type ReadEntry } from '../log/reader.js';

/** The entries (with their stored lines) of the run whose live log is `file`, in batches, rotated files first. */
export async function* readRunEntries(
  file: string,
  onCorrupt: (corrupt: CorruptLine) => void = () => {},
): AsyncGenerator<ReadEntry[], void, undefined> {
  for (const part of [...rotatedFiles(file), file]) {
    yield* new LogReader(part, { onCorrupt }).batches();
  }
}
