/**
 * Finding the run to replay and reading the moment the user asked for (`--at ISO`, `--seq N`,
 * `--from ISO|SEQ`). Errors are `ReplayError`s (a bad `--root` is the shared `RootError`): one
 * line, naming the input and what to do.
 */
import path from 'node:path';
import { checkAgentId, checkTaskId, parseTimestamp } from '../../../shared/entry.js';
import { checkRootFolder, findAgentLog, type AgentLog } from '../log/paths.js';
import type { ReplayPoint } from './seek.js';

/** A user error about what to replay; the CLI prints its message and exits 2. */
export class ReplayError extends Error {
  override name = 'ReplayError';
}

/** The log of `agentId` under `root` (the newest task holding it, unless `taskId` is given). */
export function locateRun(root: string, agentId: string, taskId?: string): AgentLog {
  checkAgentId(agentId);
  if (taskId !== undefined) checkTaskId(taskId);
  checkRootFolder(root);
  const log = findAgentLog(root, agentId, taskId);
  if (log === null) {
    const where = taskId !== undefined ? `task ${taskId} under ${path.resolve(root)}` : path.resolve(root);
    throw new ReplayError(`no agent ${JSON.stringify(agentId)} in ${where}; run \`loupe ls --root ${root}\` to list agents`);
  }
  return log;
}

/** `--at`: an ISO 8601 time. */
export function parseTimePoint(option: string, value: string): ReplayPoint {
  const time = parseTimestamp(value.trim());
  if (Number.isNaN(time)) {
    throw new ReplayError(`${option} ${JSON.stringify(value)} is not an ISO 8601 time; use e.g. 2026-11-21T23:54:09Z or 2026-11-21T23:54:09.123+01:00`);
  }
  return { time };
}

/** `--seq`: an entry's sequence number. */
export function parseSeqPoint(option: string, value: string): ReplayPoint {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value)) || Number(value) < 1) {
    throw new ReplayError(`${option} ${JSON.stringify(value)} is not a sequence number; use an integer >= 1 (see \`loupe tail --format json\`)`);
  }
  return { seq: Number(value) };
}

/** `--from` / `--to`: a sequence number (digits only) or an ISO 8601 time. */
export function parseTimeOrSeqPoint(option: string, value: string): ReplayPoint {
  if (/^\s*\d+\s*$/.test(value)) return parseSeqPoint(option, value);
  if (!Number.isNaN(parseTimestamp(value.trim()))) return parseTimePoint(option, value);
  throw new ReplayError(`${option} ${JSON.stringify(value)} is neither an entry number nor an ISO 8601 time; use e.g. ${option} 1200 or ${option} 2026-11-21T23:54:09Z`);
}
