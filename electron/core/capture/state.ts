/**
 * Capture state on disk, per tmux socket:
 *
 *   <state dir>/sockets/<socket name>/
 *     <capture id>.json    the capture record: where its log is, spool offset and sequence
 *     <capture id>.spool   raw pane bytes appended by resources/capture/loupe-pipe.sh
 *     <capture id>.spool.eof  touched by the helper when its pipe closed
 *
 * The state dir is `$LOUPE_STATE_DIR`, else `$XDG_STATE_HOME/loupe`, else `~/.local/state/loupe`.
 * tmux pane options are the registry of live captures; these records let the capture host
 * continue exactly where it stopped, and finish captures whose tmux server died meanwhile.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CaptureMethod } from '../../../shared/entry.js';
import type { Losses } from '../log/writer.js';

export function stateDir(): string {
  if (process.env.LOUPE_STATE_DIR) return path.resolve(process.env.LOUPE_STATE_DIR);
  const xdg = process.env.XDG_STATE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'state'), 'loupe');
}

/** The folder holding one tmux socket's capture records and spools (created if needed). */
export function socketStateDir(socketName: string): string {
  const dir = path.join(stateDir(), 'sockets', socketName);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** `capture id`: the agent id plus random hex, so pane ids reused by a new tmux server never collide. */
export function newCaptureId(agentId: string): string {
  return `${agentId.slice(0, 100)}-${randomBytes(6).toString('hex')}`;
}

export const CAPTURE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface CaptureRecord {
  captureId: string;
  socketName: string;
  paneId: string;
  session: string;
  agentId: string;
  taskId: string;
  root: string;
  logFile: string;
  method: CaptureMethod;
  command: string;
  /** `starting` until the `started` entry is on disk; the host leaves such captures alone. */
  phase: 'starting' | 'capturing';
  /** Milliseconds since the epoch when the record was created (to expire abandoned starts). */
  createdAt: number;
  cols: number;
  rows: number;
  /** Close the pane once its command ended and the capture is complete (Loupe turned remain-on-exit on). */
  killDeadPane: boolean;
  /** Spool bytes already represented in the log. */
  offset: number;
  /** The log's last sequence when `offset` was recorded. */
  sequence: number;
  /** Output this capture knows it lost so far (over host restarts); absent: none. */
  losses?: Losses;
}

export function recordPath(dir: string, captureId: string): string {
  return path.join(dir, `${captureId}.json`);
}

export function spoolPath(dir: string, captureId: string): string {
  return path.join(dir, `${captureId}.spool`);
}

/**
 * Replies sent to a captured pane from Loupe (SPEC §13), one JSON line each, for the capture
 * host to write into the agent's log as `control` entries: the host is the log's only writer.
 */
export function repliesPath(dir: string, captureId: string): string {
  return path.join(dir, `${captureId}.replies.jsonl`);
}

/** A reply as the host takes it from `repliesPath`. */
export interface PaneReply {
  text: string;
  enter: boolean;
  /** Who sent it: `app` or `loupe serve`. */
  by: string;
  /** µs since the epoch. */
  at: number;
}

/** Takes the replies waiting for a capture (oldest first); a torn last line waits for the next take. */
export function takeReplies(dir: string, captureId: string): PaneReply[] {
  const file = repliesPath(dir, captureId);
  const taking = `${file}.${process.pid}.taking`;
  try {
    fs.renameSync(file, taking);
  } catch {
    return []; // none
  }
  try {
    return fs
      .readFileSync(taking, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .flatMap((line) => {
        try {
          const r = JSON.parse(line) as PaneReply;
          return typeof r.text === 'string' && typeof r.at === 'number' ? [r] : [];
        } catch {
          return [];
        }
      });
  } finally {
    fs.rmSync(taking, { force: true });
  }
}

export function eofMarkerPath(spool: string): string {
  return `${spool}.eof`;
}

/** Writes a record atomically (write + rename), so a crash never leaves half a record. */
export function saveRecord(dir: string, record: CaptureRecord): void {
  const file = recordPath(dir, record.captureId);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * Saves a running capture's record if it can (RELIABILITY D10): on a full disk, or out of file
 * descriptors, the record stays as it was and capture goes on. The record is only a bookmark:
 * a host that restarts from an older one finds where the log really ends (SpoolCapture's
 * reconcile). Returns whether it was saved.
 */
export function saveRecordIfPossible(dir: string, record: CaptureRecord): boolean {
  try {
    saveRecord(dir, record);
    return true;
  } catch {
    return false;
  }
}

export function loadRecord(dir: string, captureId: string): CaptureRecord | null {
  try {
    const value = JSON.parse(fs.readFileSync(recordPath(dir, captureId), 'utf8')) as CaptureRecord;
    return typeof value.captureId === 'string' && typeof value.offset === 'number' ? value : null;
  } catch {
    return null;
  }
}

/** Every capture id with a record in `dir`. */
export function listCaptureIds(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -'.json'.length))
    .filter((id) => CAPTURE_ID_PATTERN.test(id));
}

/** Removes a finished capture's record, spool and markers. */
export function removeCapture(dir: string, captureId: string): void {
  const spool = spoolPath(dir, captureId);
  for (const f of [recordPath(dir, captureId), spool, eofMarkerPath(spool), repliesPath(dir, captureId)]) fs.rmSync(f, { force: true });
}
