/**
 * `loupe ls [--root DIR]… [--socket NAME]… [--json]`: roots → tasks → agents (state, entries,
 * last activity) and the tmux panes that are not captured yet, with the command to capture them.
 * `loupe ls --store URL [--machine NAME]`: what a PostgreSQL store holds, machine by machine.
 */
import type { Command } from 'commander';
import { parseTimestamp } from '../../../shared/entry.js';
import { checkRootFolder } from '../../core/log/paths.js';
import type { Workspace, WorkspaceAgent } from '../../core/workspace/list.js';
import type { StoreListing } from '../../core/store/agents.js';
import { UserError } from '../errors.js';
import { collectSocket } from './socket-option.js';
import { collect } from '../repeatable.js';
import { checkMachineOption, withStore } from './store-option.js';

interface LsOptions {
  root?: string[];
  socket?: string[];
  store?: string;
  machine?: string;
  json?: boolean;
}

export function registerLs(program: Command): void {
  program
    .command('ls')
    .description('list roots, tasks and agents (live or ended, entries, last activity) and tmux panes not captured yet')
    .option('--root <dir>', 'a root holding .agent-workspace/ (repeatable; default: the current folder, plus roots live panes capture into)', collect)
    .option('--socket <name>', 'tmux -L socket to look at (repeatable; default: the default server and every socket Loupe captures on)', collectSocket)
    .option('--store <url>', 'list what this PostgreSQL store holds (machines → roots → tasks → agents) instead')
    .option('--machine <name>', 'with --store: only this machine')
    .option('--json', 'print the listing as JSON (see Workspace in electron/core/workspace/list.ts; StoreListing in electron/core/store/agents.ts)')
    .action(async (options: LsOptions) => {
      checkMachineOption(options);
      if (options.store !== undefined) {
        const { listStore } = await import('../../core/store/agents.js');
        const listing = await withStore(options.store, (client) => listStore(client, { machine: options.machine }));
        process.stdout.write(options.json ? JSON.stringify(listing, null, 2) + '\n' : formatStoreListing(listing, Date.now()));
        return;
      }
      const sockets = options.socket ?? [];
      options.root?.forEach(checkRootFolder);
      const workspace = await listWithAttention({ roots: options.root ?? [process.cwd()], sockets, includePaneRoots: options.root === undefined });
      process.stdout.write(options.json ? JSON.stringify(workspace, null, 2) + '\n' : formatWorkspace(workspace, Date.now()));
    });
}

/** The workspace listing, each live agent's attention read from its root's index brought up to date first (as `search` and `stats` do). */
export async function listWithAttention(options: { roots: string[]; sockets: string[]; includePaneRoots: boolean }): Promise<Workspace> {
  const [{ listWorkspace }, { RootIndexes }] = await Promise.all([import('../../core/workspace/list.js'), import('../../core/api/rootIndexes.js')]);
  return listWorkspace({
    ...options,
    attentionFacts: async (root) => {
      const indexes = new RootIndexes([root]);
      try {
        return await indexes.attentionFacts(root);
      } finally {
        await indexes.dispose();
      }
    },
  });
}

