/**
 * `loupe tail [-f] [-n N] [--type T] [--level L] [--grep RE] [--format F] [--root DIR] [--task ID] (AGENT_ID | FILE)`
 * `loupe tail --store URL [--machine NAME] … AGENT_ID`
 *
 * Prints the last N entries of an agent's log (reading backwards from the end), optionally
 * filtered, then with -f follows the log until SIGINT/SIGTERM; or the same from a store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ENTRY_TYPES, LEVELS, type EntryType, type Level } from '../../../shared/entry.js';
import type { EntryFilter } from '../../core/log/filter.js';
import { agentIdOfLogFile, checkRootFolder, findAgentLog } from '../../core/log/paths.js';
import type { LineRecord } from '../../core/screen/lineRecord.js';
import { UserError } from '../errors.js';
import { STORE_HELP, STORE_MACHINE_HELP, checkMachineOption, withStore } from './store-option.js';

/** Like tail(1). */
const DEFAULT_LINES = 10;
/** In -f mode, a line still waiting for its end is shown after this much quiet (a prompt, say). */
const SHOW_PENDING_AFTER_MS = 500;

interface TailCommandOptions {
  follow?: boolean;
  lines: string;
  type?: string;
  level?: string;
  grep?: string;
  ignoreCase?: boolean;
  format: 'text' | 'ansi' | 'jsonl' | 'json';
  root: string;
  task?: string;
  store?: string;
  machine?: string;
}

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description("print the last entries of an agent's log, and follow it with -f")
    .argument('<target>', 'an agent id, or the path of a log file (.jsonl or .gz)')
    .option('-f, --follow', 'keep printing new entries until interrupted (survives rotation and truncation)')
    .option('-n, --lines <N>', 'how many lines (text) or entries (ansi, jsonl, json) to print', String(DEFAULT_LINES))
    .option('--type <types>', `only these types, comma-separated (${ENTRY_TYPES.join(', ')})`)
    .option('--level <level>', `only this level and more severe (${LEVELS.join(', ')})`)
    .option('--grep <regex>', 'only lines (text) or entries whose ANSI-stripped content matches (RE2 syntax)')
    .option('-i, --ignore-case', 'match --grep case-insensitively')
    .addOption(
      new Option('--format <format>', 'text: the screen lines, what the terminal showed; ansi, jsonl, json: the raw entries')
        .choices(['text', 'ansi', 'jsonl', 'json'])
        .default('text'),
    )
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .option('--task <id>', 'the task to read when several have this agent (default: the newest)')
    .option('--store <url>', STORE_HELP)
    .option('--machine <name>', STORE_MACHINE_HELP)
    .action(async (target: string, options: TailCommandOptions) => {
      await runTail(target, options);
    });
}

