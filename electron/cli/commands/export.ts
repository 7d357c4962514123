/**
 * `loupe export (AGENT_ID | TASK_ID) --format F -o FILE [--gzip] [--since ..] [--until ..]
 *   [--from-seq N] [--to-seq N] [--type T] [--level L] [--grep RE] [-i] [--no-redact]
 *   [--root DIR | --store URL [--machine NAME]] [--task ID]`
 *
 * Exports a run, a slice of it, or every agent of a task, with secrets redacted unless
 * `--no-redact`. `-o -` writes to stdout. One summary line goes to stderr. From a store it
 * exports the agents' local copies (electron/core/store/agentCache.ts).
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { checkAgentId, ENTRY_TYPES, isTaskId, LEVELS, type EntryType, type Level } from '../../../shared/entry.js';
import { checkRootFolder } from '../../core/log/paths.js';
import { UserError } from '../errors.js';
import { STORE_HELP, STORE_MACHINE_HELP, cachedStoreAgents, checkStoreOptions } from './store-option.js';

/** How often the progress line on a terminal is redrawn. */
const PROGRESS_INTERVAL_MS = 250;

/** The formats, as listed in `--help` (kept here so help does not load the exporter). */
const FORMATS = ['jsonl', 'text', 'ansi', 'html', 'cast', 'replay-html'] as const;

interface ExportCommandOptions {
  format: (typeof FORMATS)[number];
  output: string;
  gzip?: boolean;
  since?: string;
  until?: string;
  fromSeq?: string;
  toSeq?: string;
  type?: string;
  level?: string;
  grep?: string;
  ignoreCase?: boolean;
  redact: boolean;
  root: string;
  task?: string;
  store?: string;
  machine?: string;
  title?: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a run, a slice of it, or a whole task to share it; secrets are redacted unless --no-redact')
    .argument('<target>', 'an agent id, or a task id (TASK-…) to export all its agents')
    .addOption(new Option('--format <format>', 'what to write').choices([...FORMATS]).makeOptionMandatory())
    .requiredOption('-o, --output <file>', 'the file to write, or - for stdout')
    .option('--gzip', 'gzip the output (any format)')
    .option('--since <when>', 'from this time: ISO 8601, a date, or a duration before now (15m, 2h, 3d)')
    .option('--until <when>', 'up to this time, in the same forms')
    .option('--from-seq <N>', 'from this sequence number')
    .option('--to-seq <N>', 'up to this sequence number')
    .option('--type <types>', `only these types, comma-separated (${ENTRY_TYPES.join(', ')})`)
    .option('--level <level>', `only this level and more severe (${LEVELS.join(', ')})`)
    .option('--grep <regex>', 'only entries whose ANSI-stripped text matches (RE2 syntax)')
    .option('-i, --ignore-case', 'match --grep case-insensitively')
    .option('--no-redact', 'keep secrets as they are (redaction is on by default)')
    .option('--title <title>', 'the title shown in html, cast and replay-html files')
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .option('--task <id>', 'the task to read when several have this agent (default: the newest)')
    .option('--store <url>', STORE_HELP)
    .option('--machine <name>', STORE_MACHINE_HELP)
    .action(async (target: string, options: ExportCommandOptions, command: Command) => {
      checkStoreOptions(command, options);
      await runExport(target, options);
    });
}

