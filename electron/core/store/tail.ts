/**
 * Tailing an agent from the PostgreSQL store (`loupe tail --store URL`): its last screen lines
 * or raw entries, filtered like a local tail, and following new ones as they are shipped.
 *
 * Following uses LISTEN/NOTIFY only as the wake-up (listen.ts): on each, and on a slow timer in
 * case one was missed, it reads everything after the last line or sequence it printed. After a
 * lost connection it reconnects with backoff and reads from there again, so a dropped
 * notification or connection loses nothing and repeats nothing.
 */
import type pg from 'pg';
import { parseEntryLine, type EntryType, type Level } from '../../../shared/entry.js';
import { matchesFilter, matchesLine, type EntryFilter } from '../log/filter.js';
import type { ReadEntry } from '../log/reader.js';
import type { LineRecord } from '../screen/lineRecord.js';
import { listenStore } from './listen.js';

/** Rows read per round trip when a filtered tail reads back, or a follower catches up. */
const PAGE_ROWS = 2000;

export class StoreAgentError extends Error {
  override name = 'StoreAgentError';
}

export interface StoreAgentRef {
  id: number;
  machine: string;
  taskId: string;
  agentId: string;
}

/** The agent's row: the newest task holding it unless `taskId` is given; `machine` when several machines have it. */
export async function findStoreAgent(client: pg.Client, q: { agentId: string; taskId?: string; machine?: string }): Promise<StoreAgentRef> {
  const { rows } = await client.query<{ id: string; machine: string; task_id: string; agent_id: string }>(
    `SELECT id, machine, task_id, agent_id FROM loupe_agents
     WHERE agent_id = $1 AND ($2::text IS NULL OR task_id = $2) AND ($3::text IS NULL OR machine = $3) AND shipped_seq > 0
     ORDER BY task_id DESC`,
    [q.agentId, q.taskId ?? null, q.machine ?? null],
  );
  if (rows.length === 0) {
    throw new StoreAgentError(`no agent ${JSON.stringify(q.agentId)} in the store${q.machine ? ` on machine ${q.machine}` : ''}${q.taskId ? ` in task ${q.taskId}` : ''}; run \`loupe ls --store URL\` to list agents`);
  }
  const newest = rows.filter((r) => r.task_id === rows[0]!.task_id);
  if (newest.length > 1) {
    throw new StoreAgentError(`agent ${JSON.stringify(q.agentId)} of ${rows[0]!.task_id} is on several machines (${newest.map((r) => r.machine).join(', ')}): pick one with --machine`);
  }
  const r = rows[0]!;
  return { id: Number(r.id), machine: r.machine, taskId: r.task_id, agentId: r.agent_id };
}

/** A screen line as the store holds it, with its number among the agent's lines. */
export interface StoreLine extends LineRecord {
  n: number;
}

const LINE_COLUMNS = "n, seq, first_seq, (extract(epoch from ts) * 1000000)::bigint AS us, type, level, text";

function toLine(r: { n: string; seq: string; first_seq: string; us: string; type: string; level: string; text: string }): StoreLine {
  return { n: Number(r.n), sequence: Number(r.seq), firstSequence: Number(r.first_seq), time: Number(r.us), type: r.type as EntryType, level: r.level as Level, text: r.text };
}

function toEntry(r: { seq: string; line: string }, agentId: string): ReadEntry {
  const parsed = parseEntryLine(r.line);
  if (!parsed.ok) throw new Error(`entry ${r.seq} of ${agentId} in the store is not a valid entry: ${parsed.error}`);
  return { entry: parsed.entry, file: '', offset: 0, length: r.line.length, line: r.line, lineNumber: null };
}

/** The last `n` screen lines that pass `filter`, oldest first; reads back page by page until it has them. */
export async function lastStoreLines(client: pg.Client, agent: StoreAgentRef, n: number, filter: EntryFilter): Promise<{ lines: StoreLine[]; lastN: number }> {
  const { rows: top } = await client.query<{ n: string }>('SELECT shipped_line AS n FROM loupe_agents WHERE id = $1', [agent.id]);
  const lastN = Number(top[0]?.n ?? 0);
  const kept: StoreLine[] = [];
  let before = lastN + 1;
  while (kept.length < n && before > 1) {
    const { rows } = await client.query(`SELECT ${LINE_COLUMNS} FROM loupe_lines WHERE agent = $1 AND n < $2 AND n <= $3 ORDER BY n DESC LIMIT ${PAGE_ROWS}`, [agent.id, before, lastN]);
    if (rows.length === 0) break;
    for (const r of rows) {
      const line = toLine(r);
      if (matchesLine(line, filter)) kept.push(line);
      if (kept.length >= n) break;
    }
    before = Number(rows[rows.length - 1].n);
  }
  return { lines: kept.reverse(), lastN };
}

