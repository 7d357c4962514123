/**
 * Incremental indexing of a root's JSONL logs into its SQLite index (SPEC §6, RELIABILITY D3, D6).
 *
 * - Every log file (live or rotated, plain or gzipped) has a checkpoint: its identity and the
 *   byte offset up to which it is indexed. Rows and checkpoint are committed in one transaction,
 *   so a crash between reading and committing leaves neither, and the next run re-reads exactly
 *   what was not committed. `UNIQUE(agent, seq)` makes a second read of the same line a no-op.
 * - Only complete lines are indexed: the offset never moves past a torn tail.
 * - A file is recognised by dev + inode + a hash of its first line, so a renamed, rotated or
 *   gzipped file continues from its checkpoint instead of being indexed again. A file smaller than
 *   its offset was truncated; a checkpoint whose file is gone has its rows removed, because the
 *   JSONL is the source of truth.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  ENTRY_TYPES,
  LEVELS,
  entryLevel,
  entryTerminalText,
  parseTimestamp,
  validateEntry,
  type LogEntry,
} from '../../../shared/entry.js';
import { listAgentLogs, rotatedFiles, workspaceDir, type AgentLog } from '../log/paths.js';
import { headHash, isUnchanged, readGzipped, statLogFile, type DiskFile } from './fileIdentity.js';
import { SETTLE_MARGIN_US } from './freshIndex.js';
import { refreshRuns } from './runs.js';
import { deleteIndexFiles, indexPath, openIndexDb, type IndexDb } from './schema.js';
import { compileClassifier, loadClassifierFactory, type ClassifierFactory } from '../capture/classify.js';
import type { CompiledPromptRule } from '../attention/attention.js';
import { promptRulesFor } from '../attention/rules.js';
import { AgentLines, prepareLineStatements, type LineStatements, type NewErrorLine } from './lineIndex.js';

/** Bytes of JSONL read and committed per transaction: big enough to amortise the commit, small enough to stay responsive. */
const BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Entries of one file that share a timestamp (one read split into many lines) get consecutive ids;
 * an entry whose timestamp is this far behind the previous one keeps its own time instead.
 */
const NUDGE_WINDOW_US = 1_000_000;
/**
 * A pass that indexed at least this much, and at least half of everything indexed (a first or
 * rebuilding pass), merges the FTS segments into one afterwards. Bulk indexing leaves dozens of
 * segments, and a newest-first query walks each of them backwards: on 1 M entries merging made a
 * two-literal regex's candidate query 8x faster, for about a tenth of the indexing CPU time.
 * Later passes add little and leave merging to FTS5's automerge.
 */
const MERGE_AFTER_BYTES = 32 * 1024 * 1024;
/** Corrupt lines reported per indexing pass; the rest are only counted. */
const MAX_REPORTED_CORRUPT_LINES = 100;
/** How often `watch()` looks for changes when file-system events are missed. */
const DEFAULT_POLL_MS = 1000;
/** File-system events arrive in bursts; one indexing pass per burst. */
const WATCH_DEBOUNCE_MS = 30;

export interface CorruptLine {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  error: string;
}

/** What one indexing pass did. */
export interface IndexStats {
  /** Files that had new lines. */
  files: number;
  entries: number;
  bytes: number;
  corruptLines: CorruptLine[];
  corruptLineCount: number;
  truncatedFiles: number;
  removedFiles: number;
  elapsedMs: number;
  /** Error and fatal screen lines this pass made final, per agent (the backend's live error notices). */
  errorLines: AgentErrorLine[];
  /** The agents whose logs had new or rewritten output in this pass (their keyframes are due). */
  changedAgents: AgentLog[];
}

/** An error line that became final, and whose it is. */
export interface AgentErrorLine extends NewErrorLine {
  taskId: string;
  agentId: string;
}

