/**
 * A local copy of a shipped agent's log, so that every local reader (replay, keyframes, screen,
 * export) works on an agent of the PostgreSQL store unchanged (SPEC §16).
 *
 * - Layout: a normal root per machine and shipped root, under Loupe's state folder:
 *   `<state>/store-cache/<store id>/<machine>/<root slug>/.agent-workspace/<task>/logs/<agent>_stream.jsonl`.
 *   The store id is a hash of the server's host, port and database (never the password); the
 *   root slug is the shipped root as one folder name plus a hash of it, so two roots never share one.
 * - The file holds the entries' JSONL lines exactly as the store holds them, which are the lines
 *   the shipping machine wrote: byte for byte its JSONL.
 * - Incremental: each call appends only the entries after the cached file's last sequence, read
 *   page by page. A torn last line (a crash mid-append) is cut off first; a cache whose last line
 *   is not what the store holds under its sequence (corrupt, or the store was replaced) is
 *   rebuilt into a temporary file renamed over it, and its keyframes are dropped.
 * - Two processes (or connections) caching the same agent take turns under a PostgreSQL advisory
 *   lock keyed by the cache file, which the server releases if a process dies; calls on one
 *   connection queue.
 * - Entries pruned from the store (`loupe store prune`) are simply absent: a cache made after a
 *   prune starts at the first entry the store still holds, and replay shows the run from there,
 *   in the default terminal size until an entry sets one. A cache made before keeps them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type pg from 'pg';
import { parseEntryLine } from '../../../shared/entry.js';
import { stateDir } from '../capture/state.js';
import { completeEnd, linesBackward } from '../log/backwards.js';
import { streamPath, type AgentLog } from '../log/paths.js';
import { KeyframeStore } from '../replay/keyframes.js';
import { StoreAgentError, type StoreAgentRef } from './tail.js';

/** Rows read per round trip: a few hundred KB of typical lines. */
const PAGE_ROWS = 2000;
/** First key of the advisory locks on cache files (the second is the file's CRC-32). */
const CACHE_LOCK_SPACE = 0x10_0be_ca;
/** How often a process waiting for another's cache of the same agent tries the lock again. */
const LOCK_RETRY_MS = 50;
/** Machine names that are already safe folder names (what `loupe ship --machine` accepts). */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Cache updates running in this process, by connection and file: a second one on the same
 * connection waits for the first (advisory locks are re-entrant within a session).
 */
const running = new WeakMap<pg.Client, Map<string, Promise<unknown>>>();

/** The local copy cannot be written (disk full, permissions); the CLI prints it and exits 1. */
export class StoreCacheError extends Error {
  override name = 'StoreCacheError';
  readonly exitCode = 1;
}

/**
 * Brings the local copy of `agent`'s shipped entries up to date and returns it as an agent log
 * of a cache root.
 */
export async function cacheStoreAgent(client: pg.Client, agent: StoreAgentRef): Promise<AgentLog> {
  const { rows } = await client.query<{ root: string }>('SELECT root FROM loupe_agents WHERE id = $1', [agent.id]);
  if (rows.length === 0) throw new StoreAgentError(`agent ${JSON.stringify(agent.agentId)} is no longer in the store; run \`loupe ls --store URL\` to list agents`);
  const root = cacheRoot(client, agent.machine, rows[0]!.root);
  const log: AgentLog = { root, taskId: agent.taskId, agentId: agent.agentId, file: streamPath(root, agent.taskId, agent.agentId) };
  onDisk(log.file, () => fs.mkdirSync(path.dirname(log.file), { recursive: true }));
  let mine = running.get(client);
  if (mine === undefined) running.set(client, (mine = new Map()));
  const before = mine.get(log.file) ?? Promise.resolve();
  const update = before.catch(() => {}).then(() => withCacheLock(client, log.file, () => updateCache(client, agent.id, log)));
  mine.set(log.file, update);
  try {
    await update;
  } finally {
    if (mine.get(log.file) === update) mine.delete(log.file);
  }
  return log;
}

/** The cache root of one machine's shipped root in the store `client` is connected to. */
function cacheRoot(client: pg.Client, machine: string, shippedRoot: string): string {
  const storeId = shortHash(`${client.host}:${client.port}/${client.database ?? ''}`, 16);
  const machineFolder = PLAIN_NAME.test(machine) ? machine : folderName(machine);
  return path.join(stateDir(), 'store-cache', storeId, machineFolder, folderName(shippedRoot));
}

