/**
 * Connecting to the PostgreSQL store (SPEC §16): checking the URL the user gave, and turning the
 * driver's failures into one-line messages that say what went wrong (never the password) and
 * whether trying again can help.
 */
import pg from 'pg';
import { SinkError } from '../ship/follow.js';

/** A `--to` / `--store` value that is not a PostgreSQL URL. */
export class StoreUrlError extends Error {
  override name = 'StoreUrlError';
}

/** How long one connection attempt may take before it counts as failed. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Checks a store URL: `postgres://` or `postgresql://`, parseable. Host, user, password and
 * database may be left out; the driver then takes them from the standard `PG*` variables.
 * Returns the URL with its password masked, for messages.
 */
export function checkStoreUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreUrlError(`${JSON.stringify(redactUrl(url))} is not a URL; give a PostgreSQL URL such as postgres://user:password@host:5432/loupe`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new StoreUrlError(`${JSON.stringify(redactUrl(url))} is not a PostgreSQL URL (it must start with postgres:// or postgresql://)`);
  }
  return redactUrl(url);
}

/** The URL with any password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** Opens a connection; a failure is a `SinkError` saying whether retrying can help. */
export async function connectStore(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'loupe' });
  // An idle connection that breaks emits 'error'; the next query fails and the caller reconnects.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw describeStoreError(err, url);
  }
  return client;
}

/** SQLSTATE classes and codes that retrying cannot fix: credentials, a missing database, permissions, bad SQL. */
const PERMANENT_CODES = new Set(['28000', '28P01', '3D000', '42501', '42601', '42P01', '42703']);

/** A driver or server error as a one-line `SinkError`. */
export function describeStoreError(err: unknown, url: string): SinkError {
  if (err instanceof SinkError) return err;
  if (err instanceof Error && err.name === 'StoreSchemaError') return new SinkError(err.message, true);
  const e = err as Error & { code?: string; address?: string; port?: number };
  const where = storeAddress(url);
  const code = e.code ?? '';
  if (code === '28P01' || code === '28000') return new SinkError(`PostgreSQL at ${where} refused the login: ${e.message}`, true);
  if (code === '3D000') return new SinkError(`PostgreSQL at ${where}: ${e.message} (create it with createdb, or name another in the URL)`, true);
  if (code === 'ECONNREFUSED') return new SinkError(`cannot reach PostgreSQL at ${where}: connection refused (is the server running?)`, false);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new SinkError(`cannot reach PostgreSQL at ${where}: unknown host`, false);
  return new SinkError(`PostgreSQL at ${where}: ${e.message}`, PERMANENT_CODES.has(code));
}

/** `host:port/database` of a URL, for messages. */
function storeAddress(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || process.env.PGHOST || 'localhost';
    const port = u.port || process.env.PGPORT || '5432';
    const db = u.pathname.replace(/^\//, '') || process.env.PGDATABASE || '';
    return `${host}:${port}${db ? `/${db}` : ''}`;
  } catch {
    return redactUrl(url);
  }
}
