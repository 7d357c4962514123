/**
 * `loupe store prune --store URL --older-than WHEN --archive DIR`: maintenance of the PostgreSQL
 * store (SPEC §16). Prune moves the months that ended before WHEN into gzipped JSONL archives
 * under DIR, then drops them from the store. `loupe store user …` (storeUser.ts) manages the
 * users of `loupe serve --store`.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { nowMicros } from '../../../shared/entry.js';
import { withStore } from './store-option.js';
import { registerStoreUser } from './storeUser.js';

interface PruneOptions {
  store: string;
  olderThan: string;
  archive: string;
}

export function registerStore(program: Command): void {
  const store = program.command('store').description('maintain a PostgreSQL store that machines ship into');
  store
    .command('prune')
    .description('move the months that ended before --older-than into gzipped JSONL archives, then drop them from the store')
    .requiredOption('--store <url>', 'the store: postgres://user:password@host:5432/database')
    .requiredOption('--older-than <when>', 'a duration before now (30d, 12w) or a date/ISO time; whole months that ended before it go')
    .requiredOption('--archive <dir>', 'where the archives go: DIR/<machine>/<root>/<task>/<agent>_stream.jsonl.<month>.gz')
    .action(async (options: PruneOptions) => {
      const [{ parseTimeBound }, { pruneStore }] = await Promise.all([import('../../core/search/timeBound.js'), import('../../core/store/prune.js')]);
      const cutoffUs = parseTimeBound(options.olderThan, nowMicros());
      const archiveDir = path.resolve(options.archive);
      const pruned = await withStore(options.store, (client) =>
        pruneStore(client, {
          cutoffUs,
          archiveDir,
          onMonth: (m) => process.stdout.write(`archived ${m.month}: ${m.entries} entries of ${m.agents} agents into ${archiveDir}; dropped it from the store\n`),
        }),
      );
      if (pruned.length === 0) process.stdout.write('nothing to prune: no month of the store ended before that\n');
    });
  registerStoreUser(store);
}
