/**
 * Follows the local logs of some roots from a position and hands batches to a sink: the shipping
 * loop that `loupe ship --to postgres://…` (and any other destination, e.g. OTLP) runs.
 *
 * - The local JSONL is the outbox. The sink says, per agent, how far it has acknowledged (its last
 *   entry sequence and screen-line number); the follower sends what comes after, in order, and
 *   asks the sink again after any failed write, so a write whose commit was lost is neither
 *   repeated nor skipped.
 * - Entries and screen lines come through the root's local index (electron/core/index), the same
 *   one search reads: it already handles torn tails, corrupt lines, rotation and gzip, and makes
 *   the screen lines (SPEC §12). Entries are read back from the JSONL at the offsets it recorded.
 * - A batch carries one agent's entries and the lines those entries made final, so a line in the
 *   sink never points past the entries it has.
 * - A failed write is retried with exponential backoff, forever when following, up to a limit
 *   with `once`. Errors the sink marks `permanent` (bad credentials) stop at once.
 */
import fs from 'node:fs';
import { parseEntryLine, type LogEntry } from '../../../shared/entry.js';
import type { AttentionFacts } from '../attention/attention.js';
import { Indexer } from '../index/indexer.js';
import { runSummaries, type RunSummary } from '../index/runs.js';
import { LEVEL_CODES, TYPE_CODES } from '../index/schema.js';
import { listAgentLogs, type AgentLog } from '../log/paths.js';
import { LogReader } from '../log/reader.js';
import type { LineRecord } from '../screen/lineRecord.js';
import type { LineRow as IndexLineRow } from '../search/agentLines.js';

/** Entries per batch: one transaction each in the store; big enough to amortise the commit. */
export const DEFAULT_BATCH_ENTRIES = 5000;
/** JSONL bytes per batch, so a run of huge entries still makes bounded batches. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** How often following looks for new output when no file-system event woke it. */
const DEFAULT_POLL_MS = 500;
/** File-system events come in bursts: one pass per burst. */
const WAKE_DEBOUNCE_MS = 30;
/** Backoff after a failed write: doubles from the first to the last. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;
/** Attempts per batch with `once` before giving up (about 30 s of backoff in all). */
const DEFAULT_ONCE_ATTEMPTS = 8;
/**
 * Run summaries scan the whole run (3 s for a run of 2.5 M entries), so they ride on a batch only
 * when they are stale and either a run started or ended in it, or this long has passed since the
 * last ones, and at least ten times what those took: summaries take at most a tenth of the
 * shipper's time. `runOnce` sends them once more when it has caught up.
 */
const RUNS_EVERY_MS = 5000;
const RUNS_COST_FACTOR = 10;

/** One agent's log, as a sink knows it. */
export interface AgentKey {
  root: string;
  taskId: string;
  agentId: string;
}

/** How far a sink has acknowledged an agent: its last entry sequence and its last screen line's number (0: nothing). */
export interface ShipPosition {
  sequence: number;
  line: number;
}

export interface ShippedEntry {
  entry: LogEntry;
  /** The JSONL line exactly as stored (lossless, and free of NUL bytes, which JSON escapes). */
  line: string;
  /** The entry's time, µs since the epoch. */
  time: number;
}

/** A screen line (electron/core/screen) without its colors, with its number among the agent's lines. */
export interface ShippedLine extends Omit<LineRecord, 'ansi'> {
  n: number;
  /**
   * The line's place in time order across agents: its time in µs, nudged forward past the line
   * before it when that one is a little later (the local index's line id), so newest-first and
   * oldest-first listings match local search.
   */
  sortKey: number;
}

export interface LogBatch {
  agent: AgentKey;
  entries: ShippedEntry[];
  lines: ShippedLine[];
  /**
   * The agent's run summaries as the local index has them now (what `loupe stats` prints), or
   * none when the sink's are still current or not yet due (see `RUNS_EVERY_MS`).
   */
  runs: RunSummary[];
  /**
   * The agent's attention facts (SPEC §13: a prompt on its screen, a notification) as the local
   * index has them now, null before it has any: what lets a store tell `waiting`. A batch may
   * carry only these, with no entries or lines, when they changed without new output.
   */
  attention: AttentionFacts | null;
  /** Where the agent is once this batch is acknowledged. */
  position: ShipPosition;
}

/** Where batches go. Both calls may throw; see `SinkError`. */
export interface LogSink {
  /** What the sink has acknowledged for this agent. */
  position(agent: AgentKey): Promise<ShipPosition>;
  /** Stores a batch atomically: all of it or nothing. */
  write(batch: LogBatch): Promise<void>;
}

