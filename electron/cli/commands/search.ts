/**
 * `loupe search QUERY [--regex] [-i] [--type T] [--level L] [--agent ID] [--task ID] [--source S] [--since WHEN]
 *   [--until WHEN] [--limit N] [--offset N] [--asc] [--root DIR | --store URL [--machine NAME]] [--json]`
 *
 * Searches every agent and run under a root, after indexing whatever is pending so the results
 * are fresh, or every machine's in a PostgreSQL store. One hit per line; `--json` prints `{ total, hits, byType, byLevel, histogram }`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ENTRY_TYPES, LEVELS, SEARCH_SOURCES, type EntryType, type Level, type SearchSource } from '../../../shared/entry.js';
import type { FreshIndex } from '../../core/index/freshIndex.js';
import type { SearchCounts, SearchHit, SearchQuery } from '../../core/search/query.js';
import { checkRootFolder } from '../../core/log/paths.js';
import { UserError } from '../errors.js';
import { STORE_HELP, checkMachineOption, withStore } from './store-option.js';

/** Characters of context shown on each side of the first match. */
const SNIPPET_CONTEXT_CHARS = 60;
/** Longest snippet printed for a hit. */
const SNIPPET_MAX_CHARS = 200;
const HIGHLIGHT_ON = '\u001b[1;31m';
const HIGHLIGHT_OFF = '\u001b[0m';

interface SearchCommandOptions {
  regex?: boolean;
  ignoreCase?: boolean;
  type?: string;
  level?: string;
  agent?: string;
  task?: string;
  source?: string;
  since?: string;
  until?: string;
  limit: string;
  offset: string;
  asc?: boolean;
  root: string;
  store?: string;
  machine?: string;
  json?: boolean;
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('search the output of every agent and run (case-insensitive substring, or a regex)')
    .argument('<query>', 'the text to find ("" for every entry), or a regex with --regex')
    .option('--regex', 'treat QUERY as a regex (RE2 syntax, linear time)')
    .option('-i, --ignore-case', 'match --regex case-insensitively (substring search always is)')
    .option('--type <types>', `only these types, comma-separated (${ENTRY_TYPES.join(', ')})`)
    .option('--level <level>', `only this level and more severe (${LEVELS.join(', ')})`)
    .option('--agent <id>', 'only this agent')
    .option('--task <id>', 'only this task')
    .option('--source <source>', `only terminal runs (captured panes, recordings) or agent transcripts (${SEARCH_SOURCES.join(', ')})`)
    .option('--since <when>', 'from this time: ISO 8601 (2026-01-31T14:00:00Z), a date, or a duration before now (15m, 2h, 3d)')
    .option('--until <when>', 'up to this time, in the same forms')
    .option('--limit <N>', 'hits to print', '100')
    .option('--offset <N>', 'hits to skip first', '0')
    .option('--asc', 'oldest first (default: newest first)')
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .option('--store <url>', STORE_HELP)
    .option('--machine <name>', 'with --store: only this machine')
    .option('--json', 'print { total, hits, byType, byLevel, histogram } as JSON')
    .action(async (query: string, options: SearchCommandOptions) => {
      await runSearch(query, options);
    });
}

async function runSearch(text: string, options: SearchCommandOptions): Promise<void> {
  const query: SearchQuery = {
    text,
    regex: options.regex === true,
    ignoreCase: options.ignoreCase === true,
    types: parseTypes(options.type),
    levels: parseMinLevel(options.level),
    agentId: options.agent,
    taskId: options.task,
    // Checked by the query layer, as for every caller.
    source: options.source as SearchSource | undefined,
    since: options.since,
    until: options.until,
    limit: parseWhole(options.limit, '--limit'),
    offset: parseWhole(options.offset, '--offset'),
    sort: options.asc === true ? 'asc' : 'desc',
  };
  checkMachineOption(options);
  if (options.store !== undefined) {
    if (options.source !== undefined) throw new UserError('--source does not work with --store yet: a store does not know which runs are transcripts; leave out --source');
    const { searchStore } = await import('../../core/store/search.js');
    printResult(await withStore(options.store, (client) => searchStore(client, { ...query, machine: options.machine })), options);
    return;
  }
  const { searchIndex } = await import('../../core/search/query.js');
  const indexer = await openFreshIndex(options.root);
  try {
    printResult(await withIndexErrors(indexer, () => searchIndex(indexer.db, query)), options);
  } finally {
    indexer.dispose();
  }
}