export interface IndexProgress {
  file: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface IndexerOptions {
  /** The index file; defaults to `<root>/.agent-workspace/index.sqlite`. */
  dbFile?: string;
  /** Called after each committed batch, e.g. for `loupe reindex`'s progress line. */
  onProgress?: (progress: IndexProgress) => void;
  /** JSONL bytes per transaction (default 4 MiB); tests use small batches to crash between them. */
  batchBytes?: number;
  /** A pass that indexes this much (default 32 MiB), and half of all indexed, merges the FTS segments. */
  mergeAfterBytes?: number;
  /**
   * false: one line per entry (its ANSI-stripped text) instead of screen lines. Only for the
   * index bench, which measures what screen lines cost against it.
   */
  screenLines?: boolean;
}

interface Checkpoint {
  id: number;
  agent: number;
  path: string;
  dev: number;
  ino: number;
  gz: number;
  head_hash: string;
  size: number;
  mtime_ms: number;
  offset: number;
  lines: number;
  min_seq: number | null;
  max_seq: number | null;
  corrupt_lines: number;
}

interface FileWork {
  disk: DiskFile;
  head: string;
  checkpoint: Checkpoint | null;
}

interface ParsedRow {
  entry: LogEntry;
  ts: number;
  offset: number;
  length: number;
}

/**
 * Keeps one root's index up to date with its logs. Embed it in the daemon or the app; call
 * `dispose()` when done. Write transactions start with BEGIN IMMEDIATE: several processes index
 * one root (the app, a CLI command, a rebuild), and a deferred transaction that reads before it
 * writes fails at once (SQLITE_BUSY, without waiting) when another process committed meanwhile.
 */
export class Indexer {
  readonly root: string;
  readonly db: IndexDb;
  private readonly onProgress: (progress: IndexProgress) => void;
  private readonly batchBytes: number;
  private readonly mergeAfterBytes: number;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private rootRow: number;
  private readonly agentRows = new Map<string, number>();
  /** The task and agent ids of each agent row this process has seen. */
  private readonly agentNames = new Map<number, { taskId: string; agentId: string }>();
  private readonly lineStatements: LineStatements;
  /** Screen-line makers of the agents indexed by this process, by agent row. */
  private readonly agentLines = new Map<number, AgentLines>();
  private classifiers: ClassifierFactory | null = null;
  private prompts: CompiledPromptRule[] | null = null;
  private readonly screenLines: boolean;
  private watcher: fs.FSWatcher | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private disposed = false;

  constructor(root: string, options: IndexerOptions = {}) {
    this.root = path.resolve(root);
    this.db = openIndexDb(options.dbFile ?? indexPath(this.root));
    this.onProgress = options.onProgress ?? (() => {});
    this.batchBytes = options.batchBytes ?? BATCH_BYTES;
    this.mergeAfterBytes = options.mergeAfterBytes ?? MERGE_AFTER_BYTES;
    this.statements = prepareStatements(this.db);
    this.lineStatements = prepareLineStatements(this.db);
    this.screenLines = options.screenLines ?? true;
    this.db.prepare('INSERT OR IGNORE INTO roots (path) VALUES (?)').run(this.root);
    this.rootRow = (this.db.prepare('SELECT id FROM roots WHERE path = ?').get(this.root) as { id: number }).id;
  }

  /** Indexes every complete line not indexed yet, and drops the rows of files that are gone. */
  indexPending(): IndexStats {
    const started = performance.now();
    const stats: IndexStats = {
      files: 0,
      entries: 0,
      bytes: 0,
      corruptLines: [],
      corruptLineCount: 0,
      truncatedFiles: 0,
      removedFiles: 0,
      elapsedMs: 0,
      errorLines: [],
      changedAgents: [],
    };
    const seen = new Set<number>();
    for (const log of listAgentLogs(this.root)) {
      const agent = this.agentRow(log);
      seen.add(agent);
      this.indexAgent(log, agent, stats);
    }
    // Agents whose folder or live file disappeared: their rows go too.
    for (const cp of this.statements.allCheckpoints.all() as Checkpoint[]) {
      if (!seen.has(cp.agent)) {
        this.removeCheckpoint(cp);
        stats.removedFiles++;
      }
    }
    this.settleQuietScreens();
    this.takeErrorLines(stats);
    if (stats.bytes >= this.mergeAfterBytes && stats.bytes * 2 >= this.indexedBytes()) this.mergeSegments();
    stats.elapsedMs = performance.now() - started;
    return stats;
  }

  /** JSONL bytes the index covers, over every file. */
  private indexedBytes(): number {
    return (this.db.prepare('SELECT coalesce(sum(offset), 0) AS n FROM files').get() as { n: number }).n;
  }

