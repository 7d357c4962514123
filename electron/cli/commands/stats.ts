/**
 * `loupe stats [AGENT_ID | TASK_ID] [--root DIR | --store URL [--machine NAME]] [--json]`: the run summaries (status, start, end,
 * duration, entries, bytes, errors, warnings, output rate, exit status, capture method, gaps,
 * tokens and cost for imported transcripts and the terminal runs linked to them, and the links).
 */
import type { Command } from 'commander';
import { formatUsd, totalTokens } from '../../../shared/cost.js';
import { checkAgentId, isTaskId } from '../../../shared/entry.js';
import type { RunSummary } from '../../core/index/runs.js';
import { UserError } from '../errors.js';
import { STORE_HELP, checkMachineOption, withStore } from './store-option.js';
import { openFreshIndex, withIndexErrors } from './search.js';

interface StatsCommandOptions {
  root: string;
  store?: string;
  machine?: string;
  json?: boolean;
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('summarise runs: status, duration, entries, errors, exit status, ...')
    .argument('[target]', 'an agent id or a task id (default: every run under the root)')
    .option('--root <dir>', 'the folder holding .agent-workspace/', '.')
    .option('--store <url>', STORE_HELP)
    .option('--machine <name>', 'with --store: only this machine')
    .option('--json', 'print the summaries as a JSON array')
    .action(async (target: string | undefined, options: StatsCommandOptions) => {
      const { runSummaries } = await import('../../core/index/runs.js');
      const query = target === undefined ? {} : isTaskId(target) ? { taskId: target } : { agentId: checkAgentId(target) };
      checkMachineOption(options);
      if (options.store !== undefined) {
        const { storeRunSummaries } = await import('../../core/store/runs.js');
        const runs = await withStore(options.store, (client) => storeRunSummaries(client, { ...query, machine: options.machine }));
        if (target !== undefined && runs.length === 0) {
          throw new UserError(`no agent or task ${JSON.stringify(target)} in the store; run \`loupe ls --store URL\` to list them`);
        }
        if (options.json === true) process.stdout.write(JSON.stringify(runs) + '\n');
        else process.stdout.write(formatRuns(runs, target));
        return;
      }
      const indexer = await openFreshIndex(options.root);
      try {
        const runs = await withIndexErrors(indexer, () => runSummaries(indexer.db, query));
        // As `tail`, `screen` and `export` do: an agent or task that is not there is a usage error.
        if (target !== undefined && runs.length === 0) {
          throw new UserError(`no agent or task ${JSON.stringify(target)} under ${indexer.root}; run \`loupe ls --root ${options.root}\` to list them`);
        }
        if (options.json === true) process.stdout.write(JSON.stringify(runs) + '\n');
        else process.stdout.write(formatRuns(runs, target));
      } finally {
        indexer.dispose();
      }
    });
}

const COLUMNS = ['TASK', 'AGENT', 'RUN', 'STATUS', 'START', 'DURATION', 'ENTRIES', 'BYTES', 'ERRORS', 'WARNINGS', 'RATE', 'EXIT', 'CAPTURE', 'GAPS', 'TOKENS', 'COST', 'LINKED'];

/** A table, one run per row; runs from a store get a MACHINE column first. */
export function formatRuns(runs: (RunSummary & { machine?: string })[], target: string | undefined): string {
  if (runs.length === 0) return target === undefined ? 'no runs indexed under this root\n' : `no runs of ${target}\n`;
  const machines = runs.some((r) => r.machine !== undefined);
  const columns = machines ? ['MACHINE', ...COLUMNS] : COLUMNS;
  const rows = runs.map((r) => [
    ...(machines ? [r.machine ?? '-'] : []),
    r.taskId,
    r.agentId,
    String(r.run),
    r.status,
    r.start === null ? '-' : r.start.slice(0, 19).replace('T', ' '),
    r.durationMs === null ? '-' : formatDuration(r.durationMs),
    String(r.entries),
    formatBytes(r.bytes),
    String(r.errors),
    String(r.warnings),
    `${formatBytes(r.bytesPerSecond)}/s`,
    r.exitStatus === null ? '-' : String(r.exitStatus),
    r.captureMethod ?? '-',
    String(r.gaps),
    // Imported transcripts, and terminal runs linked to them: the terminal itself has no token count.
    r.tokens === null ? '-' : String(totalTokens(r.tokens)),
    r.tokens === null ? '-' : formatUsd(r.costUsd),
    r.linked.length === 0 ? '-' : r.linked.map((l) => l.agentId).join(','),
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
  return [columns, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}MB`;
  return `${(n / 1024 ** 3).toFixed(2)}GB`;
}
