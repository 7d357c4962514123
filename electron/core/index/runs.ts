/**
 * Runs and their summaries (SPEC §6): a run starts at a `started` system entry and ends at the
 * `terminated` one. Its numbers (entries, bytes, errors, ...) are counted from the indexed entries
 * between its first sequence and the next run's, so they are always consistent with the index.
 */
import { formatTimestamp, LEVELS, type CaptureMethod } from '../../../shared/entry.js';
import { loadConfig } from '../capture/config.js';
import { costOf, PRICES, type ModelPrice, type UsageByModel } from '../transcripts/prices.js';
import type { TokenCounts } from '../transcripts/session.js';
import { linkedRuns, nameLinkedRun, refreshLinks } from './links.js';
import type { IndexDb } from './schema.js';
import type { LinkedRun } from '../../../shared/ipc.js';

const ERROR_LEVEL = LEVELS.indexOf('error');
const WARN_LEVEL = LEVELS.indexOf('warn');

export type RunStatus = 'live' | 'ended' | 'error';

/** One run of one agent, as `loupe stats` and the sidebar show it. */
export interface RunSummary {
  root: string;
  taskId: string;
  agentId: string;
  /** 1 for the agent's first run in this log. */
  run: number;
  /** live: not terminated yet; ended: exit status 0 (or unknown), or imported; error: a non-zero exit status. */
  status: RunStatus;
  command: string | null;
  /** ISO 8601 start and end (the last entry while live), null for an empty run. */
  start: string | null;
  end: string | null;
  durationMs: number | null;
  entries: number;
  /** JSONL bytes of the run's entries. */
  bytes: number;
  errors: number;
  warnings: number;
  /** `bytes` per second of the run's duration. */
  bytesPerSecond: number;
  exitStatus: number | null;
  captureMethod: CaptureMethod | null;
  /** Entries that record output known to be missing. */
  gaps: number;
  firstSequence: number;
  lastSequence: number | null;
  /**
   * Tokens the run's model used, null when the run records none: an imported transcript's own,
   * or for a terminal run those of the transcripts linked to it.
   */
  tokens: TokenCounts | null;
  /** What those tokens cost in US dollars (transcripts/prices.ts), null when unknown. */
  costUsd: number | null;
  /** The runs on the other side of a link (index/links.ts): a terminal run's transcripts, a transcript's terminal run. */
  linked: LinkedRun[];
}


interface EventRow {
  seq: number;
  ts: number;
  event: string | null;
  gap: string | null;
  metadata: string;
}

interface RunRow {
  first_seq: number;
  last_seq: number | null;
  start_ts: number | null;
  end_ts: number | null;
  terminated: number;
  exit_status: number | null;
  capture: string | null;
  command: string | null;
  cols: number | null;
  rows: number | null;
  gaps: number;
  /** The format an imported run came from (its started entry's `imported`), null for a capture. */
  imported: string | null;
}

