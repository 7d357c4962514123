/**
 * The workspace listing behind `loupe ls` and the app's sidebar (SPEC §4, §7):
 * roots → tasks → agents with their state, plus the tmux panes that are not captured yet.
 *
 * An agent is
 * - `ended` when its log ends with a `terminated` entry (or its pane is dead): `exitStatus` says how;
 * - `live` when a living tmux pane carries `@loupe_log` = its log file;
 * - `stopped` when tmux answered but no pane captures it any more (detached, or its server died);
 * - `unknown` when tmux could not be asked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatTimestamp, parseTimestamp, SOCKET_NAME_PATTERN } from '../../../shared/entry.js';
import { attentionOf, NO_FACTS, type Attention, type AttentionFacts } from '../attention/attention.js';
import { readsTerminal } from '../attention/foreground.js';
import { ConfigError, configCandidates, loadConfig } from '../capture/config.js';
import { listCaptureIds, stateDir } from '../capture/state.js';
import { listTaskAgents, listTasks, taskDir } from '../log/paths.js';
import { DEFAULT_SOCKET_NAME } from '../capture/tmux.js';
import { summarizeAgentLog } from './agentLog.js';
import { listTmuxPanes, type PaneListing, type TmuxPane } from './panes.js';

export type AgentState = 'live' | 'ended' | 'stopped' | 'unknown';

export interface WorkspaceAgent {
  agentId: string;
  taskId: string;
  root: string;
  /** The live `<agent>_stream.jsonl`. */
  file: string;
  state: AgentState;
  /** The exit status of an ended agent (null when it ended without one, or has not ended). */
  exitStatus: number | null;
  /** The number of entries written (its last sequence). */
  entries: number;
  /** ISO timestamp of the last entry, or null for an empty log. */
  lastActivity: string | null;
  /** ISO timestamp of the first entry in the live file. */
  startedAt: string | null;
  /** The captured command, from the `started` entry. */
  command: string | null;
  /** Bytes in the live file. */
  bytes: number;
  /** The tmux pane capturing it, while it is live. */
  pane: { socket: string; paneId: string; target: string } | null;
  /** Whether it needs the user now (SPEC §13). */
  attention: Attention;
}

export interface WorkspaceTask {
  taskId: string;
  dir: string;
  agents: WorkspaceAgent[];
}

export interface WorkspaceRoot {
  /** Absolute path. */
  root: string;
  /** True when the root was not asked for but a live tmux pane captures into it. */
  fromTmux: boolean;
  /** The config file in use for this root (loupe.config.json or the user's), or null for the defaults. */
  configFile: string | null;
  /** Why that config file is not used (the capture falls back to the default rules), or null. */
  configError: string | null;
  /** Oldest first. */
  tasks: WorkspaceTask[];
}

/** A tmux pane that nothing captures yet. */
export interface UncapturedPane {
  socket: string;
  paneId: string;
  target: string;
  session: string;
  command: string;
  cols: number;
  rows: number;
  /** The shell command that starts capturing it. */
  attachCommand: string;
}

export interface TmuxServerStatus {
  socket: string;
  running: boolean;
  /** Why tmux could not be asked (not installed, ...), or null. */
  error: string | null;
}

/** The whole listing; `loupe ls --json` prints exactly this object. */
export interface Workspace {
  roots: WorkspaceRoot[];
  panes: UncapturedPane[];
  tmux: TmuxServerStatus[];
}

export interface ListWorkspaceOptions {
  /** Roots to list (folders holding `.agent-workspace/`). */
  roots: string[];
  /**
   * tmux `-L` socket names to ask. Default: the default server plus every socket Loupe holds
   * capture records for (so agents started with `--socket` show as live without naming it).
   */
  sockets?: string[];
  /** Also list roots that live panes on these sockets capture into. Default false. */
  includePaneRoots?: boolean;
  /**
   * The attention facts of a root's agents, by `taskId/agentId`, from its index brought up to
   * date (null when the index cannot be opened: live agents then count as working or idle by
   * their last output).
   */
  attentionFacts?: (root: string) => Promise<Map<string, AttentionFacts> | null>;
}

/** Lists roots, tasks, agents and uncaptured panes. Never throws for tmux trouble: see `tmux[].error`. */
export async function listWorkspace(options: ListWorkspaceOptions): Promise<Workspace> {
  const sockets = [...new Set(options.sockets?.length ? options.sockets : [DEFAULT_SOCKET_NAME, ...socketsWithCaptures()])];
  const listings = await Promise.all(sockets.map(listTmuxPanes));
  const tmuxAnswered = listings.some((l) => l.error === null);

  const captured = capturedPanes(listings);
  const rootPaths = [...new Set(options.roots.map((r) => path.resolve(r)))];
  const fromTmux = new Set<string>();
  if (options.includePaneRoots) {
    for (const { pane } of captured.values()) {
      if (pane.root === null || pane.dead) continue;
      const root = path.resolve(pane.root);
      if (!rootPaths.includes(root)) {
        rootPaths.push(root);
        fromTmux.add(root);
      }
    }
  }

  // Only live agents have an attention worth reading the index for: a root of ended runs (an
  // archive) is listed from the ends of its logs alone.
  const hasLiveAgent = (root: string) => [...captured.values()].some(({ pane }) => !pane.dead && pane.root !== null && path.resolve(pane.root) === root);
  const facts = await Promise.all(rootPaths.map((root) => (hasLiveAgent(root) ? (options.attentionFacts?.(root).catch(() => null) ?? null) : null)));
  const now = Date.now() * 1000;
  const roots = rootPaths.map((root, i) => ({
    root,
    fromTmux: fromTmux.has(root),
    ...checkConfig(root),
    tasks: listTasks(root).map((taskId) => ({
      taskId,
      dir: taskDir(root, taskId),
      agents: listTaskAgents(root, taskId).map((log) => describeAgent(log, captured, tmuxAnswered, facts[i]?.get(`${taskId}/${log.agentId}`), now)),
    })),
  }));

  const panes: UncapturedPane[] = [];
  for (const listing of listings) {
    for (const pane of listing.panes) {
      if (pane.log !== null || pane.dead) continue;
      panes.push({
        socket: listing.socket,
        paneId: pane.paneId,
        target: pane.target,
        session: pane.session,
        command: pane.command,
        cols: pane.cols,
        rows: pane.rows,
        attachCommand: attachCommand(pane.paneId, listing.socket, rootPaths[0]),
      });
    }
  }

  return {
    roots,
    panes,
    tmux: listings.map(({ socket, running, error }) => ({ socket, running, error })),
  };
}

