/**
 * A run's log as replay reads it: the rotated files (oldest first) and then the live file, read
 * forwards from any position. A position is a file (by name, so it survives a move of the root)
 * and the byte offset of a line in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseTimestamp, type LogEntry } from '../../../shared/entry.js';
import { LogReader } from '../log/reader.js';
import { rotatedFiles, type AgentLog } from '../log/paths.js';

/** Where the next entry to read starts. */
export interface RunPosition {
  /** Base name of the file (`<agent>_stream.jsonl`, or a rotated `….jsonl.<stamp>[.gz]`). */
  file: string;
  /** Byte offset of the line (decompressed bytes for `.gz`). */
  offset: number;
}

/** An entry with its time in microseconds and where the entry after it starts. */
export interface RunEntry {
  entry: LogEntry;
  /** Microseconds since the epoch (NaN never: entries with bad stamps are rejected by the reader). */
  time: number;
  next: RunPosition;
}

/** The files of a run, oldest first: rotated siblings, then the live file. */
export function runFiles(log: AgentLog): string[] {
  const files = rotatedFiles(log.file);
  if (fs.existsSync(log.file)) files.push(log.file);
  return files;
}

/** The position of a run's first entry. */
export function runStart(log: AgentLog): RunPosition {
  const first = runFiles(log)[0] ?? log.file;
  return { file: path.basename(first), offset: 0 };
}

/**
 * Reads a run's entries from `from`, in batches (one per chunk read, of `chunkBytes`: see
 * ReadLogOptions), across rotated files. Corrupt lines are skipped (the reader reports them;
 * replay shows what can be shown). Returns nothing when `from` names a file that no longer exists.
 */
export async function* readRunEntries(log: AgentLog, from: RunPosition, chunkBytes?: number): AsyncGenerator<RunEntry[], void, undefined> {
  const files = runFiles(log);
  const start = files.findIndex((f) => path.basename(f) === from.file);
  if (start < 0) return;
  for (let i = start; i < files.length; i++) {
    const file = files[i];
    const name = path.basename(file);
    const reader = new LogReader(file, { offset: i === start ? from.offset : 0, onCorrupt: () => {}, chunkBytes });
    for await (const batch of reader.batches()) {
      const out: RunEntry[] = new Array(batch.length);
      for (let j = 0; j < batch.length; j++) {
        const r = batch[j];
        out[j] = { entry: r.entry, time: parseTimestamp(r.entry.timestamp), next: { file: name, offset: r.offset + r.length + 1 } };
      }
      yield out;
    }
  }
}