/** A sink failure that retrying cannot fix (a refused login, a missing database). */
export class SinkError extends Error {
  override name = 'SinkError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface FollowerOptions {
  batchEntries?: number;
  pollMs?: number;
  /** Write attempts per batch with `runOnce` (default 8, about 30 s). */
  onceAttempts?: number;
  /** Called with each failed attempt that will be retried (for a log line). */
  onRetry?: (err: Error, delayMs: number) => void;
}

export interface ShipTotals {
  entries: number;
  lines: number;
  batches: number;
}

interface EntryRow {
  seq: number;
  ts: number;
  offset: number;
  length: number;
  path: string;
}

interface ReadLine {
  entry: LogEntry;
  line: string;
}

/** A screen line as the index holds it, with its row id (the shipper's position in the table). */
interface LineRow extends IndexLineRow {
  id: number;
}

/** Ships the logs under some roots into a sink. Call `dispose()` when done. */
export class LocalLogFollower {
  private readonly indexers: Indexer[];
  private readonly batchEntries: number;
  private readonly pollMs: number;
  private readonly onceAttempts: number;
  private readonly onRetry: (err: Error, delayMs: number) => void;
  /** Acknowledged positions, by agent: asked from the sink once, then kept as batches land. */
  private readonly positions = new Map<string, ShipPosition>();
  /** The attention facts (as JSON) of each agent's last acknowledged batch. */
  private readonly shippedAttention = new Map<string, string | null>();
  /** When each agent's run summaries were last acknowledged. */
  private readonly shippedRuns = new Map<string, RunsShipped>();
  private readonly totals: ShipTotals = { entries: 0, lines: 0, batches: 0 };
  private watchers: fs.FSWatcher[] = [];
  private disposed = false;

  constructor(
    roots: string[],
    private readonly sink: LogSink,
    options: FollowerOptions = {},
  ) {
    this.indexers = roots.map((root) => new Indexer(root));
    this.batchEntries = options.batchEntries ?? DEFAULT_BATCH_ENTRIES;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.onceAttempts = options.onceAttempts ?? DEFAULT_ONCE_ATTEMPTS;
    this.onRetry = options.onRetry ?? (() => {});
  }

  /** Everything shipped so far by this follower. */
  get shipped(): ShipTotals {
    return { ...this.totals };
  }

  /** Ships what the logs hold now; retries a failing write up to `onceAttempts` times, then throws. */
  async runOnce(): Promise<ShipTotals> {
    await this.pass(this.onceAttempts, undefined, true);
    return this.shipped;
  }

  /** Ships what the logs hold, then keeps shipping new output until `signal` aborts. */
  async follow(signal: AbortSignal): Promise<void> {
    let wake: (() => void) | null = null;
    let debounce: NodeJS.Timeout | null = null;
    const poke = () => {
      if (debounce !== null) return;
      debounce = setTimeout(() => {
        debounce = null;
        wake?.();
      }, WAKE_DEBOUNCE_MS);
    };
    for (const indexer of this.indexers) {
      try {
        const watcher = fs.watch(indexer.root, { recursive: true }, (_event, name) => {
          if (typeof name === 'string' && name.includes('index.sqlite')) return; // our own commits
          poke();
        });
        watcher.on('error', () => watcher.close()); // polling carries on
        this.watchers.push(watcher);
      } catch {
        // no recursive watch here: polling alone
      }
    }
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted && !this.disposed) {
        try {
          await this.pass(Number.POSITIVE_INFINITY, signal);
        } catch (err) {
          // A sink that refuses for good ends following; anything else (an index busy or being
          // rebuilt by another process, a file that vanished) is tried again at the next look.
          if (err instanceof SinkError && err.permanent) throw err;
          this.onRetry(err as Error, this.pollMs);
        }
        if (signal.aborted) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (debounce !== null) clearTimeout(debounce);
      this.closeWatchers();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.closeWatchers();
    for (const indexer of this.indexers) indexer.dispose();
  }