  /** Rewrites the FTS index as one segment (FTS5 'optimize'). Readers carry on meanwhile (WAL); other writers wait. */
  private mergeSegments(): void {
    this.db.prepare("INSERT INTO lines_fts (lines_fts) VALUES ('optimize')").run();
  }

  /** Lines still on a screen that has been quiet for SETTLE_MARGIN_US become screen lines (SPEC §12: output idle). */
  private settleQuietScreens(now = Date.now() * 1000): void {
    const quietUntil = now - SETTLE_MARGIN_US;
    for (const agent of this.lineStatements.settling.pluck().all(quietUntil) as number[]) {
      this.db.transaction(() => {
        const lines = this.linesOf(agent);
        lines.settle(quietUntil);
        lines.save();
      }).immediate();
    }
  }

  private takeErrorLines(stats: IndexStats): void {
    for (const [agent, lines] of this.agentLines) {
      const owner = this.agentNames.get(agent);
      if (owner === undefined) continue;
      for (const line of lines.takeErrorLines()) stats.errorLines.push({ ...owner, ...line });
    }
  }

  /** The agent's screen-line index, continuing from where the index says it is. */
  private linesOf(agent: number): AgentLines {
    const lines = AgentLines.open(
      this.lineStatements,
      agent,
      () => this.classifierFactory()(),
      () => (this.prompts ??= promptRulesFor(this.root)),
      this.agentLines.get(agent),
      this.screenLines,
    );
    this.agentLines.set(agent, lines);
    return lines;
  }

  /** Screen lines are classified with the root's rules, like captured lines (a bad config: the defaults). */
  private classifierFactory(): ClassifierFactory {
    if (this.classifiers === null) {
      try {
        this.classifiers = loadClassifierFactory(this.root);
      } catch {
        this.classifiers = compileClassifier();
      }
    }
    return this.classifiers;
  }

  /** Forgets an agent's screen state: its lines are made again from its next indexed entry on. */
  private dropScreen(agent: number): void {
    this.lineStatements.dropState.run(agent);
    this.agentLines.get(agent)?.dispose();
    this.agentLines.delete(agent);
  }

  /**
   * Indexes continuously: on file-system events under the workspace, and every `pollMs` in case
   * events are missed (network file systems, editors that replace files). `onIndexed` hears about
   * passes that changed something or settled an error line; errors go to `onError` and the next pass tries again.
   */
  watch(options: { pollMs?: number; onIndexed?: (stats: IndexStats) => void; onError?: (err: Error) => void } = {}): void {
    if (this.disposed || this.pollTimer !== null) return;
    const pass = () => {
      this.debounceTimer = null;
      if (this.disposed) return;
      try {
        const stats = this.indexPending();
        const changed = stats.entries > 0 || stats.removedFiles > 0 || stats.truncatedFiles > 0;
        if (changed || stats.errorLines.length > 0) options.onIndexed?.(stats);
      } catch (err) {
        options.onError?.(err as Error);
      }
    };
    const schedule = () => {
      if (this.debounceTimer === null && !this.disposed) this.debounceTimer = setTimeout(pass, WATCH_DEBOUNCE_MS);
    };
    try {
      fs.mkdirSync(workspaceDir(this.root), { recursive: true });
      this.watcher = fs.watch(workspaceDir(this.root), { recursive: true }, (_event, name) => {
        // Our own index files change on every commit; reacting to them would loop.
        if (typeof name === 'string' && name.startsWith('index.sqlite')) return;
        schedule();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null; // polling carries on
      });
    } catch {
      this.watcher = null; // no recursive watch here: polling alone
    }
    this.pollTimer = setInterval(schedule, options.pollMs ?? DEFAULT_POLL_MS);
    schedule();
  }

