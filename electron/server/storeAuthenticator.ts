/**
 * The users of a PostgreSQL store as the tokens of `loupe serve --store` (SPEC §16): each token
 * is looked up in `loupe_users` (electron/core/store/users.ts), and what was found is kept for
 * `USER_CACHE_MS`, so a page load's dozen requests and every WebSocket re-check do not each hit
 * the database, yet a revoked token is refused within that bound.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { connectStore, describeStoreError } from '../core/store/connection.js';
import { authenticateToken, type TokenOwner } from '../core/store/users.js';
import type { TokenAuthenticator } from './access.js';

/**
 * How long a user's token is trusted without asking the store again: how late a revocation may
 * take effect. Short enough for "revoked means gone"; long enough that a page load asks once.
 */
export const USER_CACHE_MS = 2000;

export interface StoreAuthenticator extends TokenAuthenticator {
  dispose(): Promise<void>;
}

/** Checks tokens against the users of the store at `url`, over one connection opened on first use (and again after a failure). */
export function storeAuthenticator(url: string): StoreAuthenticator {
  /**
   * By the token's hash (the token itself need not be kept): the lookup, in flight or done, with
   * when it expires. A token that is nobody's is dropped once answered, so strangers' guesses
   * never fill the map; what stays is bounded by the number of users.
   */
  const cache = new Map<string, { owner: Promise<TokenOwner | null>; until: number }>();
  let connection: Promise<pg.Client> | null = null;
  let disposed = false;

  async function lookup(token: string): Promise<TokenOwner | null> {
    if (disposed) throw new Error('the store authenticator is disposed');
    const current = (connection ??= connectStore(url));
    try {
      return await authenticateToken(await current, token);
    } catch (err) {
      if (connection === current) connection = null;
      void current.then((c) => c.end()).catch(() => {});
      throw describeStoreError(err, url);
    }
  }

  return {
    authenticate(token) {
      const key = createHash('sha256').update(token).digest('hex');
      const now = Date.now();
      const hit = cache.get(key);
      if (hit !== undefined && hit.until > now) return hit.owner;
      const entry = { owner: lookup(token), until: now + USER_CACHE_MS };
      cache.set(key, entry);
      const forget = () => {
        if (cache.get(key) === entry) cache.delete(key);
      };
      entry.owner.then((owner) => owner === null && forget(), forget);
      return entry.owner;
    },
    async dispose() {
      disposed = true;
      cache.clear();
      const current = connection;
      connection = null;
      await current?.then((c) => c.end()).catch(() => {});
    },
  };
}
