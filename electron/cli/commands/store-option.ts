/**
 * `--store URL` on the reading commands: read a PostgreSQL store (SPEC §16) instead of local
 * roots. A malformed URL is a usage error (status 2); a store that cannot be reached or refuses
 * the login is a runtime failure (status 1), said in one line without the password.
 */
import type pg from 'pg';
import { UserError } from '../errors.js';

export const STORE_HELP = 'read this PostgreSQL store (postgres://user:password@host:5432/db) instead of local roots';

/** `--machine` filters what a store holds: without `--store` it is a usage error. */
export function checkMachineOption(options: { store?: string; machine?: string }): void {
  if (options.machine !== undefined && options.store === undefined) throw new UserError('--machine needs --store: machines are what a store holds');
}

/** Runs `work` on a connection to the store, and closes it. */
export async function withStore<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const { checkStoreUrl, connectStore, describeStoreError } = await import('../../core/store/connection.js');
  checkStoreUrl(url);
  let client: pg.Client;
  try {
    client = await connectStore(url);
  } catch (err) {
    throw new UserError((err as Error).message, 1);
  }
  try {
    return await work(client);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // The server's and the driver's errors (SQLSTATE codes, socket errors); ours pass through.
    if (typeof code === 'string') {
      const e = describeStoreError(err, url);
      throw new UserError(code === '42P01' ? `${e.message} (nothing has been shipped there yet: loupe ship --to URL)` : e.message, 1);
    }
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}