/** Loads the root's config to report a bad file here, instead of only in the capture host's log. */
function checkConfig(root: string): { configFile: string | null; configError: string | null } {
  try {
    return { configFile: loadConfig(root).file, configError: null };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const file = configCandidates(root).find((f) => fs.existsSync(f)) ?? null;
    return { configFile: file, configError: err.message };
  }
}

/** Sockets with capture records in Loupe's state dir: the servers captures were started on. */
export function socketsWithCaptures(): string[] {
  const dir = path.join(stateDir(), 'sockets');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => SOCKET_NAME_PATTERN.test(name) && listCaptureIds(path.join(dir, name)).length > 0).sort();
}

/** Captured panes by the resolved path of their log. A living pane wins over a dead one. */
function capturedPanes(listings: PaneListing[]): Map<string, { socket: string; pane: TmuxPane }> {
  const byLog = new Map<string, { socket: string; pane: TmuxPane }>();
  for (const { socket, panes } of listings) {
    for (const pane of panes) {
      if (pane.log === null) continue;
      const key = path.resolve(pane.log);
      const seen = byLog.get(key);
      if (seen === undefined || (seen.pane.dead && !pane.dead)) byLog.set(key, { socket, pane });
    }
  }
  return byLog;
}

function describeAgent(
  log: { root: string; taskId: string; agentId: string; file: string },
  captured: Map<string, { socket: string; pane: TmuxPane }>,
  tmuxAnswered: boolean,
  facts: AttentionFacts | undefined,
  now: number,
): WorkspaceAgent {
  const summary = summarizeAgentLog(log.file);
  const holder = captured.get(path.resolve(log.file));
  let state: AgentState;
  let exitStatus: number | null = null;
  if (summary?.terminated !== undefined) {
    state = 'ended';
    exitStatus = summary.terminated.exitStatus;
  } else if (holder !== undefined && !holder.pane.dead) {
    state = 'live';
  } else if (holder !== undefined) {
    state = 'ended'; // the pane's program exited; the capture has not written its termination yet
  } else {
    state = tmuxAnswered ? 'stopped' : 'unknown';
  }
  return {
    agentId: log.agentId,
    taskId: log.taskId,
    root: log.root,
    file: log.file,
    state,
    exitStatus,
    entries: summary?.entries ?? 0,
    lastActivity: summary?.lastActivity ?? null,
    startedAt: summary?.startedAt ?? null,
    command: summary?.command ?? null,
    bytes: summary?.bytes ?? 0,
    pane:
      state === 'live' && holder !== undefined
        ? { socket: holder.socket, paneId: holder.pane.paneId, target: holder.pane.target }
        : null,
    attention: agentAttention(state, summary?.lastActivity ?? null, facts, now, state === 'live' ? (holder?.pane.pid ?? null) : null),
  };
}

/**
 * An agent's attention: from the index's facts while its capture runs; an agent that is not
 * captured any more is `ended` whatever its screen showed last.
 */
function agentAttention(state: AgentState, lastActivity: string | null, facts: AttentionFacts | undefined, now: number, panePid: number | null): Attention {
  const last = lastActivity === null ? null : parseTimestamp(lastActivity);
  if (state === 'ended' || state === 'stopped') {
    const since = facts?.ended ?? last ?? now;
    return { state: 'ended', since: formatTimestamp(since), reason: state === 'ended' ? 'the run ended' : 'nothing captures it any more', prompt: null };
  }
  // Not indexed yet (or no index): its last entry is the last output we know of.
  return attentionOf(facts ?? { ...NO_FACTS, lastOutput: last, activeSince: last }, now, panePid !== null && readsTerminal(panePid));
}

/** `loupe attach %3 --socket work --root /src/app`, quoted for a POSIX shell. */
export function attachCommand(paneId: string, socket: string, root: string | undefined): string {
  let command = `loupe attach ${shellQuote(paneId)}`;
  if (socket !== DEFAULT_SOCKET_NAME) command += ` --socket ${shellQuote(socket)}`;
  if (root !== undefined && path.resolve(root) !== process.cwd()) command += ` --root ${shellQuote(root)}`;
  return command;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
