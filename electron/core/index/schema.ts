/**
 * The SQLite index of one root (SPEC §6): where it lives, its schema, and how it is opened.
 *
 * The index is disposable: JSONL is the source of truth, so a missing, corrupt or outdated
 * index file is deleted and rebuilt rather than repaired.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { workspaceDir } from '../log/paths.js';

/** Bump when the schema or what is stored changes: an index of another version is rebuilt. */
export const SCHEMA_VERSION = 9;

export const INDEX_FILE_NAME = 'index.sqlite';

/** `<root>/.agent-workspace/index.sqlite`: one index per root, beside the tasks it covers. */
export function indexPath(root: string): string {
  return path.join(workspaceDir(root), INDEX_FILE_NAME);
}

/**
 * Tables:
 * - `roots`, `tasks`, `agents`: what the logs are about.
 * - `files`: one checkpoint per log file (live or rotated): its identity (dev, inode, a hash of
 *   its first line) and how far it has been indexed. Updated in the same transaction as the rows
 *   read from the file (RELIABILITY D3), so a crash never leaves rows without their checkpoint.
 * - `entries`: one row per log line. `id` is the entry's timestamp in microseconds, nudged
 *   forward when another entry already holds it, so that rowid order is time order: FTS5 can then
 *   return the newest hits first, and stop after the first page, without sorting every hit.
 * - `lines`: the screen lines (SPEC §12, electron/core/screen): what the terminal showed, one
 *   row per line a person could read, plus one per system entry. `n` numbers an agent's lines in
 *   the order they became final (what `tail` and `tail -f` follow). `seq` is the entry after which
 *   the line showed this text (a hit opens the replay there), `first_seq` the first entry that
 *   wrote into it; `file`/`offset`/`length` locate the entry `seq`. Ids are time-ordered like
 *   entries'. Search, levels, error counts and text views read these, never the raw entries.
 * - `lines_fts`: the lines' text, with a trigram index (detail=none: 40% smaller and 30% faster
 *   to fill than detail=full; substring search runs as `LIKE`, which FTS5 answers from the
 *   trigrams and then checks against the stored text). columnsize=0: nothing ranks hits by
 *   length (bm25), so the per-row size table would be written for nothing.
 * - `screen_states`: per agent, the screen-line maker's state after the last indexed entry, so
 *   the next pass (in any process) continues where this one stopped; `version` counts its saves
 *   (a process whose cached maker has another version reloads it); `settle_at` is when a line
 *   still on the screen would settle, for passes that find no new output; `attention` the
 *   agent's attention facts (SPEC §13) as JSON, saved with the state they were read from.
 * - `events`: the metadata of system entries (started, terminated, gaps...), for run summaries.
 * - `runs`: one row per run of an agent, rebuilt from `events` whenever they change.
 * - `agent_sightings`, `run_links`: where and when `claude` or `codex` ran (in a terminal run, or
 *   as an imported transcript), and which transcript run belongs to which terminal run
 *   (index/links.ts); rebuilt with `runs`.
 * - `timeline_seconds`: per agent, file and second of entry time, how many entries and terminal
 *   bytes (UTF-16 units, as the replay timeline counts them) were indexed, and the first and last
 *   entry time in it: a long run's replay timeline adds up these rows instead of reading the run
 *   (electron/core/index/timelineIndex.ts). Keyed by file, so removing a file's rows removes its
 *   seconds. `lines_marked` indexes the lines at level warn or above, the timeline's markers.
 * - `entry_counts`: how many entries of each type and level were ever indexed (`loupe serve`'s
 *   `loupe_entries_total`), added to in the same transaction as the rows, so any process that
 *   indexes the root counts, and a scrape reads 20 rows instead of counting every entry.
 */