/** Rebuilds an agent's `runs` rows (and its transcript links) from its system events. Call inside the transaction that changed them. */
export function refreshRuns(db: IndexDb, agent: number): void {
  const events = db.prepare('SELECT seq, ts, event, gap, metadata FROM events WHERE agent = ? ORDER BY seq').all(agent) as EventRow[];
  const runs: RunRow[] = [];
  let current: RunRow | null = null;
  for (const ev of events) {
    const meta = JSON.parse(ev.metadata) as Record<string, unknown>;
    if (ev.event === 'started' || current === null) {
      current = {
        first_seq: ev.event === 'started' ? ev.seq : 1,
        last_seq: null,
        start_ts: ev.event === 'started' ? ev.ts : null,
        end_ts: null,
        terminated: 0,
        exit_status: null,
        capture: null,
        command: null,
        cols: null,
        rows: null,
        gaps: 0,
        imported: null,
      };
      runs.push(current);
    }
    if (typeof meta.capture === 'string') current.capture = meta.capture;
    if (typeof meta.command === 'string' && current.command === null) current.command = meta.command;
    if (typeof meta.cols === 'number') current.cols = meta.cols;
    if (typeof meta.rows === 'number') current.rows = meta.rows;
    if (ev.event === 'started' && typeof meta.imported === 'string') current.imported = meta.imported;
    if (ev.gap !== null) current.gaps++;
    if (ev.event === 'terminated') {
      current.terminated = 1;
      current.exit_status = typeof meta.exit_status === 'number' ? meta.exit_status : null;
      current.last_seq = ev.seq;
      current.end_ts = ev.ts;
    }
  }
  db.prepare('DELETE FROM runs WHERE agent = ?').run(agent);
  const insert = db.prepare(
    `INSERT INTO runs (agent, first_seq, last_seq, start_ts, end_ts, terminated, exit_status, capture, command, cols, rows, gaps, imported)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const r of runs) {
    insert.run(agent, r.first_seq, r.last_seq, r.start_ts, r.end_ts, r.terminated, r.exit_status, r.capture, r.command, r.cols, r.rows, r.gaps, r.imported);
  }
  refreshLinks(db, agent);
}

interface AgentRow {
  id: number;
  agent_id: string;
  task_id: string;
  root: string;
}

/** Which runs to summarise: all, one agent's (newest task wins unless `taskId` is given), or one task's. */
export interface StatsQuery {
  agentId?: string;
  taskId?: string;
}

/** Summaries of the runs matching `query`, oldest task first, then by agent and run. */
export function runSummaries(db: IndexDb, query: StatsQuery = {}): RunSummary[] {
  const agents = db
    .prepare(
      `SELECT a.id, a.agent_id, t.task_id, r.path AS root FROM agents a JOIN tasks t ON t.id = a.task JOIN roots r ON r.id = t.root
       WHERE (@agentId IS NULL OR a.agent_id = @agentId) AND (@taskId IS NULL OR t.task_id = @taskId)
       ORDER BY t.task_id, a.agent_id`,
    )
    .all({ agentId: query.agentId ?? null, taskId: query.taskId ?? null }) as AgentRow[];
  const runsOf = db.prepare('SELECT * FROM runs WHERE agent = ? ORDER BY first_seq');
  const tally = db.prepare(
    `SELECT count(*) AS entries, coalesce(sum(length) + count(*), 0) AS bytes,
            min(ts) AS first_ts, max(ts) AS last_ts, max(seq) AS last_seq
     FROM entries WHERE agent = @agent AND seq >= @from AND seq < @to`,
  );
  // Errors and warnings are counted on the screen lines (SPEC §12): what the user saw, once.
  const levels = db.prepare(
    `SELECT coalesce(sum(level >= ${ERROR_LEVEL}), 0) AS errors, coalesce(sum(level = ${WARN_LEVEL}), 0) AS warnings
     FROM lines WHERE agent = @agent AND seq >= @from AND seq < @to`,
  );
  const usageEvents = db.prepare(`SELECT metadata FROM events WHERE agent = @agent AND seq >= @from AND seq < @to AND event = 'usage'`);
  // Loupe's price table, with the root's own prices (loupe.config.json `prices`) over it.
  const tables = new Map<string, Readonly<Record<string, ModelPrice>>>();
  const pricesFor = (root: string) => {
    let table = tables.get(root);
    if (table === undefined) tables.set(root, (table = { ...PRICES, ...loadConfig(root).config.prices }));
    return table;
  };
  const nextRunOf = db.prepare('SELECT min(first_seq) FROM runs WHERE agent = ? AND first_seq > ?').pluck();
  const summaries: RunSummary[] = [];
  for (const agent of agents) {
    const stored = runsOf.all(agent.id) as RunRow[];
    const runs: RunRow[] = stored.length > 0 ? stored : [implicitRun()];
    runs.forEach((run, i) => {
      const next = runs[i + 1]?.first_seq ?? Number.MAX_SAFE_INTEGER;
      const range = { agent: agent.id, from: run.first_seq, to: next };
      const t = { ...(tally.get(range) as object), ...(levels.get(range) as object) } as {
        entries: number;
        bytes: number;
        errors: number;
        warnings: number;
        first_ts: number | null;
        last_ts: number | null;
        last_seq: number | null;
      };
      const startTs = run.start_ts ?? t.first_ts;
      const endTs = run.terminated ? (run.end_ts ?? t.last_ts) : t.last_ts;
      const durationMs = startTs !== null && endTs !== null ? (endTs - startTs) / 1000 : null;
      const isLast = i === runs.length - 1;
      let status: RunStatus;
      if (run.terminated) status = run.exit_status !== null && run.exit_status !== 0 ? 'error' : 'ended';
      else status = isLast && stored.length > 0 && run.imported === null ? 'live' : 'ended';
      const links = linkedRuns(db, agent.id, run.first_seq);
      // A terminal run has no tokens of its own: it reports those of its linked transcripts.
      const usageRanges =
        run.imported === null && links.length > 0
          ? links.map((l) => ({ agent: l.agent, from: l.runSeq, to: (nextRunOf.get(l.agent, l.runSeq) as number | null) ?? Number.MAX_SAFE_INTEGER }))
          : [range];
      const usage = usageOf(usageRanges.flatMap((r) => usageEvents.all(r) as { metadata: string }[]));
      summaries.push({
        root: agent.root,
        taskId: agent.task_id,
        agentId: agent.agent_id,
        run: i + 1,
        status,
        command: run.command,
        start: startTs === null ? null : formatTimestamp(startTs),
        end: endTs === null ? null : formatTimestamp(endTs),
        durationMs,
        entries: t.entries,
        bytes: t.bytes,
        errors: t.errors,
        warnings: t.warnings,
        bytesPerSecond: durationMs !== null && durationMs > 0 ? t.bytes / (durationMs / 1000) : 0,
        exitStatus: run.exit_status,
        captureMethod: run.capture === 'pipe-pane' || run.capture === 'poll' ? run.capture : null,
        gaps: run.gaps,
        firstSequence: run.first_seq,
        lastSequence: run.last_seq ?? t.last_seq,
        tokens: usage === null ? null : sumTokens(usage),
        costUsd: usage === null ? null : costOf(usage, pricesFor(agent.root)),
        linked: links.map((l) => nameLinkedRun(db, l)),
      });
    });
  }
  return summaries;
}

/** A log with no lifecycle entries (written by another tool): one run covering everything. */
function implicitRun(): RunRow {
  return {
    first_seq: 1,
    last_seq: null,
    start_ts: null,
    end_ts: null,
    terminated: 0,
    exit_status: null,
    capture: null,
    command: null,
    cols: null,
    rows: null,
    gaps: 0,
    imported: null,
  };
}

/** Tokens per model from `usage` events (written by the transcript importers), null for none. */
function usageOf(rows: { metadata: string }[]): UsageByModel | null {
  if (rows.length === 0) return null;
  const byModel: UsageByModel = new Map();
  for (const row of rows) {
    const u = (JSON.parse(row.metadata) as { usage?: Record<string, unknown> }).usage;
    if (u === undefined) continue;
    const model = typeof u.model === 'string' ? u.model : null;
    const t = byModel.get(model) ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    t.input += Number(u.input) || 0;
    t.output += Number(u.output) || 0;
    t.cacheRead += Number(u.cacheRead) || 0;
    t.cacheWrite += Number(u.cacheWrite) || 0;
    t.costUsd = typeof u.costUsd === 'number' && t.costUsd !== null ? (t.costUsd ?? 0) + u.costUsd : null;
    byModel.set(model, t);
  }
  return byModel;
}

function sumTokens(usage: UsageByModel): TokenCounts {
  const sum: TokenCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  for (const t of usage.values()) {
    sum.input += t.input;
    sum.output += t.output;
    sum.cacheRead += t.cacheRead;
    sum.cacheWrite += t.cacheWrite;
  }
  return sum;
}