  /** Stops watching and closes the database. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.watcher?.close();
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    if (this.debounceTimer !== null) clearTimeout(this.debounceTimer);
    for (const lines of this.agentLines.values()) lines.dispose();
    this.agentLines.clear();
    this.db.close();
  }

  private agentRow(log: AgentLog): number {
    const key = `${log.taskId}/${log.agentId}`;
    const cached = this.agentRows.get(key);
    if (cached !== undefined) return cached;
    const s = this.statements;
    s.insertTask.run(this.rootRow, log.taskId);
    const task = (s.taskId.get(this.rootRow, log.taskId) as { id: number }).id;
    s.insertAgent.run(task, log.agentId);
    const agent = (s.agentId.get(task, log.agentId) as { id: number }).id;
    this.agentRows.set(key, agent);
    this.agentNames.set(agent, { taskId: log.taskId, agentId: log.agentId });
    return agent;
  }

  private indexAgent(log: AgentLog, agent: number, stats: IndexStats): void {
    let plan = this.planAgent(log, agent);
    // A rotation between listing and stat can hide a file for a moment: look again before
    // concluding that a file is gone and dropping its rows.
    if (plan.gone.length > 0) plan = this.planAgent(log, agent);
    for (const cp of plan.gone) {
      this.removeCheckpoint(cp);
      stats.removedFiles++;
    }
    let eventsChanged = plan.gone.length > 0;
    const before = { entries: stats.entries, truncated: stats.truncatedFiles };
    for (const work of plan.work) {
      if (this.indexFile(agent, work, stats)) eventsChanged = true;
    }
    if (stats.entries > before.entries || stats.truncatedFiles > before.truncated) stats.changedAgents.push(log);
    if (eventsChanged) this.db.transaction(() => refreshRuns(this.db, agent)).immediate();
  }

  /** Matches the files on disk with the agent's checkpoints: what to read, and which checkpoints lost their file. */
  private planAgent(log: AgentLog, agent: number): { work: FileWork[]; gone: Checkpoint[] } {
    const disk = [...rotatedFiles(log.file), log.file].map(statLogFile).filter((d): d is DiskFile => d !== null);
    const checkpoints = this.statements.checkpointsOf.all(agent) as Checkpoint[];
    const claimed = new Set<number>();
    const changed: DiskFile[] = [];
    for (const d of disk) {
      const same = checkpoints.find((c) => !claimed.has(c.id) && isUnchanged(c, d));
      if (same !== undefined) claimed.add(same.id);
      else changed.push(d);
    }
    // Files that kept their inode first, so a rotated file still on disk wins over its gzipped copy.
    const keptInode = (d: DiskFile) => checkpoints.some((c) => c.dev === d.dev && c.ino === d.ino);
    changed.sort((a, b) => Number(keptInode(b)) - Number(keptInode(a)));
    const work: FileWork[] = [];
    for (const d of changed) {
      const head = headHash(d);
      if (head === null) continue; // no complete line yet
      const free = checkpoints.filter((c) => !claimed.has(c.id) && c.head_hash === head);
      const cp = free.find((c) => c.dev === d.dev && c.ino === d.ino) ?? free[0] ?? null;
      if (cp === null && checkpoints.some((c) => c.head_hash === head)) continue; // a copy of a file already tracked (plain + .gz during compression)
      if (cp !== null) claimed.add(cp.id);
      work.push({ disk: d, head, checkpoint: cp });
    }
    const order = new Map(disk.map((d, i) => [d.path, i]));
    work.sort((a, b) => order.get(a.disk.path)! - order.get(b.disk.path)!);
    return { work, gone: checkpoints.filter((c) => !claimed.has(c.id)) };
  }