  private closeWatchers(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  /** One look at every agent of every root: index what is new, then ship each agent's backlog. */
  private async pass(attempts: number, signal?: AbortSignal, final = false): Promise<void> {
    for (const indexer of this.indexers) {
      indexer.indexPending();
      for (const log of listAgentLogs(indexer.root)) {
        const agentRow = agentRowOf(indexer, log);
        if (agentRow === null) continue; // nothing indexed yet
        await this.shipAgent(indexer, log, agentRow, attempts, signal, final);
        if (signal?.aborted) return;
      }
    }
  }

  private async shipAgent(indexer: Indexer, log: AgentLog, agentRow: number, attempts: number, signal: AbortSignal | undefined, final: boolean): Promise<void> {
    const agent: AgentKey = { root: indexer.root, taskId: log.taskId, agentId: log.agentId };
    const key = JSON.stringify([agent.root, agent.taskId, agent.agentId]);
    for (;;) {
      const next = await this.withRetry(attempts, signal, async () => {
        const at = this.positions.get(key) ?? (await this.sink.position(agent));
        this.positions.set(key, at);
        const shipped = { attention: this.shippedAttention.get(key), runs: this.shippedRuns.get(key) };
        const next = await readBatch(indexer, agentRow, agent, at, this.batchEntries, shipped, final);
        if (next !== null) await this.sink.write(next.batch);
        return next;
      }, () => this.positions.delete(key)); // after a failure, ask the sink where it really is
      if (next === null || signal?.aborted) return;
      const { batch, runs } = next;
      this.positions.set(key, batch.position);
      this.shippedAttention.set(key, batch.attention === null ? null : JSON.stringify(batch.attention));
      if (runs !== null) this.shippedRuns.set(key, runs);
      if (batch.entries.length === 0 && batch.lines.length === 0) continue; // only the attention or the runs changed
      this.totals.entries += batch.entries.length;
      this.totals.lines += batch.lines.length;
      this.totals.batches++;
    }
  }

  private async withRetry<T>(attempts: number, signal: AbortSignal | undefined, attempt: () => Promise<T>, onFailure: () => void): Promise<T> {
    let delay = RETRY_FIRST_MS;
    for (let tried = 1; ; tried++) {
      try {
        return await attempt();
      } catch (err) {
        onFailure();
        if ((err instanceof SinkError && err.permanent) || tried >= attempts || signal?.aborted) throw err;
        this.onRetry(err as Error, delay);
        await sleep(delay, signal);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

function agentRowOf(indexer: Indexer, log: AgentLog): number | null {
  const row = indexer.db
    .prepare(
      `SELECT a.id FROM agents a JOIN tasks t ON t.id = a.task JOIN roots r ON r.id = t.root
       WHERE r.path = ? AND t.task_id = ? AND a.agent_id = ?`,
    )
    .get(indexer.root, log.taskId, log.agentId) as { id: number } | undefined;
  return row?.id ?? null;
}

/** When an agent's run summaries were last sent, for which position, and what computing them took. */
interface RunsShipped {
  position: ShipPosition;
  at: number;
  tookMs: number;
}

/** What the sink was last sent of an agent's attention facts (as JSON) and run summaries. */
interface ShippedState {
  attention: string | null | undefined;
  runs: RunsShipped | undefined;
}

/**
 * The agent's next batch after `at`, or null when the sink has everything the index has: its
 * entries, its lines and, unless `shipped` says the sink has them, its attention facts and run
 * summaries (those when due: see `RUNS_EVERY_MS`; `final` sends them once caught up), with
 * what to remember of the summaries once the batch is acknowledged.
 */
async function readBatch(
  indexer: Indexer,
  agentRow: number,
  agent: AgentKey,
  at: ShipPosition,
  maxEntries: number,
  shipped: ShippedState,
  final: boolean,
): Promise<{ batch: LogBatch; runs: RunsShipped | null } | null> {
  const rows = indexer.db
    .prepare(
      `SELECT e.seq, e.ts, e.offset, e.length, f.path FROM entries e JOIN files f ON f.id = e.file
       WHERE e.agent = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`,
    )
    .all(agentRow, at.sequence, maxEntries) as EntryRow[];
  let bytes = 0;
  const kept = rows.filter((r) => (bytes += r.length) <= BATCH_BYTES || r === rows[0]);
  const entries = await readEntries(kept);
  const lastSeq = entries.length > 0 ? entries[entries.length - 1]!.entry.sequence : at.sequence;
  // Lines in the order they became final, up to the first that needs an entry after this batch.
  const lineRows = indexer.db
    .prepare(
      `SELECT l.id, l.n, l.seq, l.first_seq, l.ts, l.type, l.level, t.text FROM lines l JOIN lines_fts t ON t.rowid = l.id
       WHERE l.agent = ? AND l.n > ? ORDER BY l.n LIMIT ?`,
    )
    .all(agentRow, at.line, maxEntries) as LineRow[];
  const lines: ShippedLine[] = [];
  for (const r of lineRows) {
    if (r.seq > lastSeq) break;
    lines.push({ n: r.n, sortKey: r.id, sequence: r.seq, firstSequence: r.first_seq, time: r.ts, type: TYPE_CODES[r.type]!, level: LEVEL_CODES[r.level]!, text: r.text });
  }
  const position = { sequence: lastSeq, line: lines.length > 0 ? lines[lines.length - 1]!.n : at.line };
  const state = indexer.db.prepare('SELECT attention FROM screen_states WHERE agent = ?').get(agentRow) as { attention: string | null } | undefined;
  const attention = state?.attention ?? null;
  const caughtUp = kept.length === rows.length && rows.length < maxEntries && lines.length === lineRows.length && lineRows.length < maxEntries;
  const runsDue = runSummariesDue(shipped.runs, position, caughtUp && final, entries);
  // Facts the sink was never sent are sent once; none at all need no batch.
  const attentionChanged = attention !== (shipped.attention === undefined ? null : shipped.attention);
  if (entries.length === 0 && lines.length === 0 && !attentionChanged && !runsDue) return null;
  const started = performance.now();
  const runs = runsDue ? runSummaries(indexer.db, { agentId: agent.agentId, taskId: agent.taskId }) : [];
  const batch: LogBatch = { agent, entries, lines, runs, attention: attention === null ? null : (JSON.parse(attention) as AttentionFacts), position };
  return { batch, runs: runsDue ? { position, at: performance.now(), tookMs: performance.now() - started } : null };
}

/** Whether a batch ending at `position` carries the run summaries (see `RUNS_EVERY_MS`). */
function runSummariesDue(last: RunsShipped | undefined, position: ShipPosition, caughtUpAtTheEnd: boolean, entries: ShippedEntry[]): boolean {
  if (last === undefined) return true;
  const stale = last.position.sequence < position.sequence || last.position.line < position.line;
  if (!stale) return false;
  if (caughtUpAtTheEnd || entries.some((e) => e.entry.type === 'system')) return true;
  return performance.now() - last.at >= Math.max(RUNS_EVERY_MS, RUNS_COST_FACTOR * last.tookMs);
}

/**
 * Reads the entries the index located, from their JSONL files: one read per run of entries in
 * a plain file, a forward read for a gzipped one. A file that changed under us (rotated between
 * indexing and reading) throws; the next attempt indexes again and finds it.
 */
async function readEntries(rows: EntryRow[]): Promise<ShippedEntry[]> {
  const out: ShippedEntry[] = [];
  let i = 0;
  while (i < rows.length) {
    let j = i;
    while (j + 1 < rows.length && rows[j + 1]!.path === rows[i]!.path) j++;
    const run = rows.slice(i, j + 1);
    const read = run[0]!.path.endsWith('.gz') ? await readGzipRun(run) : readPlainRun(run);
    run.forEach((row, k) => {
      const got = read[k];
      if (got === undefined || got.entry.sequence !== row.seq) throw new Error(`${row.path} changed while it was read (entry ${row.seq})`);
      out.push({ ...got, time: row.ts });
    });
    i = j + 1;
  }
  return out;
}

function readPlainRun(run: EntryRow[]): (ReadLine | undefined)[] {
  const first = run[0]!;
  const last = run[run.length - 1]!;
  const start = first.offset;
  const buf = Buffer.allocUnsafe(last.offset + last.length - start);
  const fd = fs.openSync(first.path, 'r');
  try {
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return run.map((r) => {
      if (r.offset + r.length - start > got) return undefined;
      const line = buf.toString('utf8', r.offset - start, r.offset - start + r.length);
      const parsed = parseEntryLine(line);
      return parsed.ok ? { entry: parsed.entry, line } : undefined;
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** The rare path: a rotated file that was compressed before it was shipped. */
async function readGzipRun(run: EntryRow[]): Promise<(ReadLine | undefined)[]> {
  const wanted = new Map(run.map((r, k) => [r.offset, k]));
  const out: (ReadLine | undefined)[] = new Array(run.length);
  const reader = new LogReader(run[0]!.path, { offset: run[0]!.offset, onCorrupt: () => {} });
  for await (const batch of reader.batches()) {
    for (const e of batch) {
      const k = wanted.get(e.offset);
      if (k !== undefined) out[k] = { entry: e.entry, line: e.line };
    }
    if (out[run.length - 1] !== undefined) break;
  }
  return out;
}
