/**
 * The one search API over a root's index (SPEC §6), used by the CLI, IPC and the web view.
 * It searches screen lines (SPEC §12): the text the terminal showed, each line once, plus one
 * line per system entry; a hit's sequence is the entry after which its line showed that text.
 *
 * Text is an ASCII-case-insensitive substring: it runs as `LIKE '%text%'`, which FTS5's trigram
 * index answers for text of 3+ characters and then checks against the stored text, so the
 * user's characters never reach the FTS5 query syntax (`- " AND NEAR * '` are just characters).
 * Regexes run in linear time (electron/core/regex), on the entries holding the regex's required
 * literal when it has one. Hits come newest first (or oldest first) without sorting them all,
 * because entry ids are timestamps (see electron/core/index/schema.ts).
 */
import {
  ENTRY_TYPES,
  LEVELS,
  SEARCH_SOURCES,
  checkAgentId,
  checkTaskId,
  formatTimestamp,
  nowMicros,
  type EntryType,
  type Level,
} from '../../../shared/entry.js';
import type { IndexDb } from '../index/schema.js';
import { compileUserRegex, type UserRegex } from '../regex/userRegex.js';
import { containsInOrder, literalSequence, requiredLiterals } from './regexPrefilter.js';
import { parseTimeBound } from './timeBound.js';
import type { SearchQuery } from '../../../shared/ipc.js';
import { AGENT_TRANSCRIPT_FORMATS } from '../transcripts/session.js';

/** The query shape is the contract's: the CLI, IPC and the web view all send it. */
export type { SearchQuery };

export interface SearchHit {
  root: string;
  taskId: string;
  agentId: string;
  sequence: number;
  timestamp: string;
  type: EntryType;
  level: Level;
  /** The screen line's text. */
  text: string;
  /** [start, end) UTF-16 ranges of the matches in `text`. */
  matches: [number, number][];
  /** Where the raw entry is: the JSONL file (uncompressed offsets for .gz), byte offset and length. */
  file: string;
  offset: number;
  length: number;
}

export interface HistogramBucket {
  /** ISO 8601 start of the bucket. */
  start: string;
  count: number;
}

export interface SearchCounts {
  total: number;
  byType: Partial<Record<EntryType, number>>;
  byLevel: Partial<Record<Level, number>>;
  histogram: { bucketMs: number; buckets: HistogramBucket[] };
}

export interface SearchResult extends SearchCounts {
  hits: SearchHit[];
}

export const DEFAULT_LIMIT = 100;
/** A page larger than this is refused: hits carry their full text. */
export const MAX_LIMIT = 10_000;
/** At most this many matches are located in one hit's text for highlighting. */
const MAX_MATCHES_PER_HIT = 100;
/** The histogram has at most this many buckets; the bucket size is the smallest round size that fits. */
const MAX_BUCKETS = 120;
/** Round bucket sizes, in milliseconds. */
const BUCKET_SIZES_MS = [
  1, 10, 100, 1000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000,
  43_200_000, 86_400_000, 604_800_000, 2_592_000_000, 31_536_000_000,
];
/** Entry ids are timestamps nudged forward on collision; this bounds the nudge for range hints. */
const ID_NUDGE_SLACK_US = 60_000_000;

/** A prepared search: the SQL for the candidates, plus the regex that filters them in JS. */
interface Plan extends TextMatcher {
  from: string;
  where: string[];
  params: unknown[];
  order: string;
  empty: boolean;
  since: number | null;
  until: number | null;
}

interface HitRow {
  id: number;
  agent: number;
  seq: number;
  ts: number;
  type: number;
  level: number;
  file: number;
  offset: number;
  length: number;
  text: string;
}

/** Runs a search: one page of hits, plus (unless `counts` is false) the total, distributions and histogram. */
export function searchIndex(db: IndexDb, query: SearchQuery, options: { now?: number; counts?: boolean } = {}): SearchResult {
  const hits = findHits(db, query, options.now);
  if (options.counts === false) return { total: hits.length, hits, byType: {}, byLevel: {}, histogram: { bucketMs: 0, buckets: [] } };
  return { ...countMatches(db, query, options.now), hits };
}

