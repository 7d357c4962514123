/**
 * `loupe store prune --older-than 30d --archive DIR`: moves the month partitions that ended
 * before the cut-off out of the store, into gzipped JSONL archives in Loupe's own format, then
 * drops them (SPEC §16).
 *
 * - Each agent's entries of a month go to
 *   `DIR/<machine>/<root as one folder name>/<task>/<agent>_stream.jsonl.<YYYYMM01>T000000.gz`,
 *   the entries' JSONL lines exactly as they were shipped, in sequence order: a rotated log that
 *   `loupe tail FILE` and `loupe replay FILE` read like any other.
 * - An archive is written to a temporary name, flushed to disk and renamed before anything is
 *   dropped, so a crash at any point loses nothing: running prune again rewrites the same files
 *   and drops what is left. Screen lines are derived data and are dropped with their month.
 * - Agents keep their shipped position, so shipping never sends pruned entries again.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type pg from 'pg';

/** Rows read per round trip while archiving. */
const PAGE_ROWS = 5000;

export interface PrunedMonth {
  /** `YYYY-MM`. */
  month: string;
  entries: number;
  agents: number;
  files: string[];
}

/** The month partitions (`YYYYMM`) that end at or before `cutoffUs`, oldest first. */
async function prunableMonths(client: pg.Client, cutoffUs: number): Promise<string[]> {
  const { rows } = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = 'loupe_entries' ORDER BY 1`,
  );
  const cutoff = new Date(Math.floor(cutoffUs / 1000));
  return rows
    .map((r) => /^loupe_entries_(\d{6})$/.exec(r.relname)?.[1])
    .filter((m): m is string => m !== undefined)
    // The 1-based month as a 0-based index is the next month: where the partition ends.
    .filter((m) => Date.UTC(Number(m.slice(0, 4)), Number(m.slice(4))) <= cutoff.getTime());
}

/**
 * The archive file of one agent's month, always inside `dir`: the names come from the store, which
 * any shipping machine writes, so each becomes one safe folder or file name (no `/`, never `.` or `..`).
 */
export function archiveFile(dir: string, a: { machine: string; root: string; task_id: string; agent_id: string }, month: string): string {
  const root = safeName(a.root.replace(/^\/+/, ''));
  return path.join(dir, safeName(a.machine), root, safeName(a.task_id), `${safeName(a.agent_id)}_stream.jsonl.${month}01T000000.gz`);
}

function safeName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_');
  return /^\.*$/.test(safe) ? `_${safe}` : safe;
}

/** Archives and drops every month partition that ended before `cutoffUs`. */
export async function pruneStore(client: pg.Client, options: { cutoffUs: number; archiveDir: string; onMonth?: (m: PrunedMonth) => void }): Promise<PrunedMonth[]> {
  const done: PrunedMonth[] = [];
  for (const month of await prunableMonths(client, options.cutoffUs)) {
    const table = `loupe_entries_${month}`;
    const { rows: agents } = await client.query<{ id: string; machine: string; root: string; task_id: string; agent_id: string }>(
      `SELECT a.id, a.machine, a.root, a.task_id, a.agent_id FROM loupe_agents a WHERE EXISTS (SELECT 1 FROM ${table} e WHERE e.agent = a.id) ORDER BY a.id`,
    );
    const result: PrunedMonth = { month: `${month.slice(0, 4)}-${month.slice(4)}`, entries: 0, agents: agents.length, files: [] };
    for (const a of agents) {
      const file = archiveFile(options.archiveDir, a, month);
      result.entries += await writeArchive(client, table, Number(a.id), file);
      result.files.push(file);
    }
    await client.query('BEGIN');
    try {
      for (const parent of ['loupe_entries', 'loupe_lines']) {
        await client.query(`ALTER TABLE ${parent} DETACH PARTITION ${parent}_${month}`);
        await client.query(`DROP TABLE ${parent}_${month}`);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
    options.onMonth?.(result);
    done.push(result);
  }
  return done;
}

/** Writes one agent's entries of a partition to `file` (via a temporary file, flushed); returns how many. */
async function writeArchive(client: pg.Client, table: string, agent: number, file: string): Promise<number> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const gzip = zlib.createGzip();
  const out = fs.createWriteStream(tmp);
  const finished = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    gzip.on('error', reject);
  });
  gzip.pipe(out);
  let count = 0;
  let after = 0;
  for (;;) {
    const { rows } = await client.query<{ seq: string; line: string }>(
      `SELECT seq, line FROM ${table} WHERE agent = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE_ROWS}`,
      [agent, after],
    );
    for (const r of rows) {
      if (!gzip.write(`${r.line}\n`)) await new Promise((resolve) => gzip.once('drain', resolve));
    }
    count += rows.length;
    if (rows.length < PAGE_ROWS) break;
    after = Number(rows[rows.length - 1]!.seq);
  }
  gzip.end();
  await finished;
  const fd = fs.openSync(tmp, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return count;
}
