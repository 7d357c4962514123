/**
 * Where logs live (SPEC §3):
 *   <root>/.agent-workspace/TASK-<YYYYMMDD-HHMMSS>-<8 hex>/logs/<agent_id>_stream.jsonl
 * Every path built here comes from validated ids and is checked to stay under its root.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { checkAgentId, checkTaskId, isAgentId, isTaskId } from '../../../shared/entry.js';

export const WORKSPACE_DIR = '.agent-workspace';
export const STREAM_SUFFIX = '_stream.jsonl';

/** A new task id from the current local time and 32 random bits. */
export function newTaskId(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  return `TASK-${stamp}-${randomBytes(4).toString('hex')}`;
}

export function workspaceDir(root: string): string {
  return path.join(path.resolve(root), WORKSPACE_DIR);
}

export function taskDir(root: string, taskId: string): string {
  return path.join(workspaceDir(root), checkTaskId(taskId));
}

export function logsDir(root: string, taskId: string): string {
  return path.join(taskDir(root, taskId), 'logs');
}

export function streamPath(root: string, taskId: string, agentId: string): string {
  return path.join(logsDir(root, taskId), `${checkAgentId(agentId)}${STREAM_SUFFIX}`);
}

/** The agent id of a `<agent>_stream.jsonl` file name, or null for anything else (rotated files included). */
export function agentIdOfStreamFile(fileName: string): string | null {
  if (!fileName.endsWith(STREAM_SUFFIX)) return null;
  const id = fileName.slice(0, -STREAM_SUFFIX.length);
  return isAgentId(id) ? id : null;
}

/** The agent id a log file's name carries: `<agent>_stream.jsonl`, or a rotated `….jsonl.<stamp>[.gz]`. */
export function agentIdOfLogFile(file: string): string {
  return path.basename(file).replace(/_stream\.jsonl.*$/, '');
}

/**
 * The agent log a live `<root>/.agent-workspace/<task>/logs/<agent>_stream.jsonl` path belongs
 * to, or null for any other file (a rotated file, a log outside a root).
 */
export function agentLogOfFile(file: string): AgentLog | null {
  const abs = path.resolve(file);
  const agentId = agentIdOfStreamFile(path.basename(abs));
  const logs = path.dirname(abs);
  const task = path.dirname(logs);
  const workspace = path.dirname(task);
  if (agentId === null || path.basename(logs) !== 'logs' || path.basename(workspace) !== WORKSPACE_DIR) return null;
  const taskId = path.basename(task);
  if (!isTaskId(taskId)) return null;
  return { root: path.dirname(workspace), taskId, agentId, file: abs };
}

/** A user error about a root folder: the CLI prints the message, without a stack. */
export class RootError extends Error {
  override name = 'RootError';
}

/** `--root DIR`, checked the same way everywhere: throws a RootError unless `root` is an existing folder. */
export function checkRootFolder(root: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new RootError(`--root ${root} does not exist; pass the folder that holds .agent-workspace/`);
  }
  if (!stat.isDirectory()) throw new RootError(`--root ${root} is a file, not a folder; pass the folder that holds .agent-workspace/`);
}

/**
 * Checks that `root` can hold a workspace and creates the task's `logs/` folder.
 * Errors name the path and what to do (a root that is a file, a missing parent, ...).
 */
export function ensureLogsDir(root: string, taskId: string): string {
  const dir = logsDir(root, taskId);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOTDIR' || e.code === 'EEXIST') {
      throw new RootError(`cannot create ${dir}: a part of that path is a file, not a folder; pass --root with a folder`);
    }
    if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
      throw new RootError(`cannot create ${dir}: permission denied (${e.code}); pass --root with a writable folder`);
    }
    if (e.code === 'ENOSPC') {
      throw new RootError(`cannot create ${dir}: the disk is full; free some space or pass --root on another disk`);
    }
    throw new RootError(`cannot create ${dir}: ${e.message}`);
  }
  return dir;
}

/** True when `child` resolves (following symlinks where they exist) to a path inside `parent`. */
export function isInside(parent: string, child: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const rel = path.relative(real(parent), real(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface AgentLog {
  root: string;
  taskId: string;
  agentId: string;
  /** The live `<agent>_stream.jsonl`. */
  file: string;
}

/** Every task id under a root, oldest first (task ids sort by time). */
export function listTasks(root: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(workspaceDir(root));
  } catch {
    return [];
  }
  return names.filter(isTaskId).sort();
}

/** Every agent log of a task, by agent id. */
export function listTaskAgents(root: string, taskId: string): AgentLog[] {
  let names: string[];
  try {
    names = fs.readdirSync(logsDir(root, taskId));
  } catch {
    return [];
  }
  const agents: AgentLog[] = [];
  for (const name of names.sort()) {
    const agentId = agentIdOfStreamFile(name);
    if (agentId === null) continue;
    const file = path.join(logsDir(root, taskId), name);
    if (!isInside(workspaceDir(root), file)) continue; // a symlink pointing out of the root
    agents.push({ root: path.resolve(root), taskId, agentId, file });
  }
  return agents;
}

/** Every agent log under a root. */
export function listAgentLogs(root: string): AgentLog[] {
  return listTasks(root).flatMap((taskId) => listTaskAgents(root, taskId));
}

/**
 * Finds an agent's log by id. With several tasks holding the same agent id, the newest task wins
 * unless `taskId` is given. Returns null when there is none.
 */
export function findAgentLog(root: string, agentId: string, taskId?: string): AgentLog | null {
  checkAgentId(agentId);
  const tasks = taskId !== undefined ? [checkTaskId(taskId)] : listTasks(root).reverse();
  for (const t of tasks) {
    const file = streamPath(root, t, agentId);
    if (fs.existsSync(file) && isInside(workspaceDir(root), file)) {
      return { root: path.resolve(root), taskId: t, agentId, file };
    }
  }
  return null;
}

/** Rotated siblings of a stream file (`<file>.<stamp>` and `<file>.<stamp>.gz`), oldest first. */
export function rotatedFiles(file: string): string[] {
  const dir = path.dirname(file);
  const base = path.basename(file) + '.';
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(base) && /^\d{8}T\d{6}(\d{3,6})?(\.gz)?$/.test(n.slice(base.length)))
    .sort()
    .map((n) => path.join(dir, n));
}