function printResult(result: SearchCounts & { hits: PrintedHit[] }, options: SearchCommandOptions): void {
  if (options.json === true) {
    process.stdout.write(JSON.stringify({ total: result.total, hits: result.hits, byType: result.byType, byLevel: result.byLevel, histogram: result.histogram }) + '\n');
    return;
  }
  const color = process.stdout.isTTY === true;
  for (const hit of result.hits) process.stdout.write(formatHit(hit, color) + '\n');
  const shown = result.hits.length;
  process.stderr.write(
    shown === result.total ? `${result.total} hit${result.total === 1 ? '' : 's'}\n` : `${shown} of ${result.total} hits (use --limit/--offset for more)\n`,
  );
}

/** What a printed hit needs; a store's hits also name their machine. */
type PrintedHit = Pick<SearchHit, 'timestamp' | 'agentId' | 'sequence' | 'text' | 'matches'> & { machine?: string };

/** `timestamp agent #sequence snippet` (`machine/agent` from a store), with the matches highlighted when `color`. */
export function formatHit(hit: PrintedHit, color: boolean): string {
  const first = hit.matches[0];
  let start = 0;
  if (first !== undefined && first[0] > SNIPPET_CONTEXT_CHARS) start = first[0] - SNIPPET_CONTEXT_CHARS;
  const end = Math.min(hit.text.length, start + SNIPPET_MAX_CHARS);
  let snippet = '';
  let pos = start;
  for (const [a, b] of hit.matches) {
    if (b <= pos) continue;
    if (a >= end) break;
    snippet += oneLine(hit.text.slice(pos, Math.max(pos, a)));
    const piece = oneLine(hit.text.slice(Math.max(pos, a), Math.min(b, end)));
    snippet += color ? `${HIGHLIGHT_ON}${piece}${HIGHLIGHT_OFF}` : piece;
    pos = Math.min(b, end);
  }
  snippet += oneLine(hit.text.slice(pos, end));
  const prefix = start > 0 ? '…' : '';
  const suffix = end < hit.text.length ? '…' : '';
  const who = hit.machine === undefined ? hit.agentId : `${hit.machine}/${hit.agentId}`;
  return `${hit.timestamp} ${who} #${hit.sequence} ${prefix}${snippet}${suffix}`;
}

/** Line breaks and other control characters would break the one-hit-per-line output. */
function oneLine(text: string): string {
  return text.replace(/\n/g, '⏎').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/**
 * Checks `root`, opens its index and indexes whatever is pending, so results are fresh.
 * Shared by `loupe search` and `loupe stats`.
 */
export async function openFreshIndex(root: string): Promise<FreshIndex> {
  checkRoot(root);
  const { FreshIndex } = await import('../../core/index/freshIndex.js');
  const index = new FreshIndex(root);
  await withIndexErrors(index, () => index.indexPending());
  return index;
}

/** Turns SQLite corruption into an error that says how to fix it. */
export async function withIndexErrors<T>(indexer: FreshIndex, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
      indexer.dispose();
      throw new UserError(`the index of ${indexer.root} is damaged (${code}); rebuild it with: loupe reindex --root ${JSON.stringify(indexer.root)}`);
    }
    throw err;
  }
}

export function checkRoot(root: string): void {
  checkRootFolder(root);
  if (!fs.existsSync(path.join(root, '.agent-workspace'))) {
    throw new UserError(`${path.resolve(root)} has no .agent-workspace/ folder: run agents with \`loupe run\` there first, or pass --root`);
  }
}

function parseTypes(value: string | undefined): EntryType[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((t) => {
    const type = t.trim();
    if (!(ENTRY_TYPES as readonly string[]).includes(type)) {
      throw new UserError(`unknown --type ${JSON.stringify(type)}: use ${ENTRY_TYPES.join(', ')} (comma-separated)`);
    }
    return type as EntryType;
  });
}

/** `--level warn` means warn, error and fatal, as in `loupe tail`. */
function parseMinLevel(value: string | undefined): Level[] | undefined {
  if (value === undefined) return undefined;
  const i = (LEVELS as readonly string[]).indexOf(value.trim());
  if (i < 0) throw new UserError(`unknown --level ${JSON.stringify(value)}: use one of ${LEVELS.join(', ')}`);
  return LEVELS.slice(i);
}

function parseWhole(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UserError(`${flag} must be a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}
