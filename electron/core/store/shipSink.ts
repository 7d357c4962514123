/**
 * The PostgreSQL end of `loupe ship --to postgres://…`: a `LogSink` (electron/core/ship/follow.ts)
 * that writes each batch in one transaction: its entries and lines (multi-row INSERTs from a JSON array,
 * `ON CONFLICT DO NOTHING` on machine + root + task + agent + sequence), the agent's acknowledged
 * position, and one NOTIFY for readers that follow live.
 */
import os from 'node:os';
import type pg from 'pg';
import { entryLevel } from '../../../shared/entry.js';
import type { AgentKey, LogBatch, LogSink, ShipPosition } from '../ship/follow.js';
import { connectStore, describeStoreError } from './connection.js';
import { NOTIFY_CHANNEL, ensureMonthPartitions, ensureStoreSchema, monthOf } from './schema.js';

/** µs since the epoch as a timestamptz, exactly (a float of seconds would round the last digit). */
const TS_FROM_US = "(timestamptz 'epoch' + x.us * interval '1 microsecond')";

/**
 * A batch's rows travel as one JSON array of records (json_to_recordset): JSON.stringify is
 * native, where the driver escapes every element of a text array in JS (that cost the shipper
 * about a fifth of its CPU time with unnest over arrays).
 */
const INSERT_ENTRIES = `INSERT INTO loupe_entries (agent, seq, ts, type, level, line)
  SELECT $1, x.s, ${TS_FROM_US}, x.t, x.l, x.j
  FROM json_to_recordset($2::json) AS x (s bigint, us bigint, t text, l text, j text)
  ON CONFLICT DO NOTHING`;

const INSERT_LINES = `INSERT INTO loupe_lines (agent, n, sort_key, seq, first_seq, ts, type, level, text)
  SELECT $1, x.n, x.k, x.s, x.f, ${TS_FROM_US}, x.t, x.l, x.x
  FROM json_to_recordset($2::json) AS x (n bigint, k bigint, s bigint, f bigint, us bigint, t text, l text, x text)
  ON CONFLICT DO NOTHING`;

/** The machine name a shipper uses unless told otherwise. */
export function defaultMachineName(): string {
  return os.hostname();
}

/** Ships into one PostgreSQL database as one machine. Reconnects after any failure; `dispose()` closes it. */
export class PostgresSink implements LogSink {
  private client: pg.Client | null = null;
  private readonly agentIds = new Map<string, number>();
  private readonly months = new Set<string>();

  constructor(
    private readonly url: string,
    readonly machine: string,
  ) {}

  async position(agent: AgentKey): Promise<ShipPosition> {
    return this.run(async (client) => {
      const { rows } = await client.query<{ shipped_seq: string; shipped_line: string }>(
        'SELECT shipped_seq, shipped_line FROM loupe_agents WHERE id = $1',
        [await this.agentId(client, agent)],
      );
      return { sequence: Number(rows[0]!.shipped_seq), line: Number(rows[0]!.shipped_line) };
    });
  }

