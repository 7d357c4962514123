/**
 * The PostgreSQL store's schema (SPEC §16).
 *
 * - `loupe_agents`: one row per machine + root + task + agent, with how far shipping got
 *   (`shipped_seq`, `shipped_line`), updated in the same transaction as the rows, so it is
 *   exactly what the store acknowledged; and the last run event shipped (`started`,
 *   `terminated`…) with its exit status, so listing agents reads no entries.
 * - `loupe_entries`: the raw entries, each as its JSONL line exactly as stored (lossless; JSON
 *   escapes NUL, which PostgreSQL text cannot hold), with its sequence, time, type and level.
 * - `loupe_lines`: the screen lines (SPEC §12) that search and the text views read, with a
 *   `pg_trgm` GIN index over their text for substring search; `sort_key` is the local index's
 *   line id (the time, nudged so that lines keep their order), which listings sort by.
 * - `loupe_runs`: each agent's run summaries (`loupe stats`) as JSON, as the shipper's local index
 *   computed them with its latest batch.
 * - Both row tables are partitioned by month of the entry's time, created on demand, so old
 *   months can be detached and dropped whole. Their keys include the time, as PostgreSQL requires
 *   of a partitioned table's key; an entry's time never changes, so the key stays unique.
 * - `loupe_users` (version 2): who may use `loupe serve --store`, with a role and only the hash
 *   of each token (users.ts).
 * - `loupe_agents.attention` (version 3): the agent's attention facts (SPEC §13) from the
 *   shipping machine's index, as of its last batch.
 * - `loupe_control` (version 4): control calls an operator made through `serve --store`, each
 *   taken and answered by the machine it names (control.ts).
 *
 * A store of an older version is upgraded in place by the migrations below, in one transaction.
 */
import type pg from 'pg';

/**
 * Each upgrades the store from the version before it: `MIGRATIONS[0]` takes version 1 (the first
 * schema, SCHEMA below) to 2. A schema change is a new entry here, never an edit of SCHEMA or of
 * an older entry, so every store reaches the same schema whatever version it starts from.
 */
const MIGRATIONS: readonly string[] = [
  // 2: users of `loupe serve --store`. A revoked user stays listed; its name may be given again.
  `CREATE TABLE loupe_users (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('viewer', 'operator')),
    token_id text NOT NULL UNIQUE,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_used timestamptz
  );
  CREATE UNIQUE INDEX loupe_users_active_name ON loupe_users (name) WHERE revoked_at IS NULL;`,
  // 3: each agent's attention facts as its machine's index has them (a prompt on its screen), so
  // `serve --store` tells which agent waits for an answer.
  `ALTER TABLE loupe_agents ADD COLUMN attention jsonb;`,
  // 4: control calls from operators of `serve --store` to the machines that accept them
  // (`loupe ship --accept-control`; control.ts). Kept a week, as a record of who did what.
  `CREATE TABLE loupe_control (
    id bigserial PRIMARY KEY,
    machine text NOT NULL,
    channel text NOT NULL,
    args jsonb NOT NULL,
    user_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz,
    done_at timestamptz,
    result jsonb,
    error jsonb
  );
  CREATE INDEX loupe_control_waiting ON loupe_control (machine, id) WHERE claimed_at IS NULL;
  CREATE INDEX loupe_control_created ON loupe_control (created_at);`,
];

/** The version this Loupe writes; a store of a newer one is refused with a message. */
export const STORE_SCHEMA_VERSION = 1 + MIGRATIONS.length;

/** The channel that tells readers a batch landed: one NOTIFY per batch, never per entry. */
export const NOTIFY_CHANNEL = 'loupe_shipped';

/** Serialises schema and partition DDL across shippers (CREATE … IF NOT EXISTS is not race-free). */
const DDL_LOCK_KEY = 0x10_0be_5c4e;

