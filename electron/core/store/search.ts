/**
 * Search over the PostgreSQL store (`loupe search --store URL`), with the semantics of local
 * search (electron/core/search/query.ts): the same screen lines, ASCII-case-insensitive
 * substrings with every character literal, RE2 regexes run in linear time in JS on the lines that
 * hold the regex's required literals, the same filters, totals, distributions and histogram.
 *
 * A substring runs as `text ILIKE pattern` (answered by the `pg_trgm` GIN index) and then exactly
 * with ASCII-only case folding (`lower` under the C collation), because ILIKE may fold more
 * letters than ASCII (`K`, the Kelvin sign, is a `k` to it).
 * Lines are ordered by `sort_key` (the local index's time-ordered line id), then agent and line
 * number, as the local index orders them.
 */
import type pg from 'pg';
import { ENTRY_TYPES, LEVELS, checkAgentId, checkTaskId, formatTimestamp, nowMicros, type EntryType, type Level } from '../../../shared/entry.js';
import {
  DEFAULT_LIMIT,
  MAX_LIMIT,
  checkMember,
  checkPage,
  histogramSpan,
  matchRanges,
  matchesRegex,
  textMatcher,
  type SearchCounts,
  type SearchHit,
  type SearchQuery,
  type TextMatcher,
} from '../search/query.js';
import { parseTimeBound } from '../search/timeBound.js';

/** A hit from the store: a local hit's fields, with the machine, and without a local file. */
export type StoreSearchHit = Omit<SearchHit, 'file' | 'offset' | 'length'> & { machine: string };

export interface StoreSearchResult extends SearchCounts {
  hits: StoreSearchHit[];
}

/** The store's own filter on top of the contract's query. */
export interface StoreSearchQuery extends SearchQuery {
  machine?: string;
}

/** Candidate rows fetched per round trip when a regex filters them in JS. */
const REGEX_PAGE_ROWS = 5000;

interface Plan extends TextMatcher {
  where: string[];
  params: unknown[];
  empty: boolean;
  since: number | null;
  until: number | null;
}

interface HitRow {
  machine: string;
  root: string;
  task_id: string;
  agent_id: string;
  agent: string;
  n: string;
  sort_key: string;
  seq: string;
  us: string;
  type: string;
  level: string;
  text: string;
}

const US = "(extract(epoch from l.ts) * 1000000)::bigint";
const HIT_COLUMNS = `a.machine, a.root, a.task_id, a.agent_id, l.agent, l.n, l.sort_key, l.seq, ${US} AS us, l.type, l.level, l.text`;
const FROM = 'loupe_lines l JOIN loupe_agents a ON a.id = l.agent';

export async function searchStore(client: pg.Client, query: StoreSearchQuery, now = nowMicros()): Promise<StoreSearchResult> {
  const plan = planSearch(query, now);
  const limit = checkPage(query.limit ?? DEFAULT_LIMIT, 'limit', MAX_LIMIT);
  const offset = checkPage(query.offset ?? 0, 'offset', Number.MAX_SAFE_INTEGER);
  const desc = query.sort !== 'asc';
  const hits: StoreSearchHit[] = [];
  if (!plan.empty && limit > 0) {
    const order = desc ? 'l.sort_key DESC, l.agent DESC, l.n DESC' : 'l.sort_key, l.agent, l.n';
    if (plan.regex === null) {
      const { rows } = await client.query<HitRow>(
        `SELECT ${HIT_COLUMNS} FROM ${FROM} WHERE ${whereOf(plan)} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`,
        plan.params,
      );
      for (const r of rows) hits.push(toHit(r, plan));
    } else {
      let skipped = 0;
      for await (const r of candidates(client, plan, desc)) {
        if (!matchesRegex(plan, r.text)) continue;
        if (skipped++ < offset) continue;
        hits.push(toHit(r, plan));
        if (hits.length >= limit) break;
      }
    }
  }
  return { ...(await countMatches(client, plan)), hits };
}