/** One page of hits, in time order. */
export function findHits(db: IndexDb, query: SearchQuery, now = nowMicros()): SearchHit[] {
  const plan = planSearch(db, query, now);
  const limit = checkPage(query.limit ?? DEFAULT_LIMIT, 'limit', MAX_LIMIT);
  const offset = checkPage(query.offset ?? 0, 'offset', Number.MAX_SAFE_INTEGER);
  if (plan.empty || limit === 0) return [];
  const sql = `SELECT e.id, e.agent, e.seq, e.ts, e.type, e.level, e.file, e.offset, e.length, f.text
    FROM ${plan.from} WHERE ${plan.where.join(' AND ') || '1'} ORDER BY ${plan.order}`;
  const names = new Names(db);
  if (plan.regex === null) {
    const rows = db.prepare(`${sql} LIMIT ? OFFSET ?`).all(...plan.params, limit, offset) as HitRow[];
    return rows.map((r) => toHit(r, names, plan));
  }
  const hits: SearchHit[] = [];
  let skipped = 0;
  for (const r of db.prepare(sql).iterate(...plan.params) as IterableIterator<HitRow>) {
    if (!matchesRegex(plan, r.text)) continue;
    if (skipped < offset) {
      skipped++;
      continue;
    }
    hits.push(toHit(r, names, plan));
    if (hits.length >= limit) break; // leaving the loop ends the statement
  }
  return hits;
}

/** The total, type and level distributions, and the timeline histogram of every match. */
export function countMatches(db: IndexDb, query: SearchQuery, now = nowMicros()): SearchCounts {
  const plan = planSearch(db, query, now);
  const range = histogramRange(db, plan);
  const bucketUs = range.bucketMs * 1000;
  const nBuckets = range.bucketMs === 0 ? 0 : Math.floor((range.hi - range.lo) / bucketUs) + 1;
  const buckets = new Array<number>(nBuckets).fill(0);
  const byType: Partial<Record<EntryType, number>> = {};
  const byLevel: Partial<Record<Level, number>> = {};
  let total = 0;
  const add = (type: number, level: number, bucket: number, n: number) => {
    total += n;
    const t = ENTRY_TYPES[type];
    const l = LEVELS[level];
    byType[t] = (byType[t] ?? 0) + n;
    byLevel[l] = (byLevel[l] ?? 0) + n;
    if (nBuckets > 0) buckets[Math.min(nBuckets - 1, Math.max(0, Math.floor(bucket)))] += n;
  };
  if (!plan.empty) {
    const where = plan.where.join(' AND ') || '1';
    if (plan.regex === null) {
      const sql = `SELECT e.type, e.level, CAST((e.ts - ?) / ? AS INTEGER) AS bucket, count(*) AS n FROM ${plan.from} WHERE ${where} GROUP BY 1, 2, 3`;
      for (const r of db.prepare(sql).all(range.lo, Math.max(1, bucketUs), ...plan.params) as {
        type: number;
        level: number;
        bucket: number;
        n: number;
      }[]) {
        add(r.type, r.level, r.bucket, r.n);
      }
    } else {
      const sql = `SELECT e.type, e.level, e.ts, f.text FROM ${plan.from} WHERE ${where}`;
      for (const r of db.prepare(sql).iterate(...plan.params) as IterableIterator<{ type: number; level: number; ts: number; text: string }>) {
        if (matchesRegex(plan, r.text)) add(r.type, r.level, bucketUs > 0 ? Math.floor((r.ts - range.lo) / bucketUs) : 0, 1);
      }
    }
  }
  return {
    total,
    byType,
    byLevel,
    histogram: {
      bucketMs: range.bucketMs,
      buckets: buckets.map((count, i) => ({ start: formatTimestamp(range.lo + i * bucketUs), count })),
    },
  };
}