  /** Reads a file from its checkpoint to its last complete line. Returns whether system events were indexed. */
  private indexFile(agent: number, work: FileWork, stats: IndexStats): boolean {
    const s = this.statements;
    const { disk } = work;
    let cp = work.checkpoint;
    let content: Buffer | null = null; // the whole decompressed file, for .gz
    let fd: number | null = null;
    let eventsSeen = false;
    try {
      let size: number;
      if (disk.gz) {
        content = readGzipped(disk.path);
        size = content.length;
      } else {
        fd = fs.openSync(disk.path, 'r');
        size = fs.fstatSync(fd).size;
      }
      if (cp === null) {
        const id = Number(
          s.insertCheckpoint.run(agent, disk.path, disk.dev, disk.ino, Number(disk.gz), work.head, disk.mtimeMs).lastInsertRowid,
        );
        cp = s.checkpointById.get(id) as Checkpoint;
      } else if (size < cp.offset) {
        // Truncated (copytruncate, or rewritten with the same first line): start over.
        this.db.transaction(() => {
          this.removeRows(cp!);
          s.resetCheckpoint.run(cp!.id);
          this.dropScreen(agent);
        }).immediate();
        cp = s.checkpointById.get(cp.id) as Checkpoint;
        stats.truncatedFiles++;
        eventsSeen = true;
      }
      s.moveCheckpoint.run(disk.path, disk.dev, disk.ino, Number(disk.gz), cp.id);
      let counted = false;

      let offset = cp.offset;
      let lines = cp.lines;
      let want = this.batchBytes;
      let buf = content === null ? Buffer.allocUnsafe(want) : null;
      let interrupted = false;
      while (offset < size) {
        let chunk: Buffer;
        if (content !== null) {
          chunk = content.subarray(offset, Math.min(size, offset + want));
        } else {
          if (buf!.length < want) buf = Buffer.allocUnsafe(want);
          chunk = buf!.subarray(0, fs.readSync(fd!, buf!, 0, Math.min(want, size - offset), offset));
        }
        const end = chunk.lastIndexOf(0x0a) + 1;
        if (end === 0) {
          if (offset + chunk.length >= size) break; // a torn tail: wait for the rest of the line
          want *= 2; // a line longer than the batch
          continue;
        }
        want = this.batchBytes;
        const batch = this.parseBatch(chunk.subarray(0, end), offset, lines, disk.path, stats);
        const committed = this.db.transaction(() => {
          // Another process indexing the same root may have committed this range already.
          const current = s.checkpointOffset.get(cp!.id) as { offset: number } | undefined;
          if (current === undefined || current.offset !== offset) return false;
          const { minSeq, maxSeq, events } = this.insertRows(agent, cp!.id, batch.rows);
          // The screen lines' state goes in the same transaction: a crash loses both or neither.
          if (events > 0) eventsSeen = true;
          s.advanceCheckpoint.run({ offset: offset + end, lines: lines + batch.lines, minSeq, maxSeq, corrupt: batch.corrupt, id: cp!.id });
          return true;
        }).immediate();
        if (!committed) {
          interrupted = true;
          break;
        }
        if (!counted) {
          stats.files++;
          counted = true;
        }
        stats.entries += batch.rows.length;
        stats.bytes += end;
        offset += end;
        lines += batch.lines;
        this.onProgress({ file: disk.path, bytesDone: offset, bytesTotal: size });
      }
      // Every complete line is in: remember the size and time, so the next pass skips the file until it changes.
      if (!interrupted) s.markSeen.run(disk.size, disk.mtimeMs, cp.id);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return eventsSeen; // rotated away while reading: the next pass finds it under its new name
      if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') {
        stats.corruptLines.push({ file: disk.path, line: 0, error: `not a valid gzip file: ${e.message}` });
        return eventsSeen;
      }
      throw err;
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
    return eventsSeen;
  }

  /** Parses the complete lines of `chunk` (which starts at byte `offset` of the file, after `linesBefore` lines). */
  private parseBatch(chunk: Buffer, offset: number, linesBefore: number, file: string, stats: IndexStats) {
    const rows: ParsedRow[] = [];
    let corrupt = 0;
    let lines = 0;
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      lines++;
      const text = chunk.toString('utf8', start, nl);
      let error: string | null = null;
      let value: unknown;
      try {
        value = JSON.parse(text);
        error = validateEntry(value);
      } catch {
        error = text.trim() === '' ? 'empty line' : 'not valid JSON';
      }
      if (error === null) {
        const entry = value as LogEntry;
        rows.push({ entry, ts: parseTimestamp(entry.timestamp), offset: offset + start, length: nl - start });
      } else {
        corrupt++;
        stats.corruptLineCount++;
        if (stats.corruptLines.length < MAX_REPORTED_CORRUPT_LINES) {
          stats.corruptLines.push({ file, line: linesBefore + lines, error });
        }
      }
      start = nl + 1;
    }
    return { rows, corrupt, lines };
  }