/** The last `n` raw entries that pass `filter`, oldest first. */
export async function lastStoreEntries(client: pg.Client, agent: StoreAgentRef, n: number, filter: EntryFilter): Promise<{ entries: ReadEntry[]; lastSeq: number }> {
  const { rows: top } = await client.query<{ seq: string }>('SELECT shipped_seq AS seq FROM loupe_agents WHERE id = $1', [agent.id]);
  const lastSeq = Number(top[0]?.seq ?? 0);
  const kept: ReadEntry[] = [];
  let before = lastSeq + 1;
  while (kept.length < n && before > 1) {
    const { rows } = await client.query(`SELECT seq, line FROM loupe_entries WHERE agent = $1 AND seq < $2 AND seq <= $3 ORDER BY seq DESC LIMIT ${PAGE_ROWS}`, [agent.id, before, lastSeq]);
    if (rows.length === 0) break;
    for (const r of rows) {
      const e = toEntry(r, agent.agentId);
      if (matchesFilter(e.entry, filter)) kept.push(e);
      if (kept.length >= n) break;
    }
    before = Number(rows[rows.length - 1].seq);
  }
  return { entries: kept.reverse(), lastSeq };
}

/**
 * Up to `limit` raw entries from sequence `from` on, oldest first, and at most about `maxBytes`
 * of JSONL (always one entry when there is one); `more` when the store holds more after them.
 */
export async function storeEntriesFrom(
  client: pg.Client,
  agent: StoreAgentRef,
  from: number,
  limit: number,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<{ entries: ReadEntry[]; bytes: number; more: boolean }> {
  const { rows } = await client.query<{ seq: string; line: string }>(
    'SELECT seq, line FROM loupe_entries WHERE agent = $1 AND seq >= $2 ORDER BY seq LIMIT $3',
    [agent.id, from, limit + 1],
  );
  const entries: ReadEntry[] = [];
  let bytes = 0;
  for (const r of rows) {
    if (entries.length === limit || (entries.length > 0 && bytes >= maxBytes)) return { entries, bytes, more: true };
    entries.push(toEntry(r, agent.agentId));
    bytes += Buffer.byteLength(r.line) + 1;
  }
  return { entries, bytes, more: false };
}

export interface StoreFollowOptions {
  url: string;
  agent: StoreAgentRef;
  filter: EntryFilter;
  /** `lines`: screen lines after line `after`; `entries`: raw entries after sequence `after`. */
  kind: 'lines' | 'entries';
  after: number;
  onLines?: (lines: StoreLine[]) => void;
  onEntries?: (entries: ReadEntry[]) => void;
  /** A lost connection and the wait before the next try (for a message). */
  onReconnect?: (message: string, delayMs: number) => void;
  signal: AbortSignal;
}

/** Follows an agent in the store until `signal` aborts. */
export async function followStore(o: StoreFollowOptions): Promise<void> {
  let after = o.after;
  await listenStore({
    url: o.url,
    signal: o.signal,
    onReconnect: o.onReconnect,
    onWake: async (client, agents) => {
      if (agents === null || agents.has(o.agent.id)) after = await readAfter(client, o, after);
    },
  });
}

/** Hands over everything after `after`; returns the new position. */
async function readAfter(client: pg.Client, o: StoreFollowOptions, after: number): Promise<number> {
  for (;;) {
    if (o.kind === 'lines') {
      const { rows } = await client.query(`SELECT ${LINE_COLUMNS} FROM loupe_lines WHERE agent = $1 AND n > $2 ORDER BY n LIMIT ${PAGE_ROWS}`, [o.agent.id, after]);
      if (rows.length === 0) return after;
      const lines = rows.map(toLine);
      after = lines[lines.length - 1]!.n;
      const kept = lines.filter((l) => matchesLine(l, o.filter));
      if (kept.length > 0) o.onLines?.(kept);
    } else {
      const { rows } = await client.query(`SELECT seq, line FROM loupe_entries WHERE agent = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE_ROWS}`, [o.agent.id, after]);
      if (rows.length === 0) return after;
      const entries = rows.map((r) => toEntry(r, o.agent.agentId));
      after = entries[entries.length - 1]!.entry.sequence;
      const kept = entries.filter((e) => matchesFilter(e.entry, o.filter));
      if (kept.length > 0) o.onEntries?.(kept);
    }
  }
}