const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE roots (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
CREATE TABLE tasks (id INTEGER PRIMARY KEY, root INTEGER NOT NULL, task_id TEXT NOT NULL, UNIQUE (root, task_id));
CREATE TABLE agents (id INTEGER PRIMARY KEY, task INTEGER NOT NULL, agent_id TEXT NOT NULL, UNIQUE (task, agent_id));
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  agent INTEGER NOT NULL,
  path TEXT NOT NULL,
  dev INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  gz INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  offset INTEGER NOT NULL,
  lines INTEGER NOT NULL,
  min_seq INTEGER,
  max_seq INTEGER,
  corrupt_lines INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX files_by_agent ON files (agent);
CREATE TABLE entries (
  id INTEGER PRIMARY KEY,
  agent INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  type INTEGER NOT NULL,
  level INTEGER NOT NULL,
  file INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  length INTEGER NOT NULL,
  UNIQUE (agent, seq)
);
CREATE TABLE lines (
  id INTEGER PRIMARY KEY,
  agent INTEGER NOT NULL,
  n INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  type INTEGER NOT NULL,
  level INTEGER NOT NULL,
  file INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  length INTEGER NOT NULL
);
CREATE INDEX lines_by_agent ON lines (agent, n);
CREATE VIRTUAL TABLE lines_fts USING fts5 (text, tokenize = 'trigram', detail = none, columnsize = 0);
CREATE TABLE screen_states (agent INTEGER PRIMARY KEY, seq INTEGER NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL, settle_at INTEGER, attention TEXT);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  agent INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  event TEXT,
  gap TEXT,
  metadata TEXT NOT NULL
);
CREATE INDEX events_by_agent ON events (agent, seq);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  agent INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER,
  start_ts INTEGER,
  end_ts INTEGER,
  terminated INTEGER NOT NULL,
  exit_status INTEGER,
  capture TEXT,
  command TEXT,
  cols INTEGER,
  rows INTEGER,
  gaps INTEGER NOT NULL,
  imported TEXT
);
CREATE INDEX runs_by_agent ON runs (agent, first_seq);
CREATE TABLE agent_sightings (
  agent INTEGER NOT NULL,
  run_seq INTEGER NOT NULL,
  transcript INTEGER NOT NULL,
  kind TEXT NOT NULL,
  cwd TEXT NOT NULL,
  ts INTEGER NOT NULL,
  run_start INTEGER NOT NULL,
  run_end INTEGER NOT NULL
);
CREATE INDEX agent_sightings_by_agent ON agent_sightings (agent, run_seq);
CREATE INDEX agent_sightings_by_place ON agent_sightings (kind, cwd, transcript, run_end);
CREATE TABLE run_links (
  terminal_agent INTEGER NOT NULL,
  terminal_seq INTEGER NOT NULL,
  transcript_agent INTEGER NOT NULL,
  transcript_seq INTEGER NOT NULL,
  PRIMARY KEY (transcript_agent, transcript_seq)
);
CREATE INDEX run_links_by_terminal ON run_links (terminal_agent, terminal_seq);
CREATE TABLE timeline_seconds (
  agent INTEGER NOT NULL,
  second INTEGER NOT NULL,
  file INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  PRIMARY KEY (agent, second, file)
) WITHOUT ROWID;
CREATE INDEX timeline_seconds_by_file ON timeline_seconds (file);
CREATE INDEX lines_marked ON lines (agent, seq) WHERE level >= 2;
CREATE TABLE entry_counts (type INTEGER NOT NULL, level INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (type, level)) WITHOUT ROWID;
`;

/** Entry types and levels are stored as small integers: their index in these lists. */
export { ENTRY_TYPES as TYPE_CODES, LEVELS as LEVEL_CODES } from '../../../shared/entry.js';

export type IndexDb = Database.Database;

/**
 * Opens a database file. Under Electron, better-sqlite3 must be built for Electron's ABI:
 * `npm start` builds that copy separately (so `npm test` keeps the Node build) and names it
 * in LOUPE_SQLITE_BINDING.
 */
function openDatabaseFile(file: string): IndexDb {
  const nativeBinding = process.env.LOUPE_SQLITE_BINDING;
  return nativeBinding ? new Database(file, { nativeBinding }) : new Database(file);
}

/**
 * Opens (creating or rebuilding as needed) the index database at `file`.
 * An unreadable or corrupt file, or one with another schema version, is deleted and recreated
 * empty; the indexer then fills it from the JSONL.
 */
export function openIndexDb(file: string): IndexDb {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const db = openExisting(file);
    if (db !== null) return db;
  } catch {
    // Corrupt or not a database: fall through and rebuild (RELIABILITY D4).
  }
  deleteIndexFiles(file);
  const db = openDatabaseFile(file);
  configure(db);
  db.transaction(() => {
    db.exec(SCHEMA);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
  })();
  return db;
}

/** The existing index if it is healthy and current; null when it has to be rebuilt. Throws on corruption. */
function openExisting(file: string): IndexDb | null {
  if (!fs.existsSync(file)) return null;
  const db = openDatabaseFile(file);
  try {
    configure(db);
    // Reading `meta` catches a file that is not a database or has a corrupt header. A full
    // integrity check would read the whole file on every CLI command; deeper corruption surfaces
    // as SQLITE_CORRUPT on use, and `loupe reindex` rebuilds.
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    if (row?.value !== String(SCHEMA_VERSION)) {
      db.close();
      return null;
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function configure(db: IndexDb): void {
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL keeps every commit atomic; a power cut may lose the last commits, which the
  // checkpoints then re-read from the JSONL.
  db.pragma('synchronous = NORMAL');
  db.pragma('temp_store = MEMORY');
  // Other processes (the daemon, the app, a CLI command) index the same root: wait for their commits.
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -65536');
}

/** Removes the index and its WAL files, so the next open rebuilds it. */
export function deleteIndexFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) fs.rmSync(f, { force: true });
}