  /** Inserts parsed rows; returns their sequence range and how many system events they held. */
  private insertRows(agent: number, file: number, rows: ParsedRow[]) {
    const s = this.statements;
    let minSeq: number | null = null;
    let maxSeq: number | null = null;
    let events = 0;
    const ids = this.takenIds(rows);
    const lines = this.linesOf(agent);
    /** Entries inserted, by `type * LEVELS.length + level`: one upsert per kind, not per row. */
    const counts = new Map<number, number>();
    /** The replay timeline's per-second sums (schema.ts `timeline_seconds`), one upsert per second. */
    const seconds = new Map<number, { entries: number; bytes: number; min: number; max: number }>();
    let lastId = 0;
    for (const { entry, ts, offset, length } of rows) {
      let id = Math.max(1, ts);
      if (id <= lastId && lastId - id < NUDGE_WINDOW_US) id = lastId + 1;
      while (ids.taken(id)) id++; // another entry holds this microsecond: take the next free one
      const type = TYPE_CODE[entry.type];
      const level = LEVEL_CODE[entryLevel(entry)];
      const inserted = s.insertEntry.run(id, agent, entry.sequence, ts, type, level, file, offset, length).changes > 0;
      if (!inserted) continue; // this (agent, sequence) is already indexed, from another copy of the file
      const kind = type * LEVELS.length + level;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      ids.take(id);
      lastId = id;
      const second = Math.floor(ts / 1_000_000);
      const sum = seconds.get(second);
      const bytes = entryTerminalText(entry).length;
      if (sum === undefined) seconds.set(second, { entries: 1, bytes, min: ts, max: ts });
      else {
        sum.entries++;
        sum.bytes += bytes;
        if (ts < sum.min) sum.min = ts;
        if (ts > sum.max) sum.max = ts;
      }
      if (entry.sequence > lines.seq) lines.add({ entry, ts, file, offset, length });
      const meta = entry.metadata;
      if (meta !== undefined && (entry.type === 'system' || meta.gap !== undefined)) {
        s.insertEvent.run(
          id,
          agent,
          entry.sequence,
          ts,
          typeof meta.event === 'string' ? meta.event : null,
          meta.gap === undefined ? null : String(meta.gap),
          JSON.stringify(meta),
        );
        events++;
      }
      if (minSeq === null || entry.sequence < minSeq) minSeq = entry.sequence;
      if (maxSeq === null || entry.sequence > maxSeq) maxSeq = entry.sequence;
    }
    lines.save();
    for (const [kind, n] of counts) s.countEntries.run(Math.floor(kind / LEVELS.length), kind % LEVELS.length, n);
    for (const [second, sum] of seconds) s.addSecond.run(agent, second, file, sum.entries, sum.bytes, sum.min, sum.max);
    return { minSeq, maxSeq, events };
  }

  /**
   * The entry ids already used around a batch's timestamps, read with one range query instead of
   * finding collisions by failed inserts (an exception per collision, and many entries share a
   * microsecond). Ids outside the range read are checked one by one.
   */
  private takenIds(rows: ParsedRow[]) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of rows) {
      if (r.ts < lo) lo = r.ts;
      if (r.ts > hi) hi = r.ts;
    }
    // Nudged ids land after their timestamp, by at most one id per row of the batch.
    hi += rows.length;
    const used = new Set<number>(rows.length === 0 ? [] : (this.statements.idsBetween.pluck().all(Math.max(1, lo), hi) as number[]));
    const idTaken = this.statements.idTaken;
    return {
      taken: (id: number) => (id >= lo && id <= hi ? used.has(id) : idTaken.get(id) !== undefined),
      take: (id: number) => used.add(id),
    };
  }

  private removeCheckpoint(cp: Checkpoint): void {
    this.db.transaction(() => {
      this.removeRows(cp);
      this.statements.deleteCheckpoint.run(cp.id);
      if (!(this.statements.checkpointsOf.all(cp.agent) as Checkpoint[]).length) this.dropScreen(cp.agent);
      refreshRuns(this.db, cp.agent);
    }).immediate();
  }

  /** Deletes every row read from a checkpoint's file (they form one sequence range of its agent). */
  private removeRows(cp: Checkpoint): void {
    if (cp.min_seq === null || cp.max_seq === null) return;
    const s = this.statements;
    const range = [cp.agent, cp.min_seq, cp.max_seq, cp.id] as const;
    s.deleteEvents.run(...range);
    s.deleteEntries.run(...range);
    s.deleteSeconds.run(cp.id);
    this.lineStatements.deleteLineTexts.run(cp.agent, cp.min_seq, cp.max_seq);
    this.lineStatements.deleteLines.run(cp.agent, cp.min_seq, cp.max_seq);
  }
}

const TYPE_CODE = Object.fromEntries(ENTRY_TYPES.map((t, i) => [t, i])) as Record<string, number>;
const LEVEL_CODE = Object.fromEntries(LEVELS.map((l, i) => [l, i])) as Record<string, number>;

