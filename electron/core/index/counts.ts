/**
 * What a root's index holds and how far it is behind its logs, read cheaply enough for a
 * Prometheus scrape every few seconds (`loupe serve`'s `/metrics`): 20 rows of counts and one
 * `stat` per agent log, never a pass over the entries.
 */
import fs from 'node:fs';
import { ENTRY_TYPES, LEVELS, type EntryType, type Level } from '../../../shared/entry.js';
import { listAgentLogs } from '../log/paths.js';
import type { IndexDb } from './schema.js';

export interface EntryCount {
  type: EntryType;
  level: Level;
  /** Entries of this type and level ever indexed in this index (a counter: it restarts when the index is rebuilt). */
  count: number;
}

/** Entries indexed, by type and level. */
export function entryCounts(db: IndexDb): EntryCount[] {
  const rows = db.prepare('SELECT type, level, n FROM entry_counts').all() as { type: number; level: number; n: number }[];
  return rows.map((r) => ({ type: ENTRY_TYPES[r.type], level: LEVELS[r.level], count: r.n }));
}

/**
 * Bytes of the root's live logs not indexed yet: each log's size past its checkpoint (all of it
 * for a log the index has not seen). Rotated files are left out: they are indexed before they rotate
 * away, or counted in full the moment their live file was.
 */
export function unindexedBytes(db: IndexDb, root: string): number {
  const offsets = new Map(
    (db.prepare('SELECT path, offset FROM files WHERE gz = 0').all() as { path: string; offset: number }[]).map((r) => [r.path, r.offset]),
  );
  let behind = 0;
  for (const log of listAgentLogs(root)) {
    let size: number;
    try {
      size = fs.statSync(log.file).size;
    } catch {
      continue; // removed since it was listed
    }
    behind += Math.max(0, size - (offsets.get(log.file) ?? 0));
  }
  return behind;
}