/** Version 1, as the first Loupe created it: frozen (changes go into MIGRATIONS). */
const SCHEMA = `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE IF NOT EXISTS loupe_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS loupe_agents (
  id bigserial PRIMARY KEY,
  machine text NOT NULL,
  root text NOT NULL,
  task_id text NOT NULL,
  agent_id text NOT NULL,
  shipped_seq bigint NOT NULL DEFAULT 0,
  shipped_line bigint NOT NULL DEFAULT 0,
  last_ts timestamptz,
  last_event text,
  exit_status integer,
  shipped_at timestamptz,
  UNIQUE (machine, root, task_id, agent_id)
);
CREATE TABLE IF NOT EXISTS loupe_entries (
  agent bigint NOT NULL,
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  type text NOT NULL,
  level text NOT NULL,
  line text NOT NULL,
  PRIMARY KEY (agent, seq, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS loupe_lines (
  agent bigint NOT NULL,
  n bigint NOT NULL,
  sort_key bigint NOT NULL,
  seq bigint NOT NULL,
  first_seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  type text NOT NULL,
  level text NOT NULL,
  text text NOT NULL,
  PRIMARY KEY (agent, n, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE IF NOT EXISTS loupe_runs (
  agent bigint NOT NULL REFERENCES loupe_agents (id) ON DELETE CASCADE,
  run integer NOT NULL,
  summary text NOT NULL,
  PRIMARY KEY (agent, run)
);
CREATE INDEX IF NOT EXISTS loupe_lines_text ON loupe_lines USING gin (text gin_trgm_ops);
CREATE INDEX IF NOT EXISTS loupe_lines_order ON loupe_lines (sort_key);
`;

export class StoreSchemaError extends Error {
  override name = 'StoreSchemaError';
}

/**
 * Creates the schema if it is missing and upgrades a store of an older version in place; refuses
 * a store of a newer version (a newer Loupe made it) or of an unknown one.
 */
export async function ensureStoreSchema(client: pg.Client): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
    await client.query(SCHEMA);
    // A new store starts at version 1, as a store made by the first Loupe did, and goes through every migration.
    await client.query("INSERT INTO loupe_meta (key, value) VALUES ('schema_version', '1') ON CONFLICT (key) DO NOTHING");
    const { rows } = await client.query<{ value: string }>("SELECT value FROM loupe_meta WHERE key = 'schema_version'");
    const version = Number(rows[0]?.value);
    if (!Number.isSafeInteger(version) || version < 1 || version > STORE_SCHEMA_VERSION) {
      throw new StoreSchemaError(
        `the store has schema version ${rows[0]?.value}, this Loupe knows versions up to ${STORE_SCHEMA_VERSION}; use a newer Loupe (or another database)`,
      );
    }
    for (const migration of MIGRATIONS.slice(version - 1)) await client.query(migration);
    if (version < STORE_SCHEMA_VERSION) {
      await client.query("UPDATE loupe_meta SET value = $1 WHERE key = 'schema_version'", [String(STORE_SCHEMA_VERSION)]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** `YYYYMM` of a time in µs (UTC): the month partition it falls in. */
export function monthOf(timeUs: number): string {
  const d = new Date(Math.floor(timeUs / 1000));
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Creates the month partitions of both row tables that do not exist yet. */
export async function ensureMonthPartitions(client: pg.Client, months: Iterable<string>): Promise<void> {
  const wanted = [...new Set(months)];
  if (wanted.length === 0) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK_KEY]);
    for (const month of wanted) {
      if (!/^\d{6}$/.test(month)) throw new Error(`bad partition month ${month}`);
      const y = Number(month.slice(0, 4));
      const m = Number(month.slice(4));
      const from = `${y}-${String(m).padStart(2, '0')}-01`;
      const to = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
      for (const table of ['loupe_entries', 'loupe_lines']) {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${table}_${month} PARTITION OF ${table} FOR VALUES FROM ('${from} 00:00:00+00') TO ('${to} 00:00:00+00')`,
        );
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