/** Any text as one safe folder name: its letters, digits, `.`, `_`, `-`, then a hash of it all. */
function folderName(text: string): string {
  const slug = text.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${slug}-${shortHash(text, 8)}`.replace(/^[.-]+/, '');
}

function shortHash(text: string, hexChars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars);
}

/** Runs `work` holding the advisory lock of `file` on this connection. */
async function withCacheLock<T>(client: pg.Client, file: string, work: () => Promise<T>): Promise<T> {
  const key = zlib.crc32(file) | 0;
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [CACHE_LOCK_SPACE, key]);
    if (rows[0]!.ok) break;
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
  try {
    return await work();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [CACHE_LOCK_SPACE, key]).catch(() => {});
  }
}

/** Appends what the cache lacks, after checking (and if need be rebuilding) what it holds. */
async function updateCache(client: pg.Client, agentId: number, log: AgentLog): Promise<void> {
  // Read under the lock: another process may have cached entries shipped after we looked up the agent.
  const { rows } = await client.query<{ shipped_seq: string }>('SELECT shipped_seq FROM loupe_agents WHERE id = $1', [agentId]);
  const shippedSeq = Number(rows[0]?.shipped_seq ?? 0);
  const cached = await checkCachedTail(client, agentId, log.file, shippedSeq);
  if (cached === null) {
    await rebuildCache(client, agentId, log);
    return;
  }
  if (cached >= shippedSeq) return;
  const fd = onDisk(log.file, () => fs.openSync(log.file, 'a'));
  try {
    await appendEntries(client, agentId, cached, fd, log.file);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The last sequence the cache file holds (0 for an empty one), after cutting off a torn last
 * line; null when the file is missing or cannot be trusted (its last line is not an entry, is
 * beyond what the store shipped, or differs from the store's line of that sequence).
 */
async function checkCachedTail(client: pg.Client, agentId: number, file: string, shippedSeq: number): Promise<number | null> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch {
    return null;
  }
  let last: string | undefined;
  try {
    const size = fs.fstatSync(fd).size;
    const end = completeEnd(fd, size);
    // Only a crashed cache writer leaves a torn tail: writers take turns under the lock.
    if (end < size) onDisk(file, () => fs.ftruncateSync(fd, end));
    const lastLine = linesBackward(fd, end).next();
    last = lastLine.done === true ? undefined : lastLine.value.text;
  } finally {
    fs.closeSync(fd);
  }
  if (last === undefined) return 0;
  const parsed = parseEntryLine(last);
  if (!parsed.ok || parsed.entry.sequence > shippedSeq) return null;
  const seq = parsed.entry.sequence;
  const { rows } = await client.query<{ line: string }>('SELECT line FROM loupe_entries WHERE agent = $1 AND seq = $2', [agentId, seq]);
  // A row pruned since it was cached cannot be compared: the rest of the file is trusted.
  if (rows.length > 0 && rows[0]!.line !== last) return null;
  return seq;
}

/** Writes every entry the store holds into a temporary file and renames it over the cache. */
async function rebuildCache(client: pg.Client, agentId: number, log: AgentLog): Promise<void> {
  // One name: rebuilds take turns under the lock, and the next one overwrites a crashed one's.
  const tmp = `${log.file}.tmp`;
  const fd = onDisk(tmp, () => fs.openSync(tmp, 'w'));
  try {
    await appendEntries(client, agentId, 0, fd, tmp);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  // Keyframes point at byte offsets of the old file.
  KeyframeStore.forLog(log).clear();
  onDisk(log.file, () => fs.renameSync(tmp, log.file));
}

/** Writes the agent's entries after sequence `after` to `fd` (open on `file`), one page (one write) at a time. */
async function appendEntries(client: pg.Client, agentId: number, after: number, fd: number, file: string): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ seq: string; line: string }>(
      `SELECT seq, line FROM loupe_entries WHERE agent = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE_ROWS}`,
      [agentId, after],
    );
    if (rows.length === 0) return;
    const page = Buffer.from(rows.map((r) => r.line + '\n').join(''), 'utf8');
    onDisk(file, () => {
      for (let done = 0; done < page.length; ) done += fs.writeSync(fd, page, done);
    });
    if (rows.length < PAGE_ROWS) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}

/** Runs a file operation on the cache; its failure becomes a `StoreCacheError` naming the file and what to do. */
function onDisk<T>(file: string, operation: () => T): T {
  try {
    return operation();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOSPC' ? 'the disk is full'
      : e.code === 'ENOTDIR' ? 'a part of that path is a file, not a folder'
      : e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS' ? `permission denied (${e.code})`
      : e.message;
    throw new StoreCacheError(`cannot write ${file}, Loupe's copy of an agent in the store: ${why}; free some space, or set LOUPE_STATE_DIR to another folder`);
  }
}