async function runTail(target: string, options: TailCommandOptions): Promise<void> {
  const n = parseCount(options.lines);
  const types = parseTypes(options.type);
  const minLevel = parseLevel(options.level);
  const { compileUserRegex } = await import('../../core/regex/userRegex.js');
  const regex = options.grep !== undefined ? compileUserRegex(options.grep, { ignoreCase: options.ignoreCase }) : undefined;
  checkMachineOption(options);
  if (options.store !== undefined) {
    await runStoreTail(options.store, target, n, { types, minLevel, regex }, options);
    return;
  }
  const file = resolveTarget(target, options);
  if (options.follow === true && file.endsWith('.gz')) {
    throw new UserError(`cannot follow ${file}: it is a compressed rotated log that no longer grows; drop -f, or follow the live .jsonl`);
  }

  if (options.format === 'text') {
    await runLineTail(file, n, { types, minLevel, regex }, options.follow === true);
    return;
  }

  const [{ tailEntries }, { createFormatter }, { describeCorruptLine }] = await Promise.all([
    import('../../core/log/tail.js'),
    import('../../core/log/format.js'),
    import('../../core/log/reader.js'),
  ]);
  const filter = { types, minLevel, regex };
  const formatter = createFormatter(options.format);
  const out = new StdoutWriter();
  const reportCorrupt = (c: Parameters<typeof describeCorruptLine>[0]) =>
    process.stderr.write(`loupe: ${describeCorruptLine(c)}\n`);

  const tail = await tailEntries(file, { n, filter, onCorrupt: reportCorrupt });
  out.write(formatter.begin() + formatter.format(tail.entries));
  if (options.follow !== true) {
    out.write(formatter.end());
    await out.drained();
    return;
  }

  const { LogFollower } = await import('../../core/log/follow.js');
  const { matchesFilter } = await import('../../core/log/filter.js');
  let pendingTimer: NodeJS.Timeout | null = null;
  await new Promise<void>((resolve) => {
    const follower = new LogFollower(file, {
      from: { offset: tail.end, identity: tail.identity },
      onEntries: (entries) => {
        const kept = entries.filter((e) => matchesFilter(e.entry, filter));
        if (kept.length === 0) return;
        out.write(formatter.format(kept));
        if (pendingTimer !== null) clearTimeout(pendingTimer);
        pendingTimer = setTimeout(() => out.write(formatter.flushPending()), SHOW_PENDING_AFTER_MS);
      },
      onCorrupt: reportCorrupt,
      onChange: (change) => {
        const what = {
          truncated: 'was truncated; reading it from the start',
          replaced: 'was replaced (rotated); reading the new file',
          deleted: 'was deleted; waiting for it to come back',
          appeared: 'appeared; reading it',
        }[change.kind];
        process.stderr.write(`loupe: ${change.file} ${what}\n`);
      },
    });
    stopOnInterrupt(out, () => {
      follower.close();
      if (pendingTimer !== null) clearTimeout(pendingTimer);
      resolve();
    });
  });
  out.write(formatter.end());
  await out.drained();
}

/**
 * `--format text` prints screen lines (SPEC §12): what the terminal showed, each line once, with
 * the type and level the classification rules give it. With -f, a line is printed once it is
 * final (scrolled off, stood still, replaced or its run ended).
 */
async function runLineTail(file: string, n: number, filter: EntryFilter, follow: boolean): Promise<void> {
  const [{ tailLines }, { lineAsEntry }, { textLine }, { describeCorruptLine }] = await Promise.all([
    import('../../core/screen/tailLines.js'),
    import('../../core/search/agentLines.js'),
    import('../../core/log/format.js'),
    import('../../core/log/reader.js'),
  ]);
  const agentId = agentIdOfLogFile(file);
  const render = (lines: LineRecord[]) => lines.map((l) => textLine(lineAsEntry(l, agentId), l.text)).join('');
  const out = new StdoutWriter();
  const tail = await tailLines(file, {
    n,
    filter,
    follow,
    onCorrupt: (c) => process.stderr.write(`loupe: ${describeCorruptLine(c)}\n`),
  });
  try {
    out.write(render(tail.lines));
    if (follow) {
      await new Promise<void>((resolve) => {
        const stopFollowing = tail.follow((lines) => out.write(render(lines)));
        stopOnInterrupt(out, () => {
          stopFollowing();
          resolve();
        });
      });
    }
  } finally {
    tail.dispose();
  }
  await out.drained();
}

/** `tail --store`: the same output from the agent's rows in a PostgreSQL store, following with LISTEN/NOTIFY. */
async function runStoreTail(url: string, agentId: string, n: number, filter: EntryFilter, options: TailCommandOptions): Promise<void> {
  const [store, { createFormatter, textLine }, { lineAsEntry }] = await Promise.all([
    import('../../core/store/tail.js'),
    import('../../core/log/format.js'),
    import('../../core/search/agentLines.js'),
  ]);
  const text = options.format === 'text';
  const formatter = createFormatter(options.format);
  const renderLines = (lines: LineRecord[]) => lines.map((l) => textLine(lineAsEntry(l, agentId), l.text)).join('');
  const out = new StdoutWriter();
  const start = await withStore(url, async (client) => {
    const agent = await store.findStoreAgent(client, { agentId, taskId: options.task, machine: options.machine });
    if (text) {
      const { lines, lastN } = await store.lastStoreLines(client, agent, n, filter);
      out.write(renderLines(lines));
      return { agent, after: lastN };
    }
    const { entries, lastSeq } = await store.lastStoreEntries(client, agent, n, filter);
    out.write(formatter.begin() + formatter.format(entries));
    return { agent, after: lastSeq };
  });
  if (options.follow === true) {
    const stop = new AbortController();
    stopOnInterrupt(out, () => stop.abort());
    await store.followStore({
      url,
      agent: start.agent,
      filter,
      kind: text ? 'lines' : 'entries',
      after: start.after,
      onLines: (lines) => out.write(renderLines(lines)),
      onEntries: (entries) => out.write(formatter.format(entries)),
      onReconnect: (message, delayMs) => process.stderr.write(`loupe: ${message}; reconnecting to the store in ${(delayMs / 1000).toFixed(1)} s\n`),
      signal: stop.signal,
    });
  }
  if (!text) out.write(formatter.end());
  await out.drained();
}

