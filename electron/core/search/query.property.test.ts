/**
 * Property test: on randomized logs (many agents and tasks, ANSI, Unicode, rotated and gzipped
 * files), every query's hits and total equal a brute-force scan of the screen lines (SPEC §12)
 * with the same filters; and every valid JSONL line is indexed exactly once. The same queries
 * run against the PostgreSQL store the logs were shipped into (SPEC §16: same semantics).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENTRY_TYPES,
  LEVELS,
  entryLevel,
  formatTimestamp,
  parseEntryLine,
  parseTimestamp,
  serializeEntry,
  type EntryType,
  type Level,
  type LogEntry,
} from '../../../shared/entry.js';
import { Indexer } from '../index/indexer.js';
import { compileUserRegex } from '../regex/userRegex.js';
import pg from 'pg';
import { LocalLogFollower } from '../ship/follow.js';
import { searchStore } from '../store/search.js';
import { PostgresSink } from '../store/shipSink.js';
import { startPostgres, type TestPostgres } from '../store/test-support.js';
import { searchIndex, type SearchQuery } from './query.js';

const TASKS = ['TASK-20260101-120000-0a1b2c3d', 'TASK-20260102-090000-deadbeef'];
const AGENTS = ['claude', 'codex.1', 'aider_2', 'gemini-x'];
const BASE_US = Date.UTC(2026, 0, 1, 12) * 1000;
const WORDS = ['error', 'Error:', 'warning', 'test', 'passed', 'Traceback', 'src/main.ts', '100%', 'a_b', 'x-y', '"quoted"', "it's", 'NEAR', 'AND', 'OR', '*', '日本語', 'café', 'CAFÉ', 'ſK', '😀', 'ok', 'GET /api', 'done'];
const ANSI = ['\u001b[31m', '\u001b[0m', '\u001b[1;32m', '\u001b]0;title\u0007', '\u001b[2K'];

let seed = 12345;
function random(): number {
  seed = (seed * 48271) % 2147483647;
  return seed / 2147483647;
}
function pick<T>(list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

let root: string;
let ix: Indexer;
/** Every valid entry read back from the JSONL files (plain and gzipped). */
let jsonlEntries: number;
/** The brute-force view: every screen line the index holds, with its text, in id (time) order. */
let corpus: { task: string; agentId: string; sequence: number; ts: number; type: EntryType; level: Level; text: string }[];
const NOW = BASE_US + 3_600_000_000;

function randomContent(): string {
  const n = 1 + Math.floor(random() * 8);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (random() < 0.2) s += pick(ANSI);
    s += pick(WORDS) + (random() < 0.1 ? '\r' : ' ');
  }
  return s + Math.floor(random() * 1000);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-prop-'));
  let tick = 0;
  for (const task of TASKS) {
    const dir = path.join(root, '.agent-workspace', task, 'logs');
    fs.mkdirSync(dir, { recursive: true });
    for (const agent of AGENTS) {
      const count = 50 + Math.floor(random() * 250);
      const entries: LogEntry[] = [];
      for (let seq = 1; seq <= count; seq++) {
        // Unique timestamps across all agents, so time order is unambiguous.
        tick += 1 + Math.floor(random() * 5);
        const type = pick(ENTRY_TYPES);
        const level = random() < 0.3 ? pick(LEVELS) : undefined;
        const e: LogEntry = { timestamp: formatTimestamp(BASE_US + tick * 1_000_000 + Math.floor(random() * 1000)), agent_id: agent, type, sequence: seq, content: randomContent() };
        if (level !== undefined) e.metadata = { level };
        entries.push(e);
      }
      // Split into up to two rotated files (one maybe gzipped) and the live file.
      const cuts = [Math.floor(count / 3), Math.floor((2 * count) / 3)];
      const live = path.join(dir, `${agent}_stream.jsonl`);
      const parts = [entries.slice(0, cuts[0]), entries.slice(cuts[0], cuts[1]), entries.slice(cuts[1])];
      const stamps = ['20260101T120000001', '20260101T130000002'];
      parts.forEach((part, i) => {
        const text = part.map(serializeEntry).join('');
        if (i === 2) fs.writeFileSync(live, text);
        else if (random() < 0.5) fs.writeFileSync(`${live}.${stamps[i]}.gz`, zlib.gzipSync(text));
        else fs.writeFileSync(`${live}.${stamps[i]}`, text);
      });
    }
  }
  jsonlEntries = 0;
  for (const task of TASKS) {
    const dir = path.join(root, '.agent-workspace', task, 'logs');
    for (const name of fs.readdirSync(dir)) {
      const raw = fs.readFileSync(path.join(dir, name));
      const text = (name.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8');
      for (const line of text.split('\n')) {
        const parsed = line === '' ? null : parseEntryLine(line);
        if (parsed?.ok) jsonlEntries++;
      }
    }
  }
  ix = new Indexer(root);
  ix.indexPending();
  const rows = ix.db
    .prepare(
      `SELECT t.task_id AS task, a.agent_id AS agentId, l.seq AS sequence, l.ts, l.type, l.level, f.text
       FROM lines l JOIN lines_fts f ON f.rowid = l.id JOIN agents a ON a.id = l.agent JOIN tasks t ON t.id = a.task ORDER BY l.id`,
    )
    .all() as { task: string; agentId: string; sequence: number; ts: number; type: number; level: number; text: string }[];
  corpus = rows.map((r) => ({ ...r, type: ENTRY_TYPES[r.type], level: LEVELS[r.level] }));
});

