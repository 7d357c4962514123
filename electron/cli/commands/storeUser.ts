/**
 * `loupe store user add|list|revoke`: the users of `loupe serve --store` (SPEC §16), kept in the
 * store. `add` prints the new token once, alone on stdout (so it can go straight into a file),
 * and how to use it on stderr; the store keeps only its hash.
 */
import type { Command } from 'commander';
import type pg from 'pg';
import { ensureStoreSchema } from '../../core/store/schema.js';
import { addUser, checkUserName, isUserRole, listUsers, revokeUser, type StoreUser, type UserRole } from '../../core/store/users.js';
import { newToken } from '../../server/access.js';
import { UserError } from '../errors.js';
import { table, timeLabel } from './ls.js';
import { withStore } from './store-option.js';

const STORE_OPTION = ['--store <url>', 'the store: postgres://user:password@host:5432/database'] as const;

function parseRole(value: string): UserRole {
  if (!isUserRole(value)) {
    throw new UserError(`invalid --role ${JSON.stringify(value)}: use viewer (reads everything) or operator (may also attach, detach, start and answer agents)`);
  }
  return value;
}

/** Runs `work` on the store, its schema created or upgraded first (the users table came with version 2). */
function withUsers<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withStore(url, async (client) => {
    await ensureStoreSchema(client);
    return work(client);
  });
}

export function registerStoreUser(store: Command): void {
  const user = store.command('user').description('the users of `loupe serve --store`: their tokens and roles');
  user
    .command('add <name>')
    .description('add a user and print their token (once: the store keeps only its hash)')
    .requiredOption('--role <role>', 'viewer (reads everything) or operator (may also attach, detach, start and answer agents)', parseRole)
    .requiredOption(...STORE_OPTION)
    .action(async (name: string, options: { role: UserRole; store: string }) => {
      checkUserName(name); // before connecting: a usage error, whatever the store holds
      const token = newToken();
      const added = await withUsers(options.store, (client) => addUser(client, { name, role: options.role, token }));
      process.stdout.write(`${token}\n`);
      process.stderr.write(
        `added ${added.name} (${added.role}), token ${added.tokenId}…: the line above is the token, shown this once; keep it secret.\n` +
          `Log in by opening http://HOST:PORT/?token=TOKEN of \`loupe serve --store\`; scripts and /metrics scrapers send Authorization: Bearer TOKEN.\n`,
      );
    });
  user
    .command('list')
    .description('list the users: name, role, token id, created, last used, revoked')
    .requiredOption(...STORE_OPTION)
    .option('--json', 'print them as JSON (name, role, tokenId, created, lastUsed, revoked; times ISO 8601 or null)')
    .action(async (options: { store: string; json?: boolean }) => {
      const list = await withUsers(options.store, listUsers);
      process.stdout.write(options.json ? JSON.stringify(list, null, 2) + '\n' : formatUsers(list, Date.now()));
    });
  user
    .command('revoke <name>')
    .description('revoke the token of a user: refused from then on, open sessions closed within seconds')
    .requiredOption(...STORE_OPTION)
    .action(async (name: string, options: { store: string }) => {
      const revoked = await withUsers(options.store, (client) => revokeUser(client, name));
      process.stdout.write(`revoked the token ${revoked.tokenId}… of ${revoked.name} (${revoked.role}); \`loupe serve --store\` refuses it within seconds and closes its open sessions\n`);
    });
}

function formatUsers(list: StoreUser[], nowMillis: number): string {
  if (list.length === 0) return 'no users yet: add one with loupe store user add NAME --role viewer|operator --store URL\n';
  const rows = list.map((u) => [u.name, u.role, `${u.tokenId}…`, timeLabel(u.created, nowMillis), u.lastUsed === null ? 'never' : timeLabel(u.lastUsed, nowMillis), u.revoked === null ? '-' : timeLabel(u.revoked, nowMillis)]);
  return table(['NAME', 'ROLE', 'TOKEN', 'CREATED', 'LAST USED', 'REVOKED'], rows, []).join('\n') + '\n';
}
