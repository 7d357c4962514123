/**
 * The store's schema against a real PostgreSQL (test-support.ts): a new store, a store made by
 * schema version 1 (its DDL frozen in fixtures/store-v1.sql) upgraded in place with its data, and
 * a store of a newer version refused.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureStoreSchema, STORE_SCHEMA_VERSION } from './schema.js';
import { dropStore, startPostgres, type TestPostgres } from './test-support.js';

const STORE_V1 = fs.readFileSync(fileURLToPath(new URL('./fixtures/store-v1.sql', import.meta.url)), 'utf8');

let server: TestPostgres;
let db: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  db = new pg.Client({ connectionString: server.url });
  await db.connect();
});
afterAll(async () => {
  await db?.end().catch(() => {});
  server?.cleanup();
});
afterEach(async () => {
  await dropStore(db);
});

async function version(): Promise<string> {
  const { rows } = await db.query("SELECT value FROM loupe_meta WHERE key = 'schema_version'");
  return rows[0].value;
}

async function columns(table: string): Promise<string[]> {
  const { rows } = await db.query('SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', [table]);
  return rows.map((r) => r.column_name);
}

describe('the store schema', () => {
  it('creates a new store at the current version, and running it again changes nothing', async () => {
    await ensureStoreSchema(db);
    await ensureStoreSchema(db);
    expect(await version()).toBe(String(STORE_SCHEMA_VERSION));
    expect(await columns('loupe_users')).toEqual(['id', 'name', 'role', 'token_id', 'token_hash', 'created_at', 'revoked_at', 'last_used']);
  });

  it('upgrades a store made by version 1 in place, keeping what was shipped', async () => {
    await db.query(STORE_V1);
    expect(await version()).toBe('1');
    expect(await columns('loupe_users')).toEqual([]);
    await ensureStoreSchema(db);
    expect(await version()).toBe(String(STORE_SCHEMA_VERSION));
    expect(await columns('loupe_users')).toContain('token_hash');
    expect(await columns('loupe_agents')).toContain('attention');
    expect(await columns('loupe_control')).toContain('claimed_at');
    const agents = await db.query('SELECT machine, agent_id, shipped_seq FROM loupe_agents');
    expect(agents.rows).toEqual([{ machine: 'laptop', agent_id: 'builder', shipped_seq: '1' }]);
    const entries = await db.query('SELECT seq, line FROM loupe_entries');
    expect(entries.rows).toHaveLength(1);
    expect(JSON.parse(entries.rows[0].line)).toMatchObject({ content: 'hello', sequence: 1 });
  });

  it('refuses a store of a newer version, and leaves it as it was', async () => {
    await ensureStoreSchema(db);
    const newer = String(STORE_SCHEMA_VERSION + 1);
    await db.query("UPDATE loupe_meta SET value = $1 WHERE key = 'schema_version'", [newer]);
    await expect(ensureStoreSchema(db)).rejects.toThrow(
      `the store has schema version ${newer}, this Loupe knows versions up to ${STORE_SCHEMA_VERSION}; use a newer Loupe`,
    );
    expect(await version()).toBe(newer);
  });
});