async function countMatches(client: pg.Client, plan: Plan): Promise<SearchCounts> {
  const byType: Partial<Record<EntryType, number>> = {};
  const byLevel: Partial<Record<Level, number>> = {};
  let total = 0;
  if (plan.empty) return { total, byType, byLevel, histogram: { bucketMs: 0, buckets: [] } };
  let lo = plan.since;
  let hi = plan.until;
  if (lo === null || hi === null) {
    const { rows } = await client.query<{ lo: string | null; hi: string | null }>(
      `SELECT (extract(epoch from min(ts)) * 1000000)::bigint AS lo, (extract(epoch from max(ts)) * 1000000)::bigint AS hi FROM loupe_lines`,
    );
    if (rows[0]!.lo === null) return { total, byType, byLevel, histogram: { bucketMs: 0, buckets: [] } };
    lo ??= Number(rows[0]!.lo);
    hi ??= Number(rows[0]!.hi);
  }
  const range = histogramSpan(lo, hi);
  const bucketUs = range.bucketMs * 1000;
  const nBuckets = range.bucketMs === 0 ? 0 : Math.floor((range.hi - range.lo) / bucketUs) + 1;
  const buckets = new Array<number>(nBuckets).fill(0);
  const add = (type: EntryType, level: Level, us: number, n: number) => {
    total += n;
    byType[type] = (byType[type] ?? 0) + n;
    byLevel[level] = (byLevel[level] ?? 0) + n;
    if (nBuckets > 0) buckets[Math.min(nBuckets - 1, Math.max(0, Math.floor((us - range.lo) / bucketUs)))]! += n;
  };
  if (plan.regex === null) {
    // Grouped by bucket start in µs, so the JS bucket arithmetic above places each group.
    const bucket = bucketUs > 0 ? `(${range.lo}::bigint + ((${US} - ${range.lo}) / ${bucketUs}) * ${bucketUs})` : '0';
    const { rows } = await client.query<{ type: EntryType; level: Level; b: string; n: string }>(
      `SELECT l.type, l.level, ${bucket} AS b, count(*) AS n FROM ${FROM} WHERE ${whereOf(plan)} GROUP BY 1, 2, 3`,
      plan.params,
    );
    for (const r of rows) add(r.type, r.level, Number(r.b), Number(r.n));
  } else {
    for await (const r of candidates(client, plan, false)) if (matchesRegex(plan, r.text)) add(r.type as EntryType, r.level as Level, Number(r.us), 1);
  }
  return {
    total,
    byType,
    byLevel,
    histogram: { bucketMs: range.bucketMs, buckets: buckets.map((count, i) => ({ start: formatTimestamp(range.lo + i * bucketUs), count })) },
  };
}

/** The candidate lines of a regex search in order, fetched a page at a time by keyset. */
async function* candidates(client: pg.Client, plan: Plan, desc: boolean): AsyncGenerator<HitRow> {
  let after: [string, string, string] | null = null;
  const cmp = desc ? '<' : '>';
  const order = desc ? 'l.sort_key DESC, l.agent DESC, l.n DESC' : 'l.sort_key, l.agent, l.n';
  for (;;) {
    const params = [...plan.params];
    let where = whereOf(plan);
    if (after !== null) {
      params.push(...after);
      const k = params.length;
      where += ` AND (l.sort_key, l.agent, l.n) ${cmp} ($${k - 2}::bigint, $${k - 1}::bigint, $${k}::bigint)`;
    }
    const { rows } = await client.query<HitRow>(`SELECT ${HIT_COLUMNS} FROM ${FROM} WHERE ${where} ORDER BY ${order} LIMIT ${REGEX_PAGE_ROWS}`, params);
    yield* rows;
    if (rows.length < REGEX_PAGE_ROWS) return;
    const last = rows[rows.length - 1]!;
    after = [last.sort_key, last.agent, last.n];
  }
}

function planSearch(query: StoreSearchQuery, now: number): Plan {
  const m = textMatcher(query);
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const since = query.since !== undefined && query.since !== '' ? parseTimeBound(query.since, now) : null;
  const until = query.until !== undefined && query.until !== '' ? parseTimeBound(query.until, now) : null;
  const caseless = m.regex === null || query.ignoreCase === true;
  for (const substring of m.substrings) {
    const pattern = `%${substring.replace(/[\\%_]/g, '\\$&')}%`;
    if (caseless) {
      where.push(`l.text ILIKE ${param(pattern)}`);
      // lower() under the C collation folds ASCII letters only, byte by byte: 10× faster than translate().
      if (m.regex === null) where.push(`lower(l.text COLLATE "C") LIKE ${param(asciiLower(pattern))}`);
    } else {
      where.push(`l.text LIKE ${param(pattern)}`);
    }
  }
  if (since !== null) where.push(`l.ts >= timestamptz 'epoch' + ${param(since)}::bigint * interval '1 microsecond'`);
  if (until !== null) where.push(`l.ts <= timestamptz 'epoch' + ${param(until)}::bigint * interval '1 microsecond'`);
  if (query.types !== undefined && query.types.length > 0) {
    for (const t of query.types) checkMember(t, ENTRY_TYPES, 'type');
    where.push(`l.type = ANY(${param(query.types)}::text[])`);
  }
  if (query.levels !== undefined && query.levels.length > 0) {
    for (const l of query.levels) checkMember(l, LEVELS, 'level');
    where.push(`l.level = ANY(${param(query.levels)}::text[])`);
  }
  if (query.agentId !== undefined) where.push(`a.agent_id = ${param(checkAgentId(query.agentId))}`);
  if (query.taskId !== undefined) where.push(`a.task_id = ${param(checkTaskId(query.taskId))}`);
  if (query.machine !== undefined) where.push(`a.machine = ${param(query.machine)}`);
  return { ...m, where, params, empty: since !== null && until !== null && since > until, since, until };
}

function whereOf(plan: Plan): string {
  return plan.where.join(' AND ') || 'true';
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
}

function toHit(r: HitRow, plan: Plan): StoreSearchHit {
  return {
    machine: r.machine,
    root: r.root,
    taskId: r.task_id,
    agentId: r.agent_id,
    sequence: Number(r.seq),
    timestamp: formatTimestamp(Number(r.us)),
    type: r.type as EntryType,
    level: r.level as Level,
    text: r.text,
    matches: matchRanges(r.text, plan.regex, plan.needle),
  };
}
