/**
 * What an agent's log says about it, read from the ends of the file only (never a full scan):
 * the last entry (entry count, last activity, termination) and the first (start, command).
 */
import fs from 'node:fs';
import { parseEntryLine, type LogEntry } from '../../../shared/entry.js';
import { linesBackward } from '../log/backwards.js';
import { rotatedFiles } from '../log/paths.js';

/** A started entry's command fits in this; a longer first line is not read for the summary. */
const FIRST_LINE_MAX_BYTES = 64 * 1024;
/** How many lines from the end to look through for a valid entry past corrupt lines. */
const MAX_CORRUPT_TAIL_LINES = 100;

export interface AgentLogSummary {
  /** The last sequence: the number of entries ever written (sequences have no gaps). */
  entries: number;
  /** Timestamp of the last entry, as written. */
  lastActivity: string | null;
  /** Timestamp of the first entry in the live file. */
  startedAt: string | null;
  /** The command from the `started` entry, when the live file begins with it. */
  command: string | null;
  /** The exit status from a `terminated` entry that ends the log; undefined when the log does not end so. */
  terminated: { exitStatus: number | null } | undefined;
  /** Bytes in the live file. */
  bytes: number;
}

/** Summarises the log at `file`; null when it cannot be read. */
export function summarizeAgentLog(file: string): AgentLogSummary | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    // Right after a rotation the live file is empty: the last entry is in the newest rotated file.
    const last = lastEntry(fd, size) ?? lastRotatedEntry(file);
    const first = firstEntry(fd, size);
    const started = first?.type === 'system' && first.metadata?.event === 'started' ? first : null;
    const ended = last?.type === 'system' && last.metadata?.event === 'terminated';
    const status = last?.metadata?.exit_status;
    return {
      entries: last?.sequence ?? 0,
      lastActivity: last?.timestamp ?? null,
      startedAt: first?.timestamp ?? null,
      command: typeof started?.metadata?.command === 'string' ? started.metadata.command : null,
      terminated: ended ? { exitStatus: typeof status === 'number' ? status : null } : undefined,
      bytes: size,
    };
  } finally {
    fs.closeSync(fd);
  }
}

function lastEntry(fd: number, size: number): LogEntry | null {
  let seen = 0;
  for (const line of linesBackward(fd, size)) {
    const parsed = parseEntryLine(line.text);
    if (parsed.ok) return parsed.entry;
    if (++seen >= MAX_CORRUPT_TAIL_LINES) break;
  }
  return null;
}

function lastRotatedEntry(file: string): LogEntry | null {
  const newest = rotatedFiles(file).filter((f) => !f.endsWith('.gz')).at(-1);
  if (newest === undefined) return null;
  let fd: number;
  try {
    fd = fs.openSync(newest, 'r');
  } catch {
    return null;
  }
  try {
    return lastEntry(fd, fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
}

function firstEntry(fd: number, size: number): LogEntry | null {
  const buf = Buffer.allocUnsafe(Math.min(size, FIRST_LINE_MAX_BYTES));
  const read = fs.readSync(fd, buf, 0, buf.length, 0);
  const end = buf.subarray(0, read).indexOf(0x0a);
  if (end < 0) return null;
  const parsed = parseEntryLine(buf.subarray(0, end).toString('utf8'));
  return parsed.ok ? parsed.entry : null;
}