function prepareStatements(db: IndexDb) {
  const inRange = 'SELECT id FROM entries WHERE agent = ? AND seq BETWEEN ? AND ? AND file = ?';
  return {
    insertTask: db.prepare('INSERT OR IGNORE INTO tasks (root, task_id) VALUES (?, ?)'),
    taskId: db.prepare('SELECT id FROM tasks WHERE root = ? AND task_id = ?'),
    insertAgent: db.prepare('INSERT OR IGNORE INTO agents (task, agent_id) VALUES (?, ?)'),
    agentId: db.prepare('SELECT id FROM agents WHERE task = ? AND agent_id = ?'),
    allCheckpoints: db.prepare('SELECT * FROM files'),
    checkpointsOf: db.prepare('SELECT * FROM files WHERE agent = ? ORDER BY id'),
    checkpointById: db.prepare('SELECT * FROM files WHERE id = ?'),
    checkpointOffset: db.prepare('SELECT offset FROM files WHERE id = ?'),
    insertCheckpoint: db.prepare(
      `INSERT INTO files (agent, path, dev, ino, gz, head_hash, size, mtime_ms, offset, lines)
       VALUES (?, ?, ?, ?, ?, ?, -1, ?, 0, 0)`,
    ),
    moveCheckpoint: db.prepare('UPDATE files SET path = ?, dev = ?, ino = ?, gz = ? WHERE id = ?'),
    resetCheckpoint: db.prepare(
      'UPDATE files SET offset = 0, lines = 0, min_seq = NULL, max_seq = NULL, corrupt_lines = 0, size = -1 WHERE id = ?',
    ),
    // size = -1 until the file is read to its end, so an interrupted pass never looks "unchanged".
    advanceCheckpoint: db.prepare(
      `UPDATE files SET offset = @offset, lines = @lines,
         min_seq = coalesce(min(min_seq, @minSeq), min_seq, @minSeq), max_seq = coalesce(max(max_seq, @maxSeq), max_seq, @maxSeq),
         corrupt_lines = corrupt_lines + @corrupt, size = -1
       WHERE id = @id`,
    ),
    markSeen: db.prepare('UPDATE files SET size = ?, mtime_ms = ? WHERE id = ?'),
    deleteCheckpoint: db.prepare('DELETE FROM files WHERE id = ?'),
    insertEntry: db.prepare(
      `INSERT INTO entries (id, agent, seq, ts, type, level, file, offset, length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (agent, seq) DO NOTHING`,
    ),
    addSecond: db.prepare(
      `INSERT INTO timeline_seconds (agent, second, file, entries, bytes, min_ts, max_ts) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (agent, second, file) DO UPDATE SET entries = entries + excluded.entries, bytes = bytes + excluded.bytes,
         min_ts = min(min_ts, excluded.min_ts), max_ts = max(max_ts, excluded.max_ts)`,
    ),
    deleteSeconds: db.prepare('DELETE FROM timeline_seconds WHERE file = ?'),
    countEntries: db.prepare('INSERT INTO entry_counts (type, level, n) VALUES (?, ?, ?) ON CONFLICT (type, level) DO UPDATE SET n = n + excluded.n'),
    idsBetween: db.prepare('SELECT id FROM entries WHERE id BETWEEN ? AND ?'),
    idTaken: db.prepare('SELECT 1 FROM entries WHERE id = ?'),
    insertEvent: db.prepare('INSERT INTO events (id, agent, seq, ts, event, gap, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    deleteEvents: db.prepare(`DELETE FROM events WHERE id IN (${inRange})`),
    deleteEntries: db.prepare('DELETE FROM entries WHERE agent = ? AND seq BETWEEN ? AND ? AND file = ?'),
  };
}

/**
 * Deletes a root's index and builds it again from its JSONL (`loupe reindex`, RELIABILITY D4).
 * Returns the stats of the full pass; the returned indexer is open for queries.
 */
export function rebuildIndex(root: string, options: IndexerOptions = {}): { indexer: Indexer; stats: IndexStats } {
  deleteIndexFiles(options.dbFile ?? indexPath(root));
  const indexer = new Indexer(root, options);
  return { indexer, stats: indexer.indexPending() };
}
