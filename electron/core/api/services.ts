/**
 * What the handlers need from the rest of core, behind one interface so the handlers stay pure
 * and each piece can be swapped in a test. `coreServices()` binds it to the real modules
 * (log store, index, capture, workspace listing).
 */
import path from 'node:path';
import { entryTerminalText, sanitizeAgentId, serializeEntry, type LogEntry } from '../../../shared/entry.js';
import type {
  AgentRef,
  RunLinks,
  AttachRequest,
  CaptureStarted,
  DetachRequest,
  EntriesResult,
  EntryFilter,
  RunAgentRequest,
  RunSummary,
  SearchQuery,
  SearchResult,
  StatsQuery,
  TailFormat,
  TailResult,
  Workspace,
} from '../../../shared/ipc.js';
import { MAX_TAIL_REPLY_BYTES } from '../../../shared/ipc.js';
import { agentIdOfLogFile } from '../log/paths.js';
import { compileUserRegex } from '../regex/userRegex.js';
import type { LineRecord } from '../screen/lineRecord.js';
import { LogCursor } from './logCursor.js';
import type { IndexDb } from '../index/schema.js';
import type { RootIndexes } from './rootIndexes.js';

/** Every request that reaches a service has its root and socket checked by the handlers. */
export interface BackendServices {
  listWorkspace(roots: string[], sockets: string[]): Promise<Workspace>;
  tail(file: string, args: EntryFilter & { lines: number; format?: TailFormat }): Promise<TailResult>;
  readEntries(file: string, fromSequence: number, limit?: number): Promise<EntriesResult>;
  search(roots: string[], query: SearchQuery): Promise<SearchResult>;
  stats(roots: string[], query: StatsQuery): Promise<RunSummary[]>;
  runLinks(ref: AgentRef): Promise<RunLinks>;
  /** The root's index as it stands, without waiting for what is still being indexed; null while it is not open. */
  indexDb(root: string): IndexDb | null;
  attach(request: AttachRequest & { root: string }): Promise<CaptureStarted>;
  detach(request: DetachRequest): Promise<void>;
  runAgent(request: RunAgentRequest & { root: string }): Promise<CaptureStarted>;
  /** Types into the live pane of an agent (its socket and pane from the workspace listing). */
  reply(request: { socket: string; paneId: string; text: string; enter: boolean; by: string }): Promise<void>;
}

/** Default and upper bound of entries one `agent:entries` call returns. */
export const DEFAULT_ENTRIES_PER_READ = 1000;
/** Bytes of JSONL one `agent:entries` call reads at most, so one reply stays a sensible size. */
export const MAX_READ_BYTES = 8 * 1024 * 1024;

/** Reads up to `limit` entries from `fromSequence` on, from the live file. */
export async function readEntries(file: string, fromSequence: number, limit = DEFAULT_ENTRIES_PER_READ): Promise<EntriesResult> {
  const cursor = new LogCursor(file, fromSequence);
  try {
    const read = cursor.read(MAX_READ_BYTES, limit);
    const last = read.entries[read.entries.length - 1];
    return { entries: read.entries, nextSequence: last ? last.sequence + 1 : fromSequence, atEnd: !read.more };
  } finally {
    cursor.close();
  }
}

/**
 * The last `lines` entries that pass the filter, and their text in `format`. For `text`, the
 * entries are screen lines in the shape of entries (SPEC §12, `lineAsEntry`): what the terminal
 * showed, each line once.
 */
export async function tailAgent(
  file: string,
  args: EntryFilter & { lines: number; format?: TailFormat },
  indexes?: RootIndexes,
): Promise<TailResult> {
  const regex = args.grep ? compileUserRegex(args.grep, { ignoreCase: args.ignoreCase }) : undefined;
  if (args.format === 'text') {
    const [{ tailLines }, { lineAsEntry }] = await Promise.all([import('../screen/tailLines.js'), import('../search/agentLines.js')]);
    const filter = { types: args.types, minLevel: args.minLevel, regex };
    const tail = await tailLines(file, { n: args.lines, filter, indexerOf: indexes && ((root) => indexes.indexerOf(root)) });
    tail.dispose();
    return lineTailResult(tail.lines, agentIdOfLogFile(file), lineAsEntry);
  }
  const { tailEntries } = await import('../log/tail.js');
  const result = await tailEntries(file, {
    n: args.lines,
    filter: { types: args.types, minLevel: args.minLevel, regex },
    maxBytes: MAX_TAIL_REPLY_BYTES,
  });
  const entries = result.entries.map((r) => r.entry);
  return { entries, text: formatEntries(entries, args.format ?? 'jsonl'), truncated: result.truncated };
}

/**
 * A `text` tail's reply from the last screen lines, oldest first: the newest that fit the reply's
 * size cap (RELIABILITY W7), in the shape of entries (`asEntry`: search/agentLines.ts's
 * `lineAsEntry`, passed in so that this module does not load the line readers before a text tail).
 */