/**
 * Calls `stop` once, on Ctrl-C, SIGTERM, or when the reader of stdout goes away
 * (`loupe tail -f x | head` stops quietly).
 */
function stopOnInterrupt(out: StdoutWriter, stop: () => void): void {
  const once = () => {
    process.off('SIGINT', once);
    process.off('SIGTERM', once);
    out.onClosed = null;
    stop();
  };
  process.on('SIGINT', once);
  process.on('SIGTERM', once);
  out.onClosed = once;
}

/**
 * stdout that tolerates a closed pipe (EPIPE): writing stops quietly and `onClosed` is called,
 * as `tail | head` users expect.
 */
class StdoutWriter {
  private closed = false;
  onClosed: (() => void) | null = null;

  constructor() {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      this.closed = true;
      this.onClosed?.();
    });
  }

  write(text: string): void {
    if (text.length > 0 && !this.closed) process.stdout.write(text);
  }

  /** Resolves once everything written has been handed to the OS (or the pipe closed). */
  drained(): Promise<void> {
    if (this.closed || process.stdout.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      process.stdout.once('drain', resolve);
      process.stdout.once('error', () => resolve());
    });
  }
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new UserError(`-n ${JSON.stringify(value)} is not a number of entries; use e.g. -n 100`);
  return Number(value);
}

function parseTypes(value: string | undefined): EntryType[] | undefined {
  if (value === undefined) return undefined;
  const types = value.split(',').map((t) => t.trim());
  for (const t of types) {
    if (!(ENTRY_TYPES as readonly string[]).includes(t)) {
      throw new UserError(`--type ${JSON.stringify(t)} is not an entry type; use ${ENTRY_TYPES.join(', ')} (comma-separated)`);
    }
  }
  return types as EntryType[];
}

function parseLevel(value: string | undefined): Level | undefined {
  if (value === undefined) return undefined;
  if (!(LEVELS as readonly string[]).includes(value)) {
    throw new UserError(`--level ${JSON.stringify(value)} is not a level; use one of ${LEVELS.join(', ')}`);
  }
  return value as Level;
}

/** A path (has a slash, or ends in .jsonl/.gz) names a file; anything else is an agent id under --root. */
function resolveTarget(target: string, options: TailCommandOptions): string {
  if (target.includes('/') || target.endsWith('.jsonl') || target.endsWith('.gz') || /\.jsonl\.\d/.test(target)) {
    if (!fs.existsSync(target)) throw new UserError(`no such log file: ${target}`);
    if (!fs.statSync(target).isFile()) throw new UserError(`${target} is not a file; pass a .jsonl log or an agent id`);
    return path.resolve(target);
  }
  checkRootFolder(options.root);
  return findAgentFile(target, options);
}

function findAgentFile(agentId: string, options: TailCommandOptions): string {
  const found = findAgentLog(options.root, agentId, options.task);
  if (found === null) {
    const where = options.task !== undefined ? `task ${options.task} under ${path.resolve(options.root)}` : path.resolve(options.root);
    throw new UserError(`no agent ${JSON.stringify(agentId)} in ${where}; run \`loupe ls --root ${options.root}\` to list agents`);
  }
  return found.file;
}