function planSearch(db: IndexDb, query: SearchQuery, now: number): Plan {
  const where: string[] = [];
  const params: unknown[] = [];
  const since = query.since !== undefined && query.since !== '' ? parseTimeBound(query.since, now) : null;
  const until = query.until !== undefined && query.until !== '' ? parseTimeBound(query.until, now) : null;
  const { regex, literals, substrings, needle } = textMatcher(query);
  // FTS drives the scan when its trigrams can narrow it; otherwise the entries table does.
  const ftsDriven = substrings.length > 0 && [...substrings[0]].length >= 3;
  const key = ftsDriven ? 'f.rowid' : 'e.id';
  const from = ftsDriven
    ? 'lines_fts f CROSS JOIN lines e ON e.id = f.rowid'
    : 'lines e CROSS JOIN lines_fts f ON f.rowid = e.id';
  for (const substring of substrings) {
    if (/[%_]/.test(substring)) {
      // LIKE's wildcards as `_` still narrow by the other trigrams; the escaped pattern then checks them exactly.
      where.push('f.text LIKE ?', "f.text LIKE ? ESCAPE '\\'");
      params.push(`%${substring.replace(/[%_]/g, '_')}%`, `%${substring.replace(/[\\%_]/g, '\\$&')}%`);
    } else {
      where.push('f.text LIKE ?');
      params.push(`%${substring}%`);
    }
  }
  if (since !== null) {
    where.push(`${key} >= ?`, 'e.ts >= ?');
    params.push(since, since);
  }
  if (until !== null) {
    where.push(`${key} <= ?`, 'e.ts <= ?');
    params.push(until + ID_NUDGE_SLACK_US, until);
  }
  if (query.types !== undefined && query.types.length > 0) {
    const codes = query.types.map((t) => checkMember(t, ENTRY_TYPES, 'type'));
    where.push(`e.type IN (${codes.join(',')})`);
  }
  if (query.levels !== undefined && query.levels.length > 0) {
    const codes = query.levels.map((l) => checkMember(l, LEVELS, 'level'));
    where.push(`e.level IN (${codes.join(',')})`);
  }
  let empty = false;
  if (query.agentId !== undefined || query.taskId !== undefined) {
    const agents = db
      .prepare(
        `SELECT a.id FROM agents a JOIN tasks t ON t.id = a.task WHERE (@agentId IS NULL OR a.agent_id = @agentId) AND (@taskId IS NULL OR t.task_id = @taskId)`,
      )
      .all({
        agentId: query.agentId === undefined ? null : checkAgentId(query.agentId),
        taskId: query.taskId === undefined ? null : checkTaskId(query.taskId),
      }) as { id: number }[];
    if (agents.length === 0) empty = true;
    else where.push(`e.agent IN (${agents.map((a) => a.id).join(',')})`);
  }
  if (query.source !== undefined) {
    checkMember(query.source, SEARCH_SOURCES, 'source');
    // An agent is a transcript when its runs were imported from one (one task per session).
    const formats = AGENT_TRANSCRIPT_FORMATS.map((f) => `'${f}'`).join(',');
    where.push(`e.agent ${query.source === 'transcript' ? 'IN' : 'NOT IN'} (SELECT agent FROM runs WHERE imported IN (${formats}))`);
  }
  if (since !== null && until !== null && since > until) empty = true;
  const order = `${key} ${query.sort === 'asc' ? 'ASC' : 'DESC'}`;
  return { from, where, params, order, regex, literals, substrings, needle, empty, since, until };
}

/** How a query's text matches lines, whatever holds them (the local index or the store). */
export interface TextMatcher {
  regex: UserRegex | null;
  /** Literals every regex match holds in this order: checked before the regex, which costs far more. */
  literals: string[] | null;
  /** Every candidate line contains each of these (ASCII case folded for substring search). */
  substrings: string[];
  /** The substring searched for, when it is not a regex. */
  needle: string | null;
}

export function textMatcher(query: SearchQuery): TextMatcher {
  const text = (query.text ?? '').replace(/\0/g, '');
  if (text === '') return { regex: null, literals: null, substrings: [], needle: null };
  if (query.regex !== true) return { regex: null, literals: null, substrings: [text], needle: text };
  const ignoreCase = query.ignoreCase ?? false;
  return {
    regex: compileUserRegex(text, { ignoreCase }),
    literals: literalSequence(text, ignoreCase),
    substrings: requiredLiterals(text, ignoreCase),
    needle: null,
  };
}

/** Whether a candidate line matches the matcher's regex (true when it has none). */
export function matchesRegex(m: TextMatcher, text: string): boolean {
  return m.regex === null || ((m.literals === null || containsInOrder(text, m.literals)) && m.regex.test(text));
}

