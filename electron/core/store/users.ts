/**
 * The users of `loupe serve --store` (SPEC §16), kept in the store's `loupe_users` table: a name,
 * a role, and the hash of a token that was shown once, when the user was added.
 *
 * - The token itself is never stored. Its hash is SHA-256, a fast hash, on purpose: slow
 *   password hashes (bcrypt, argon2) exist to make guessing low-entropy passwords expensive,
 *   and a 256-bit random token cannot be guessed however fast the hash is, so every request can
 *   be checked cheaply (GitHub stores its tokens the same way).
 * - Its first `TOKEN_ID_CHARS` characters are kept in clear as its id: `list` and log lines name
 *   a token by it, and a lookup finds the row by it before the hashes are compared in constant
 *   time. They give away 48 of the token's 256 bits, which leaves 208 unguessable.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { formatTimestamp } from '../../../shared/entry.js';

export const USER_ROLES = ['viewer', 'operator'] as const;
/** `viewer` reads; `operator` may also use the control calls. */
export type UserRole = (typeof USER_ROLES)[number];

/** Characters of a token kept in clear as its id. */
const TOKEN_ID_CHARS = 8;

/** A user's name: shown in listings and log lines, so no spaces, quotes or control characters. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** How stale `last_used` may get: one write per user per minute, not one per request. */
const LAST_USED_RESOLUTION = '1 minute';

/** A name, role or state the store refuses; the message says what to do. */
export class StoreUserError extends Error {
  override name = 'StoreUserError';
}

export interface StoreUser {
  name: string;
  role: UserRole;
  /** The first characters of the token, naming it without revealing it. */
  tokenId: string;
  /** ISO 8601 times; null for never. */
  created: string;
  lastUsed: string | null;
  revoked: string | null;
}

/** Who a token belongs to, as `authenticateToken` found it. */
export interface TokenOwner {
  user: string;
  role: UserRole;
  tokenId: string;
  /** Set when the token was revoked: it must be refused. */
  revoked: boolean;
}

export function isUserRole(value: string): value is UserRole {
  return (USER_ROLES as readonly string[]).includes(value);
}

/** Refuses a name that cannot be a user's. */
export function checkUserName(name: string): string {
  if (!USER_NAME.test(name)) {
    throw new StoreUserError(`invalid user name ${JSON.stringify(name)}: use up to 64 letters, digits and . _ @ -, starting with a letter or digit`);
  }
  return name;
}

export function tokenId(token: string): string {
  return token.slice(0, TOKEN_ID_CHARS);
}

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Adds a user whose token is `token` (fresh from `newToken`); refuses a name in use. */
export async function addUser(client: pg.Client, user: { name: string; role: UserRole; token: string }): Promise<StoreUser> {
  try {
    const { rows } = await client.query<UserRow>(
      `INSERT INTO loupe_users (name, role, token_id, token_hash) VALUES ($1, $2, $3, $4) RETURNING ${USER_COLUMNS}`,
      [checkUserName(user.name), user.role, tokenId(user.token), tokenHash(user.token)],
    );
    return toStoreUser(rows[0]!);
  } catch (err) {
    if ((err as { constraint?: string }).constraint === 'loupe_users_active_name') {
      throw new StoreUserError(`there is already a user ${user.name}; pick another name, or revoke theirs first (loupe store user revoke ${user.name})`);
    }
    throw err;
  }
}

/** How many users have a token in use; 0 for a store from before users (schema version 1). */
export async function countActiveUsers(client: pg.Client): Promise<number> {
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM loupe_users WHERE revoked_at IS NULL');
    return Number(rows[0]!.n);
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return 0;
    throw err;
  }
}

/** Every user, revoked ones included, by name and then by when they were added. */
export async function listUsers(client: pg.Client): Promise<StoreUser[]> {
  const { rows } = await client.query<UserRow>(`SELECT ${USER_COLUMNS} FROM loupe_users ORDER BY name, created_at`);
  return rows.map(toStoreUser);
}

/** Revokes the token of the user `name`; refuses a name with no token in use. */
export async function revokeUser(client: pg.Client, name: string): Promise<StoreUser> {
  const { rows } = await client.query<UserRow>(
    `UPDATE loupe_users SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING ${USER_COLUMNS}`,
    [name],
  );
  if (rows.length === 0) throw new StoreUserError(`no user ${JSON.stringify(name)} with a token in use; list them with loupe store user list`);
  return toStoreUser(rows[0]!);
}

/**
 * The owner of `token`, or null when it is no user's. A token in use has its `last_used` moved
 * on (at most once a minute).
 */
export async function authenticateToken(client: pg.Client, token: string): Promise<TokenOwner | null> {
  const { rows } = await client.query<{ id: string; name: string; role: UserRole; token_hash: Buffer; revoked_at: Date | null }>(
    'SELECT id, name, role, token_hash, revoked_at FROM loupe_users WHERE token_id = $1',
    [tokenId(token)],
  );
  const row = rows[0];
  // An unknown id is compared too, against a hash no token has, so both answers take as long.
  const matches = timingSafeEqual(tokenHash(token), row?.token_hash ?? NO_TOKEN_HASH);
  if (row === undefined || !matches) return null;
  if (row.revoked_at === null) {
    await client.query(`UPDATE loupe_users SET last_used = now() WHERE id = $1 AND (last_used IS NULL OR last_used < now() - interval '${LAST_USED_RESOLUTION}')`, [row.id]);
  }
  return { user: row.name, role: row.role, tokenId: tokenId(token), revoked: row.revoked_at !== null };
}

const NO_TOKEN_HASH = Buffer.alloc(32);

const USER_COLUMNS = 'name, role, token_id, created_at, last_used, revoked_at';

interface UserRow {
  name: string;
  role: UserRole;
  token_id: string;
  created_at: Date;
  last_used: Date | null;
  revoked_at: Date | null;
}

function toStoreUser(row: UserRow): StoreUser {
  const time = (d: Date | null) => (d === null ? null : formatTimestamp(d.getTime() * 1000));
  return { name: row.name, role: row.role, tokenId: row.token_id, created: time(row.created_at)!, lastUsed: time(row.last_used), revoked: time(row.revoked_at) };
}
