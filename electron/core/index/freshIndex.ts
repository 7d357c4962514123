/**
 * A root's index, brought up to date before it is read (`loupe search`, `stats`, `tail`). Most
 * reads find it current already, and telling so needs only a stat of each log file and the
 * checkpoints; the indexer (screen lines, classification, attention: most of a command's start-up)
 * is loaded only when there is something to index.
 */
import path from 'node:path';
import { listAgentLogs, rotatedFiles } from '../log/paths.js';
import { isUnchanged, statLogFile, type SeenFile } from './fileIdentity.js';
import { indexPath, openIndexDb, type IndexDb } from './schema.js';
import type { Indexer, IndexStats } from './indexer.js';

/**
 * Screen lines still on a screen settle once output has been quiet this long: an entry is stamped
 * when capture reads it and lands in the log soon after, so output older than this is on disk, and
 * settling then makes the same lines a rebuild would make at the next entry.
 */
export const SETTLE_MARGIN_US = 3_000_000;

/**
 * Whether indexing `root` now would change nothing: every log file matches a checkpoint, unchanged
 * since it was read to its end, every checkpoint has its file, and no screen is due to settle.
 * Errs towards "not current" (e.g. a new file with no complete line yet), which only costs loading
 * the indexer.
 */
export function indexIsCurrent(db: IndexDb, root: string, now = Date.now() * 1000): boolean {
  const unclaimed = db.prepare('SELECT dev, ino, gz, size, mtime_ms FROM files').all() as SeenFile[];
  for (const log of listAgentLogs(root)) {
    for (const file of [...rotatedFiles(log.file), log.file]) {
      const disk = statLogFile(file);
      if (disk === null) continue;
      const i = unclaimed.findIndex((seen) => isUnchanged(seen, disk));
      if (i < 0) return false;
      unclaimed.splice(i, 1);
    }
  }
  if (unclaimed.length > 0) return false;
  return db.prepare('SELECT 1 FROM screen_states WHERE settle_at IS NOT NULL AND settle_at <= ? LIMIT 1').get(now - SETTLE_MARGIN_US) === undefined;
}

/** An index to read from, that loads the indexer the first time it has something to index. */
export class FreshIndex {
  readonly root: string;
  private reader: IndexDb | null;
  private indexer: Indexer | null = null;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.reader = openIndexDb(indexPath(this.root));
  }

  get db(): IndexDb {
    return this.indexer?.db ?? this.reader!;
  }

  /** Indexes whatever is pending (null: nothing was). */
  async indexPending(): Promise<IndexStats | null> {
    if (this.indexer === null) {
      if (this.reader === null || indexIsCurrent(this.reader, this.root)) return null;
      const { Indexer } = await import('./indexer.js');
      if (this.reader === null) return null; // disposed meanwhile
      this.reader.close();
      this.reader = null;
      this.indexer = new Indexer(this.root);
    }
    return this.indexer.indexPending();
  }

  dispose(): void {
    this.reader?.close();
    this.reader = null;
    this.indexer?.dispose();
  }
}