  async write(batch: LogBatch): Promise<void> {
    await this.run(async (client) => {
      const agent = await this.agentId(client, batch.agent);
      const months = new Set([...batch.entries.map((e) => monthOf(e.time)), ...batch.lines.map((l) => monthOf(l.time))]);
      const missing = [...months].filter((m) => !this.months.has(m));
      if (missing.length > 0) {
        await ensureMonthPartitions(client, missing);
        for (const m of missing) this.months.add(m);
      }
      await client.query('BEGIN');
      try {
        if (batch.entries.length > 0) {
          const rows = batch.entries.map((e) => ({ s: e.entry.sequence, us: e.time, t: e.entry.type, l: entryLevel(e.entry), j: e.line }));
          await client.query(INSERT_ENTRIES, [agent, JSON.stringify(rows)]);
        }
        if (batch.lines.length > 0) {
          const rows = batch.lines.map((l) => ({ n: l.n, k: l.sortKey, s: l.sequence, f: l.firstSequence, us: l.time, t: l.type, l: l.level, x: storableText(l.text) }));
          await client.query(INSERT_LINES, [agent, JSON.stringify(rows)]);
        }
        await client.query('DELETE FROM loupe_runs WHERE agent = $1', [agent]);
        if (batch.runs.length > 0) {
          await client.query(
            'INSERT INTO loupe_runs (agent, run, summary) SELECT $1, x.run, x.summary FROM json_to_recordset($2::json) AS x (run integer, summary text)',
            [agent, JSON.stringify(batch.runs.map((r) => ({ run: r.run, summary: JSON.stringify(r) })))],
          );
        }
        const lastTime = batch.entries.length > 0 ? batch.entries[batch.entries.length - 1]!.time : null;
        const event = lastRunEvent(batch);
        await client.query(
          `UPDATE loupe_agents SET shipped_seq = greatest(shipped_seq, $2), shipped_line = greatest(shipped_line, $3),
             last_ts = CASE WHEN $4::bigint IS NULL THEN last_ts ELSE greatest(last_ts, timestamptz 'epoch' + $4::bigint * interval '1 microsecond') END,
             last_event = CASE WHEN $5::text IS NULL THEN last_event ELSE $5 END,
             exit_status = CASE WHEN $5::text IS NULL THEN exit_status ELSE $6 END,
             attention = $7::jsonb,
             shipped_at = now()
           WHERE id = $1`,
          [agent, batch.position.sequence, batch.position.line, lastTime, event?.event ?? null, event?.exitStatus ?? null, batch.attention === null ? null : JSON.stringify(batch.attention)],
        );
        await client.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify({ agent, sequence: batch.position.sequence, line: batch.position.line })]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  async dispose(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  /** Runs `work` on a connection (opening one, with the schema, when needed); a failure drops the connection. */
  private async run<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    try {
      if (this.client === null) {
        const client = await connectStore(this.url);
        try {
          await ensureStoreSchema(client);
        } catch (err) {
          await client.end().catch(() => {});
          throw err;
        }
        this.client = client;
      }
      return await work(this.client);
    } catch (err) {
      await this.dispose();
      throw describeStoreError(err, this.url);
    }
  }

  private async agentId(client: pg.Client, agent: AgentKey): Promise<number> {
    const key = JSON.stringify([agent.root, agent.taskId, agent.agentId]);
    const known = this.agentIds.get(key);
    if (known !== undefined) return known;
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO loupe_agents (machine, root, task_id, agent_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (machine, root, task_id, agent_id) DO UPDATE SET machine = excluded.machine
       RETURNING id`,
      [this.machine, agent.root, agent.taskId, agent.agentId],
    );
    const id = Number(rows[0]!.id);
    this.agentIds.set(key, id);
    return id;
  }
}

/** The batch's last `started` or `terminated` system entry, which says whether its run goes on. */
function lastRunEvent(batch: LogBatch): { event: string; exitStatus: number | null } | null {
  for (let i = batch.entries.length - 1; i >= 0; i--) {
    const { entry } = batch.entries[i]!;
    const event = entry.type === 'system' ? entry.metadata?.event : undefined;
    if (event === 'started' || event === 'terminated') {
      const status = entry.metadata?.exit_status;
      return { event, exitStatus: typeof status === 'number' ? status : null };
    }
  }
  return null;
}

/** Lone UTF-16 surrogates: PostgreSQL's JSON refuses them. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Screen text as PostgreSQL text can hold it: without NUL (which it cannot store, and a screen
 * never shows) and with any lone surrogate as U+FFFD. Raw lines need neither: JSON escapes NUL,
 * and they are decoded from UTF-8, which has no lone surrogates.
 */
function storableText(text: string): string {
  return text.replaceAll('\0', '').replace(LONE_SURROGATE, '\uFFFD');
}