export function lineTailResult(
  all: readonly LineRecord[],
  agentId: string,
  asEntry: (line: LineRecord, agentId: string) => LogEntry,
): TailResult {
  const from = fittingTailStart(all, (l) => Buffer.byteLength(l.text) + 1);
  const lines = all.slice(from);
  return { entries: lines.map((l) => asEntry(l, agentId)), text: lines.map((l) => `${l.text}\n`).join(''), truncated: from > 0 };
}

/** Where the newest of `items` whose sizes add up to at most `MAX_TAIL_REPLY_BYTES` begin (the newest one always fits). */
export function fittingTailStart<T>(items: readonly T[], bytesOf: (item: T) => number): number {
  let from = items.length;
  for (let bytes = 0; from > 0; from--) {
    bytes += bytesOf(items[from - 1]);
    if (bytes > MAX_TAIL_REPLY_BYTES && from < items.length) break;
  }
  return from;
}

/** Entries in a raw format, as `agent:tail` returns them: `jsonl` and `ansi` as `loupe tail` prints them, `json` the same array on one line. */
export function formatEntries(entries: readonly LogEntry[], format: Exclude<TailFormat, 'text'>): string {
  switch (format) {
    case 'json':
      return JSON.stringify(entries);
    case 'jsonl':
      return entries.map(serializeEntry).join('');
    case 'ansi':
      return entries.map(entryTerminalText).join('');
  }
}

/**
 * The real services: workspace listing, capture control, and search and stats over the roots'
 * indexes. Their modules load on first use, so `loupe --help` and a backend that only streams
 * never load tmux or SQLite code.
 */
export function coreServices(indexes: RootIndexes): BackendServices {
  return {
    listWorkspace: (roots, sockets) => listWorkspace(roots, sockets, indexes),
    tail: (file, args) => tailAgent(file, args, indexes),
    readEntries,
    search: (_roots, query) => indexes.search(query),
    stats: (_roots, query) => indexes.stats(query),
    runLinks: (ref) => indexes.runLinks(ref),
    indexDb: (root) => indexes.currentDb(root),
    async attach(request) {
      const { attachPane } = await import('../capture/session.js');
      const started = await attachPane({
        root: request.root,
        target: request.target,
        taskId: request.taskId,
        name: request.name,
        socket: request.socket,
      });
      return captureStarted(request.root, started);
    },
    async detach(request) {
      const { detachPane } = await import('../capture/session.js');
      await detachPane({ target: request.target, socket: request.socket });
    },
    async reply(request) {
      const { replyToPane } = await import('../capture/session.js');
      await replyToPane(request);
    },
    async runAgent(request) {
      const { runAgent } = await import('../capture/session.js');
      const words = commandWords(request.command);
      const started = await runAgent({
        root: request.root,
        taskId: request.taskId,
        name: request.name ?? sanitizeAgentId(path.basename(request.command.trim().split(/\s+/)[0] ?? 'agent')),
        socket: request.socket,
        cols: request.cols,
        rows: request.rows,
        command: words,
      });
      return captureStarted(request.root, started);
    },
  };
}

/** Plain words run as they are; anything with shell syntax (quotes, pipes, `&&`) runs under `sh -c`. */
function commandWords(command: string): string[] {
  const trimmed = command.trim();
  return /^[\w@%+=:,./ -]+$/.test(trimmed) ? trimmed.split(/ +/) : ['sh', '-c', trimmed];
}

function captureStarted(
  root: string,
  started: { agentId: string; taskId: string; logFile: string; paneId: string },
): CaptureStarted {
  return { root, taskId: started.taskId, agentId: started.agentId, paneId: started.paneId, file: started.logFile };
}

/** The workspace listing (core/workspace), in the contract's shape. */
export async function listWorkspace(roots: string[], sockets: string[], indexes?: RootIndexes): Promise<Workspace> {
  const { listWorkspace: list } = await import('../workspace/list.js');
  const ws = await list({ roots, sockets, attentionFacts: indexes && ((root) => indexes.attentionFacts(root)) });
  return {
    roots: ws.roots.map((r) => ({
      root: r.root,
      tasks: r.tasks.map((t) => ({
        root: r.root,
        taskId: t.taskId,
        agents: t.agents.map((a) => ({
          root: r.root,
          taskId: t.taskId,
          agentId: a.agentId,
          state: a.state === 'live' ? 'live' : a.exitStatus !== null && a.exitStatus !== 0 ? 'error' : 'ended',
          entries: a.entries,
          lastActivity: a.lastActivity,
          cols: null,
          rows: null,
          exitStatus: a.exitStatus,
          paneId: a.pane?.paneId ?? null,
          socket: a.pane?.socket ?? null,
          attention: a.attention,
        })),
      })),
    })),
    panes: ws.panes.map((p) => {
      const [, windowIndex = '0', paneIndex = '0'] = /:(\d+)\.(\d+)$/.exec(p.target) ?? [];
      return {
        socket: p.socket,
        paneId: p.paneId,
        session: p.session,
        windowIndex: Number(windowIndex),
        paneIndex: Number(paneIndex),
        command: p.command,
        cols: p.cols,
        rows: p.rows,
        captured: false,
        agent: null,
      };
    }),
  };
}