/** The histogram's span: the query's time range, or the whole index's, in round buckets. */
function histogramRange(db: IndexDb, plan: Plan): { lo: number; hi: number; bucketMs: number } {
  let lo = plan.since;
  let hi = plan.until;
  if (lo === null || hi === null) {
    // Ids are nudged timestamps, so the id extremes are the time extremes, read from the B-tree's ends.
    const ends = db.prepare('SELECT (SELECT ts FROM lines ORDER BY id LIMIT 1) AS lo, (SELECT ts FROM lines ORDER BY id DESC LIMIT 1) AS hi').get() as {
      lo: number | null;
      hi: number | null;
    };
    if (ends.lo === null || ends.hi === null) return { lo: 0, hi: 0, bucketMs: 0 };
    lo ??= ends.lo;
    hi ??= ends.hi;
  }
  return histogramSpan(lo, hi);
}

/** Round buckets over [lo, hi] (µs): the smallest round size that gives at most MAX_BUCKETS. */
export function histogramSpan(lo: number, hi: number): { lo: number; hi: number; bucketMs: number } {
  if (hi < lo) return { lo, hi: lo, bucketMs: 0 };
  const spanMs = (hi - lo) / 1000;
  const bucketMs = BUCKET_SIZES_MS.find((b) => spanMs / b < MAX_BUCKETS) ?? BUCKET_SIZES_MS[BUCKET_SIZES_MS.length - 1];
  const bucketUs = bucketMs * 1000;
  return { lo: Math.floor(lo / bucketUs) * bucketUs, hi, bucketMs };
}

function toHit(r: HitRow, names: Names, plan: Plan): SearchHit {
  const agent = names.agent(r.agent);
  return {
    root: agent.root,
    taskId: agent.taskId,
    agentId: agent.agentId,
    sequence: r.seq,
    timestamp: formatTimestamp(r.ts),
    type: ENTRY_TYPES[r.type],
    level: LEVELS[r.level],
    text: r.text,
    matches: matchRanges(r.text, plan.regex, plan.needle),
    file: names.file(r.file),
    offset: r.offset,
    length: r.length,
  };
}

/** Where a regex, or else a substring (`needle`), matches in a hit's text, for highlighting. */
export function matchRanges(text: string, regex: UserRegex | null, needle: string | null): [number, number][] {
  if (regex !== null) {
    return regex.findAll(text, MAX_MATCHES_PER_HIT).filter((m) => m.length > 0).map((m) => [m.index, m.index + m.length]);
  }
  if (needle === null) return [];
  const haystack = lowerAscii(text);
  needle = lowerAscii(needle);
  const ranges: [number, number][] = [];
  for (let i = haystack.indexOf(needle); i >= 0 && ranges.length < MAX_MATCHES_PER_HIT; i = haystack.indexOf(needle, i + needle.length)) {
    ranges.push([i, i + needle.length]);
  }
  return ranges;
}

/** Lower-cases ASCII letters only, as SQLite's LIKE compares them; the length never changes. */
function lowerAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Resolves agent and file ids to names, once per id per search. */
class Names {
  private readonly agents = new Map<number, { root: string; taskId: string; agentId: string }>();
  private readonly files = new Map<number, string>();
  constructor(private readonly db: IndexDb) {}

  agent(id: number) {
    let a = this.agents.get(id);
    if (a === undefined) {
      const row = this.db
        .prepare('SELECT r.path AS root, t.task_id AS taskId, a.agent_id AS agentId FROM agents a JOIN tasks t ON t.id = a.task JOIN roots r ON r.id = t.root WHERE a.id = ?')
        .get(id) as { root: string; taskId: string; agentId: string };
      a = row;
      this.agents.set(id, a);
    }
    return a;
  }

  file(id: number): string {
    let f = this.files.get(id);
    if (f === undefined) {
      f = (this.db.prepare('SELECT path FROM files WHERE id = ?').get(id) as { path: string } | undefined)?.path ?? '';
      this.files.set(id, f);
    }
    return f;
  }
}

/** A bad filter value the user can fix. */
export class SearchQueryError extends Error {
  override name = 'SearchQueryError';
}

export function checkMember<T extends string>(value: string, list: readonly T[], what: string): number {
  const i = (list as readonly string[]).indexOf(value);
  if (i < 0) throw new SearchQueryError(`unknown ${what} ${JSON.stringify(value)}: use one of ${list.join(', ')}`);
  return i;
}

export function checkPage(value: number, what: string, max: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new SearchQueryError(`--${what} must be a whole number from 0 to ${max}, not ${value}`);
  }
  return value;
}
