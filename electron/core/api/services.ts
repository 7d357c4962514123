/**
 * What the handlers need from the rest of core, behind one interface so the handlers stay pure
 * and each piece can be swapped in a test. `coreServices()` binds it to the real modules
 * (log store, index, capture, workspace listing).
 */
import stripAnsi from 'strip-ansi';
import { entryTerminalText, serializeEntry, type LogEntry } from '../../../shared/entry.js';
import type {
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
import { compileUserRegex } from '../regex/userRegex.js';
import { LogCursor } from './logCursor.js';

/** Every request that reaches a service has its root and socket checked by the handlers. */
export interface BackendServices {
  listWorkspace(roots: string[], sockets: string[]): Promise<Workspace>;
  tail(file: string, args: EntryFilter & { lines: number; format?: TailFormat }): Promise<TailResult>;
  readEntries(file: string, fromSequence: number, limit?: number): Promise<EntriesResult>;
  search(roots: string[], query: SearchQuery): Promise<SearchResult>;
  stats(roots: string[], query: StatsQuery): Promise<RunSummary[]>;
  attach(request: AttachRequest & { root: string }): Promise<CaptureStarted>;
  detach(request: DetachRequest): Promise<void>;
  runAgent(request: RunAgentRequest & { root: string }): Promise<CaptureStarted>;
}

/** Default and upper bound of entries one `agent:entries` call returns. */
const DEFAULT_ENTRIES_PER_READ = 1000;
/** Bytes of JSONL one `agent:entries` call reads at most, so one reply stays a sensible size. */
const MAX_READ_BYTES = 8 * 1024 * 1024;

/** A feature whose core module is not available in this build. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}

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

/** The last `lines` entries that pass the filter, and their text in `format`. */
export async function tailAgent(file: string, args: EntryFilter & { lines: number; format?: TailFormat }): Promise<TailResult> {
  const { tailEntries } = await import('../log/tail.js');
  const regex = args.grep ? compileUserRegex(args.grep, { ignoreCase: args.ignoreCase }) : undefined;
  const result = await tailEntries(file, {
    n: args.lines,
    filter: { types: args.types, minLevel: args.minLevel, regex },
  });
  const entries = result.entries.map((r) => r.entry);
  return { entries, text: await formatEntries(entries, args.format ?? 'jsonl') };
}

async function formatEntries(entries: LogEntry[], format: TailFormat): Promise<string> {
  switch (format) {
    case 'json':
      return JSON.stringify(entries);
    case 'jsonl':
      return entries.map(serializeEntry).join('');
    case 'ansi':
      return entries.map(entryTerminalText).join('');
    case 'text':
      return stripAnsi(entries.map(entryTerminalText).join(''));
  }
}

/**
 * The real services. Workspace listing, search, stats and capture control come from their core
 * modules; a module that is not part of this build answers with `UnavailableError`.
 */
export function coreServices(): BackendServices {
  return {
    listWorkspace: listLogs,
    tail: tailAgent,
    readEntries,
    async search() {
      throw new UnavailableError('search needs the index, which is not available in this build');
    },
    async stats() {
      throw new UnavailableError('run statistics need the index, which is not available in this build');
    },
    async attach() {
      throw new UnavailableError('attaching capture is not available in this build');
    },
    async detach() {
      throw new UnavailableError('detaching capture is not available in this build');
    },
    async runAgent() {
      throw new UnavailableError('running agents is not available in this build');
    },
  };
}

/** Roots → tasks → agents from the files alone (no tmux panes, no live state). */
async function listLogs(roots: string[]): Promise<Workspace> {
  const { listTasks, listTaskAgents } = await import('../log/paths.js');
  const { lastEntryOf } = await import('./lastEntry.js');
  return {
    roots: roots.map((root) => ({
      root,
      tasks: listTasks(root).map((taskId) => ({
        root,
        taskId,
        agents: listTaskAgents(root, taskId).map((log) => {
          const last = lastEntryOf(log.file);
          return {
            root,
            taskId,
            agentId: log.agentId,
            state: last?.metadata?.event === 'terminated' ? (last.metadata.exit_status === 0 ? 'ended' : 'error') : 'live',
            entries: last?.sequence ?? 0,
            lastActivity: last?.timestamp ?? null,
            cols: null,
            rows: null,
            exitStatus: typeof last?.metadata?.exit_status === 'number' ? last.metadata.exit_status : null,
            paneId: null,
          };
        }),
      })),
    })),
    panes: [],
  };
}