afterAll(() => {
  ix.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

const lowerAscii = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function bruteForce(q: SearchQuery) {
  const regex = q.regex === true && q.text ? compileUserRegex(q.text, { ignoreCase: q.ignoreCase }) : null;
  const since = q.since !== undefined ? parseTimestamp(q.since) : -Infinity;
  const until = q.until !== undefined ? parseTimestamp(q.until) : Infinity;
  const hits = corpus.filter(({ task, agentId, ts, type, level, text }) => {
    if (q.text) {
      if (regex !== null ? !regex.test(text) : !lowerAscii(text).includes(lowerAscii(q.text))) return false;
    }
    if (q.types && !q.types.includes(type)) return false;
    if (q.levels && !q.levels.includes(level)) return false;
    if (q.agentId !== undefined && agentId !== q.agentId) return false;
    if (q.taskId !== undefined && task !== q.taskId) return false;
    return ts >= since && ts <= until;
  });
  return q.sort === 'asc' ? hits : hits.reverse();
}

function randomQuery(): SearchQuery {
  const q: SearchQuery = {};
  const r = random();
  if (r < 0.45) {
    // A substring of some entry's text: 1 to 12 characters, so short (LIKE scan) and trigram paths both run.
    const source = [...pick(corpus).text]; // by code point: nobody types half an emoji
    const start = Math.floor(random() * source.length);
    q.text = source.slice(start, start + 1 + Math.floor(random() * 12)).join('');
    if (random() < 0.3) q.text = q.text.toUpperCase();
  } else if (r < 0.7) {
    q.text = pick(['err.r', 'Trace\\w+', '^ok', '\\d{3}$', 'src/.*\\.ts', '日本', 'caf.', '(passed|failed)', 'x-y', 'GET /api']);
    q.regex = true;
    q.ignoreCase = random() < 0.3;
  } else if (r < 0.8) {
    q.text = pick(['- " AND NEAR * \'', '100%', 'a_b', '"quoted"', "it's", '😀']);
  }
  if (random() < 0.3) q.types = [pick(ENTRY_TYPES), pick(ENTRY_TYPES)];
  if (random() < 0.3) q.levels = [pick(LEVELS) as Level];
  if (random() < 0.3) q.agentId = pick(AGENTS);
  if (random() < 0.2) q.taskId = pick(TASKS);
  if (random() < 0.3) {
    const a = pick(corpus).ts;
    const b = pick(corpus).ts;
    q.since = formatTimestamp(Math.min(a, b));
    q.until = formatTimestamp(Math.max(a, b));
  }
  if (random() < 0.5) q.sort = 'asc';
  return q;
}

describe('search, against a brute-force scan of the JSONL', () => {
  it('indexed every valid line exactly once, and searches every screen line', () => {
    expect((ix.db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n).toBe(jsonlEntries);
    expect(corpus.length).toBeGreaterThan(jsonlEntries / 2);
    expect(searchIndex(ix.db, { limit: 0 }).total).toBe(corpus.length);
  });

  it('returns the same hits, in the same order, and the same totals and distributions for 300 random queries', async () => {
    await compareWithBruteForce(async (q) => searchIndex(ix.db, q, { now: NOW }));
  });
});

describe('search in the PostgreSQL store, against the same brute-force scan', () => {
  let server: TestPostgres;
  let client: pg.Client;
  beforeAll(async () => {
    server = await startPostgres();
    const sink = new PostgresSink(server.url, 'prop');
    const follower = new LocalLogFollower([root], sink);
    try {
      await follower.runOnce();
    } finally {
      follower.dispose();
      await sink.dispose();
    }
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    server?.cleanup();
  });

  it('holds every screen line', async () => {
    expect((await searchStore(client, { limit: 0 })).total).toBe(corpus.length);
  });

  it('returns the same hits, in the same order, and the same totals and distributions for 300 random queries', async () => {
    await compareWithBruteForce((q) => searchStore(client, q, NOW));
  });
});

type AnyResult = { total: number; hits: { taskId: string; agentId: string; sequence: number; matches: [number, number][] }[]; byType: object; byLevel: object; histogram: { buckets: { count: number }[] } };

async function compareWithBruteForce(search: (q: SearchQuery) => Promise<AnyResult>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const q = randomQuery();
    const expected = bruteForce(q);
    const limit = 1 + Math.floor(random() * 40);
    const offset = Math.floor(random() * 10);
    const result = await search({ ...q, limit, offset });
    const label = JSON.stringify(q);
    expect(result.total, label).toBe(expected.length);
    expect(
      result.hits.map((h) => `${h.taskId}/${h.agentId}#${h.sequence}`),
      label,
    ).toEqual(expected.slice(offset, offset + limit).map((e) => `${e.task}/${e.agentId}#${e.sequence}`));
    const byType: Partial<Record<EntryType, number>> = {};
    const byLevel: Partial<Record<Level, number>> = {};
    for (const e of expected) {
      byType[e.type] = (byType[e.type] ?? 0) + 1;
      byLevel[e.level] = (byLevel[e.level] ?? 0) + 1;
    }
    expect(result.byType, label).toEqual(byType);
    expect(result.byLevel, label).toEqual(byLevel);
    expect(result.histogram.buckets.reduce((n, b) => n + b.count, 0), label).toBe(expected.length);
    for (const hit of result.hits) {
      for (const [a, b] of hit.matches) expect(b, label).toBeGreaterThan(a);
      if (q.text && q.regex !== true) expect(hit.matches.length, label).toBeGreaterThan(0);
    }
  }
}
