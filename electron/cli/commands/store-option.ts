/**
 * `--store URL` on the reading commands: read a PostgreSQL store (SPEC §16) instead of local
 * roots. A malformed URL is a usage error (status 2); a store that cannot be reached or refuses
 * the login is a runtime failure (status 1), said in one line without the password.
 */
import type pg from 'pg';
import type { Backend } from '../../core/api/backend.js';
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

/**
 * `--store` replaces the local roots and tmux: with it, `options` named in `local` (by their
 * flags) are usage errors.
 */
export function checkStoreAlone(options: Record<string, unknown>, local: Record<string, string>): void {
  if (options.store === undefined) return;
  for (const [key, flag] of Object.entries(local)) {
    if (options[key] !== undefined) {
      throw new UserError(`${flag} cannot be used with --store: a store holds every machine that ships there, read-only; drop ${flag}, or drop --store to read this machine`);
    }
  }
}

/**
 * The backend over a store (`serve --store`, `mcp --store`), and the store's URL as it may be
 * shown (password masked): a malformed URL exits 2, a store it cannot reach exits 1.
 */
export async function openStoreBackend(options: { url: string; machine?: string; version: string; log: (message: string) => void }): Promise<{ backend: Backend; address: string }> {
  const [{ startStoreBackend }, { checkStoreUrl }] = await Promise.all([import('../../core/store/storeBackend.js'), import('../../core/store/connection.js')]);
  const address = checkStoreUrl(options.url);
  try {
    return { backend: await startStoreBackend(options), address };
  } catch (err) {
    if (err instanceof Error && err.name === 'SinkError') throw new UserError(err.message, 1);
    throw err;
  }
}
