/**
 * Shipping positions kept beside the logs, for destinations that acknowledge no positions of their
 * own (OTLP collectors): one small JSON file per agent log and destination,
 *
 *   <root>/.agent-workspace/.ship/<destination>/<task>/<agent>.json   {"sequence": N, "line": N}
 *
 * written to a temporary file, flushed and renamed over the old one, so a crash leaves the old
 * position or the new one, never a torn file. `<destination>` is `<kind>-<12 hex>`, a hash of the
 * endpoint and machine name, with a `destination.json` that says which in words.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { lastEntryOf } from '../api/lastEntry.js';
import { listAgentLogs, workspaceDir } from '../log/paths.js';
import type { AgentKey, ShipPosition } from './follow.js';

const SHIP_DIR = '.ship';
const DESTINATION_FILE = 'destination.json';

/** What a destination folder's `destination.json` holds. */
export interface ShipDestination {
  kind: string;
  /** The endpoint, without credentials. */
  endpoint: string;
  machine: string;
}

/** The folder of one destination's cursors under a root; written on first use. */
export function destinationDir(root: string, destination: ShipDestination): string {
  const hash = createHash('sha256').update(`${destination.kind}\u0000${destination.endpoint}\u0000${destination.machine}`).digest('hex').slice(0, 12);
  return path.join(workspaceDir(root), SHIP_DIR, `${destination.kind}-${hash}`);
}

function cursorFile(dir: string, agent: AgentKey): string {
  return path.join(dir, agent.taskId, `${agent.agentId}.json`);
}

/** The acknowledged position of an agent at a destination; nothing shipped when there is no cursor yet. */
export function readCursor(dir: string, agent: AgentKey): ShipPosition {
  let text: string;
  try {
    text = fs.readFileSync(cursorFile(dir, agent), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sequence: 0, line: 0 };
    throw err;
  }
  let value: Partial<ShipPosition> | null = null;
  try {
    value = JSON.parse(text) as Partial<ShipPosition>;
  } catch {
    // reported below
  }
  if (!Number.isSafeInteger(value?.sequence) || !Number.isSafeInteger(value?.line)) throw new Error(`${cursorFile(dir, agent)} is not a shipping position`);
  return { sequence: value!.sequence!, line: value!.line! };
}

/** Replaces an agent's position atomically (temporary file, fsync, rename). */
export function writeCursor(dir: string, destination: ShipDestination, agent: AgentKey, position: ShipPosition): void {
  const file = cursorFile(dir, agent);
  if (!fs.existsSync(path.join(dir, DESTINATION_FILE))) {
    fs.mkdirSync(dir, { recursive: true });
    writeAtomically(path.join(dir, DESTINATION_FILE), JSON.stringify(destination) + '\n');
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeAtomically(file, JSON.stringify({ sequence: position.sequence, line: position.line }) + '\n');
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Entries of a root's live logs not acknowledged yet, per destination kind: for each destination
 * with cursors under the root, the sum over its agents of last sequence − shipped sequence (a log
 * it has no cursor for counts in full); per kind, the destination furthest behind. Empty when
 * nothing under the root ships through cursors.
 */
export function unshippedEntries(root: string): Map<string, number> {
  const base = path.join(workspaceDir(root), SHIP_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return new Map();
  }
  const lag = new Map<string, number>();
  const logs = listAgentLogs(root).map((log) => ({ log, last: lastEntryOf(log.file)?.sequence ?? 0 }));
  for (const name of names) {
    const dir = path.join(base, name);
    let destination: ShipDestination;
    try {
      destination = JSON.parse(fs.readFileSync(path.join(dir, DESTINATION_FILE), 'utf8')) as ShipDestination;
    } catch {
      continue; // not a destination folder (or one being created)
    }
    let behind = 0;
    for (const { log, last } of logs) {
      let shipped = 0;
      try {
        shipped = readCursor(dir, log).sequence;
      } catch {
        // an unreadable cursor: the shipper starts that log over, so all of it is behind
      }
      behind += Math.max(0, last - shipped);
    }
    lag.set(destination.kind, Math.max(lag.get(destination.kind) ?? 0, behind));
  }
  return lag;
}
