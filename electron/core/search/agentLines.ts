/**
 * An agent's screen lines from the index, in the order they became final: the last N that pass
 * a filter (`loupe tail --format text`, the pane's filter view) and the ones after a point
 * (`tail -f`). The filter has the meaning of `loupe tail`'s: types, a minimum level, a regex on
 * the line's text.
 */
import { ENTRY_TYPES, LEVELS, checkAgentId, checkTaskId, formatTimestamp, type LogEntry } from '../../../shared/entry.js';
import type { Classifier } from '../capture/classify.js';
import type { IndexDb } from '../index/schema.js';
import type { EntryFilter } from '../log/filter.js';
import { lineRecord, type LineRecord } from '../screen/lineRecord.js';
import { ScreenLineMaker, type ScreenState } from '../screen/screenLines.js';

/** A line with its place in the agent's order. */
export interface NumberedLine extends LineRecord {
  n: number;
}

/** Lines read per query while a filter keeps looking further back. */
const PAGE = 2000;

/** A row of the index's `lines` table, as the line readers select it. */
export interface LineRow {
  n: number;
  seq: number;
  first_seq: number;
  ts: number;
  type: number;
  level: number;
  text: string;
}

/** The agent's row in the index, or null when it has nothing indexed. */
export function agentRowId(db: IndexDb, taskId: string, agentId: string): number | null {
  const row = db
    .prepare('SELECT a.id FROM agents a JOIN tasks t ON t.id = a.task WHERE t.task_id = ? AND a.agent_id = ?')
    .get(checkTaskId(taskId), checkAgentId(agentId)) as { id: number } | undefined;
  return row?.id ?? null;
}

/** The last `count` lines of the agent that pass the filter, oldest first. */
export function lastLines(db: IndexDb, agent: number, count: number, filter: EntryFilter = {}): NumberedLine[] {
  const { where, params } = filterSql(filter);
  const page = db.prepare(
    `SELECT l.n, l.seq, l.first_seq, l.ts, l.type, l.level, f.text FROM lines l JOIN lines_fts f ON f.rowid = l.id
     WHERE l.agent = ? AND l.n < ? ${where} ORDER BY l.n DESC LIMIT ?`,
  );
  const out: NumberedLine[] = [];
  let before = Number.MAX_SAFE_INTEGER;
  while (out.length < count) {
    const rows = page.all(agent, before, ...params, PAGE) as LineRow[];
    for (const r of rows) {
      if (filter.regex === undefined || filter.regex.test(r.text)) out.push(toLine(r));
      if (out.length >= count) break;
    }
    if (rows.length < PAGE) break;
    before = rows[rows.length - 1].n;
  }
  return out.reverse();
}

/** The agent's lines after number `after` that pass the filter, oldest first (at most `limit`). */
export function linesAfter(db: IndexDb, agent: number, after: number, filter: EntryFilter = {}, limit = PAGE): { lines: NumberedLine[]; last: number } {
  const { where, params } = filterSql(filter);
  const rows = db
    .prepare(
      `SELECT l.n, l.seq, l.first_seq, l.ts, l.type, l.level, f.text FROM lines l JOIN lines_fts f ON f.rowid = l.id
       WHERE l.agent = ? AND l.n > ? ${where} ORDER BY l.n LIMIT ?`,
    )
    .all(agent, after, ...params, limit) as LineRow[];
  const lines = rows.filter((r) => filter.regex === undefined || filter.regex.test(r.text)).map(toLine);
  return { lines, last: rows.length > 0 ? rows[rows.length - 1].n : after };
}

/**
 * What the agent's screen shows now that is not a final line yet (still changing, or not yet
 * standing long enough): the lines its run would end with if it ended now. A tail shows them
 * after the final lines, so the newest output of a live agent is never missing.
 */
export function provisionalLines(db: IndexDb, agent: number, classify: Classifier): LineRecord[] {
  const saved = db.prepare('SELECT state FROM screen_states WHERE agent = ?').get(agent) as { state: string } | undefined;
  if (saved === undefined) return [];
  const state = JSON.parse(saved.state) as ScreenState;
  const maker = ScreenLineMaker.restore(state);
  try {
    maker.endRun(state.time);
    return maker.take().map((line) => lineRecord(line, classify));
  } finally {
    maker.dispose();
  }
}

/** The number of the agent's last line (0 when none). */
export function lastLineNumber(db: IndexDb, agent: number): number {
  return (db.prepare('SELECT coalesce(max(n), 0) AS n FROM lines WHERE agent = ?').get(agent) as { n: number }).n;
}

/**
 * A line in the shape of a log entry, for the channels and formats that carry entries: its
 * sequence is the entry after which the line showed, `content` its text, and
 * `metadata.first_sequence` the first entry that wrote into it.
 */
export function lineAsEntry(line: LineRecord, agentId: string): LogEntry {
  return {
    timestamp: formatTimestamp(line.time),
    agent_id: agentId,
    type: line.type,
    sequence: line.sequence,
    content: line.text,
    metadata: { level: line.level, first_sequence: line.firstSequence },
  };
}

function filterSql(filter: EntryFilter): { where: string; params: number[] } {
  const clauses: string[] = [];
  if (filter.types !== undefined && filter.types.length > 0) {
    clauses.push(`l.type IN (${filter.types.map((t) => ENTRY_TYPES.indexOf(t)).join(',')})`);
  }
  if (filter.minLevel !== undefined) clauses.push(`l.level >= ${LEVELS.indexOf(filter.minLevel)}`);
  return { where: clauses.map((c) => `AND ${c}`).join(' '), params: [] };
}

function toLine(r: LineRow): NumberedLine {
  return { n: r.n, sequence: r.seq, firstSequence: r.first_seq, time: r.ts, type: ENTRY_TYPES[r.type], level: LEVELS[r.level], text: r.text };
}