/** The human listing: one block per root, a table of agents per task, then uncaptured panes. */
export function formatWorkspace(workspace: Workspace, nowMillis: number): string {
  const out: string[] = [];
  for (const { root, fromTmux, tasks, configError } of workspace.roots) {
    out.push(`${root}${fromTmux ? '  (captured by a live tmux pane)' : ''}`);
    if (configError !== null) out.push(`  warning: ${configError} (captures use the default rules until it is fixed)`);
    if (tasks.length === 0) {
      out.push('  no tasks yet: start an agent with `loupe run -- CMD…`, or try `loupe demo`');
    }
    for (const task of tasks) {
      out.push(`  ${task.taskId}  (${plural(task.agents.length, 'agent')})`);
      const rows = task.agents.map((a) => [
        a.agentId,
        stateLabel(a, nowMillis),
        String(a.entries),
        a.lastActivity === null ? '-' : timeLabel(a.lastActivity, nowMillis),
        a.pane === null ? '' : `${a.pane.paneId} ${a.pane.target}`,
      ]);
      const lines = table(['AGENT', 'STATE', 'ENTRIES', 'LAST ACTIVITY', 'PANE'], rows, [2]);
      out.push(`    ${lines[0]}`);
      task.agents.forEach((a, i) => {
        out.push(`    ${lines[i + 1]}`);
        // A waiting agent's question, as its screen asks it.
        if (a.attention.state === 'waiting' && a.attention.prompt !== null) {
          for (const line of a.attention.prompt.split('\n').slice(0, MAX_PROMPT_LINES)) out.push(`      │ ${line}`);
        }
      });
    }
    out.push('');
  }
  for (const server of workspace.tmux) {
    const name = serverName(server.socket);
    if (server.error !== null) {
      out.push(`tmux (${name}): ${server.error}`);
      continue;
    }
    const panes = workspace.panes.filter((p) => p.socket === server.socket);
    if (!server.running) out.push(`tmux (${name}): not running`);
    else if (panes.length === 0) out.push(`tmux (${name}): every pane is captured`);
    else {
      out.push(`tmux panes not captured (${name}):`);
      const rows = panes.map((p) => [p.paneId, p.target, p.command, `${p.cols}x${p.rows}`, p.attachCommand]);
      out.push(...table(['PANE', 'TARGET', 'COMMAND', 'SIZE', 'CAPTURE WITH'], rows, []).map((l) => `  ${l}`));
    }
  }
  return out.join('\n') + '\n';
}

/** The store's listing: one block per machine and root, a table of agents per task. */
export function formatStoreListing(listing: StoreListing, nowMillis: number): string {
  if (listing.machines.length === 0) return 'nothing shipped to this store yet: run `loupe ship --to URL` on a machine with logs\n';
  const out: string[] = [];
  for (const { machine, roots } of listing.machines) {
    out.push(machine);
    for (const { root, tasks } of roots) {
      out.push(`  ${root}`);
      for (const task of tasks) {
        out.push(`    ${task.taskId}  (${plural(task.agents.length, 'agent')})`);
        const rows = task.agents.map((a) => [
          a.agentId,
          a.exitStatus !== null ? `${a.state} (exit ${a.exitStatus})` : a.state,
          String(a.entries),
          a.lastActivity === null ? '-' : timeLabel(a.lastActivity, nowMillis),
          a.shippedAt === null ? '-' : timeLabel(a.shippedAt, nowMillis),
        ]);
        out.push(...table(['AGENT', 'STATE', 'ENTRIES', 'LAST ACTIVITY', 'SHIPPED'], rows, [2]).map((l) => `      ${l}`));
      }
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}

/** Lines of a waiting agent's question shown under its row. */
const MAX_PROMPT_LINES = 8;

/** A live agent's attention (`waiting 12s`, `working`, `idle 3m`), else how it ended. */
function stateLabel(agent: WorkspaceAgent, nowMillis: number): string {
  if (agent.state === 'ended' && agent.exitStatus !== null) return `ended (exit ${agent.exitStatus})`;
  if (agent.state !== 'live') return agent.state;
  const { state, since } = agent.attention;
  if (state === 'working' || state === 'ended') return state;
  return `${state} ${ago(nowMillis - parseTimestamp(since) / 1000).replace(' ago', '')}`;
}

function serverName(socket: string): string {
  return socket === 'default' ? 'default server' : `socket ${socket}`;
}

/** `12:00:03 (2s ago)` today, `2026-01-02 12:00 (3d ago)` otherwise. */
export function timeLabel(timestamp: string, nowMillis: number): string {
  const millis = parseTimestamp(timestamp) / 1000;
  if (Number.isNaN(millis)) return timestamp;
  const date = new Date(millis);
  const pad = (n: number) => String(n).padStart(2, '0');
  const sameDay = new Date(nowMillis).toDateString() === date.toDateString();
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const when = sameDay
    ? `${clock}:${pad(date.getSeconds())}`
    : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock}`;
  return `${when} (${ago(nowMillis - millis)})`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Left-aligned columns (right-aligned for the indexes in `right`), two spaces apart, no trailing blanks. */
export function table(header: string[], rows: string[][], right: number[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((cells) =>
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}