async function runExport(target: string, options: ExportCommandOptions): Promise<void> {
  if (options.store === undefined) checkRootFolder(options.root);
  const agents = await resolveAgents(target, options);
  // A store's copies live in a cache root without loupe.config.json: the user's config file applies.
  const configRoot = options.store !== undefined ? agents[0]!.root : options.root;
  const [{ exportRun, exportRunToFile }, { compileUserRegex }, { parseTimeBound }, { loadConfig }, { describeCorruptLine }, summary] =
    await Promise.all([
      import('../../core/export/exportRun.js'),
      import('../../core/regex/userRegex.js'),
      import('../../core/search/timeBound.js'),
      import('../../core/capture/config.js'),
      import('../../core/log/reader.js'),
      import('../../core/export/summary.js'),
    ]);
  const now = Date.now() * 1000;
  const exportOptions = {
    agents,
    format: options.format,
    title: options.title,
    gzip: options.gzip === true,
    redact: options.redact,
    redactPatterns: options.redact ? (loadConfig(configRoot).config.redact?.patterns ?? []) : [],
    slice: {
      sinceMicros: options.since !== undefined ? parseTimeBound(options.since, now) : undefined,
      untilMicros: options.until !== undefined ? parseTimeBound(options.until, now) : undefined,
      fromSeq: parseSequence(options.fromSeq, '--from-seq'),
      toSeq: parseSequence(options.toSeq, '--to-seq'),
      filter: {
        types: parseTypes(options.type),
        minLevel: parseLevel(options.level),
        regex: options.grep !== undefined ? compileUserRegex(options.grep, { ignoreCase: options.ignoreCase === true }) : undefined,
      },
    },
    onCorrupt: (c: Parameters<typeof describeCorruptLine>[0]) => process.stderr.write(`loupe: ${describeCorruptLine(c)}\n`),
    onProgress: process.stderr.isTTY === true ? progressLine() : undefined,
  };

  const toStdout = options.output === '-';
  let result: Awaited<ReturnType<typeof exportRun>>;
  try {
    result = toStdout ? await exportRun(exportOptions, process.stdout) : await exportRunToFile(exportOptions, options.output);
  } catch (err) {
    // `loupe export … -o - | head`: the reader left; stop quietly, as tail does.
    if (toStdout && (err as NodeJS.ErrnoException).code === 'EPIPE') return;
    throw err;
  }
  const where = toStdout ? 'stdout' : options.output;
  if (process.stderr.isTTY === true) process.stderr.write('\r\x1b[K');
  process.stderr.write(
    `exported ${result.entries} entr${result.entries === 1 ? 'y' : 'ies'} of ${result.agents} agent${result.agents === 1 ? '' : 's'} ` +
      `as ${options.format}${options.gzip === true ? ' (gzip)' : ''} to ${where}: ${summary.formatBytes(result.bytes)}; ` +
      `${summary.describeRedactions(result.redactions)}\n`,
  );
}

/** A progress line on the terminal (`exporting… 42%`), redrawn at most every PROGRESS_INTERVAL_MS. */
function progressLine(): (progress: { bytesRead: number; totalBytes: number }) => void {
  let last = 0;
  return ({ bytesRead, totalBytes }) => {
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    const percent = totalBytes > 0 ? Math.min(100, Math.floor((bytesRead / totalBytes) * 100)) : 0;
    process.stderr.write(`\rexporting… ${percent}%`);
  };
}

async function resolveAgents(target: string, options: ExportCommandOptions) {
  if (options.store !== undefined) {
    return cachedStoreAgents(options.store, isTaskId(target) ? { taskId: target } : { agentId: checkAgentId(target), taskId: options.task }, options.machine);
  }
  const { findAgentLog, listTaskAgents } = await import('../../core/log/paths.js');
  if (isTaskId(target)) {
    const agents = listTaskAgents(options.root, target);
    if (agents.length === 0) {
      throw new UserError(`no agent logs in task ${target} under ${path.resolve(options.root)}; run \`loupe ls --root ${options.root}\` to list tasks`);
    }
    return agents;
  }
  const found = findAgentLog(options.root, target, options.task);
  if (found === null) {
    const where = options.task !== undefined ? `task ${options.task} under ${path.resolve(options.root)}` : path.resolve(options.root);
    throw new UserError(`no agent ${JSON.stringify(target)} in ${where}; run \`loupe ls --root ${options.root}\` to list agents and tasks`);
  }
  return [found];
}


function parseSequence(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UserError(`${flag} must be a sequence number (1 or more), not ${JSON.stringify(value)}`);
  return Number(value);
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

function parseLevel(value: string | undefined): Level | undefined {
  if (value === undefined) return undefined;
  if (!(LEVELS as readonly string[]).includes(value)) {
    throw new UserError(`unknown --level ${JSON.stringify(value)}: use one of ${LEVELS.join(', ')}`);
  }
  return value as Level;
}
