/**
 * The MCP tools of `loupe mcp` (SPEC §15), each mapped onto the contract's read channels
 * (`workspace:list`, `agent:tail`, `agent:entries`, `live:subscribe`, `index:search`,
 * `index:stats`), so an MCP client gets exactly what the app, `loupe serve` and the CLI get.
 * What is here is only MCP's side: snake_case arguments in the seed's names, finding an agent
 * when no task is given, and keeping each reply a size a model can read.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AGENT_ID_PATTERN, ENTRY_TYPES, LEVELS, SEARCH_SOURCES, TASK_ID_PATTERN, type LogEntry } from '../../shared/entry.js';
import {
  MAX_ENTRIES_PER_READ,
  MAX_SEARCH_LIMIT,
  MAX_TAIL_LINES,
  type AgentRef,
  type InvokeArgs,
  type InvokeChannel,
  type InvokeResult,
  type TailFormat,
  type Workspace,
} from '../../shared/ipc.js';
import { waitForAttention, WAIT_TARGETS } from '../core/attention/wait.js';
import { toWireError } from '../core/api/dispatch.js';
import { NotFoundError } from '../core/api/handlers.js';
import { formatEntries } from '../core/api/services.js';
import { textLine } from '../core/log/format.js';
import { findAgentLog } from '../core/log/paths.js';

/** An agent that tool arguments name, found in the open roots or in a store. */
export interface LocatedAgent extends AgentRef {
  /** Its log file; null in a store. */
  file: string | null;
  /** The machine that shipped it, in a store; null for local roots. */
  machine: string | null;
}

/** What the tools reach: where agents are found, and one read-only client of the backend. */
export interface ToolContext {
  /** Where the agents are, for messages: the open roots, or the store. */
  where: string;
  /** The agent of `agentId` (in `taskId`, else the newest task that has it; on `machine`, in a store). */
  locate(agentId: string, taskId: string | undefined, machine: string | undefined): Promise<LocatedAgent>;
  /** One contract call, its arguments checked against the channel's schema as for any transport. */
  call<C extends InvokeChannel>(channel: C, args: InvokeArgs<C>): Promise<InvokeResult<C>>;
  /** Calls `listener` whenever the live feed pushes entries for `subscriptionId`; returns a function that stops it. */
  onLive(subscriptionId: string, listener: () => void): () => void;
}

/**
 * Characters of output, entries or hits in one tool result: about 10k tokens, well under what
 * clients accept from one tool (Claude Code: 25k tokens by default), with room for the JSON around it.
 */
export const MAX_REPLY_CHARS = 40_000;
/** Lines (or entries) `get_agent_output` returns unless asked: the default of `loupe tail -n`. */
const DEFAULT_TAIL = 10;
/** Entries `stream_agent_output` returns per call unless asked. */
const DEFAULT_STREAM_ENTRIES = 200;
/** The longest a call may wait; a client wanting longer calls again. */
const MAX_WAIT_MS = 10 * 60 * 1000;

const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;

const agentId = z.string().regex(AGENT_ID_PATTERN, 'not an agent id: letters, digits, ".", "_" and "-", as list_agents shows them').describe('the agent, as list_agents names it');
const taskId = z
  .string()
  .regex(TASK_ID_PATTERN, 'not a task id: TASK-YYYYMMDD-HHMMSS-xxxxxxxx, as list_agents shows them')
  .optional()
  .describe('the task holding the agent (default: the newest task that has it)');
const level = z.enum(LEVELS).optional().describe('only this level and more severe (warn: warn, error and fatal)');
const waitMs = z.int().min(0).max(MAX_WAIT_MS);
const machine = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'not a machine name, as list_agents shows them')
  .optional()
  .describe('with a store (loupe mcp --store): the machine the agent ran on, when several machines have it');

/** Registers every tool on `server`. */
export function registerTools(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_agents',
    {
      title: 'List agents',
      description:
        'Roots, their tasks (oldest first) and each task\'s agents: state (live, ended, error), attention (working, waiting with the question it asks, idle, ended), entries, last activity, exit status. The same listing as `loupe ls --json`.',
      inputSchema: { task_id: taskId.describe('list only this task (the reply holds only the newest tasks when they do not all fit)') },
      annotations: READ_ONLY,
    },
    (args) =>
      answer(async () => {
        const workspace = await ctx.call('workspace:list', {});
        const tasks = workspace.roots.flatMap((r) => r.tasks).filter((t) => args.task_id === undefined || t.taskId === args.task_id);
        if (args.task_id !== undefined && tasks.length === 0) {
          throw new NotFoundError(`no task ${args.task_id} in ${ctx.where}; call list_agents without task_id to see the tasks`);
        }
        // Task ids start with their creation time: the newest tasks are the ones kept.
        const kept = new Set(fitting([...tasks].sort((a, b) => (a.taskId < b.taskId ? -1 : 1)), (t) => JSON.stringify(t).length, 'end'));
        const left = tasks.length - kept.size;
        return {
          success: true,
          roots: workspace.roots.map((r) => ({ root: r.root, ...(r.machine !== undefined ? { machine: r.machine, path: r.path } : {}), tasks: r.tasks.filter((t) => kept.has(t)) })),
          ...(left > 0 ? { truncated: true, note: `${left} older task${left === 1 ? '' : 's'} left out to keep the reply under ${MAX_REPLY_CHARS} characters; list one with task_id` } : {}),
        };
      }),
  );

  server.registerTool(
    'get_agent_output',
    {
      title: "Read an agent's output",
      description:
        "The last `tail` lines of an agent's terminal: the lines and entries `loupe tail` prints. format text (default): the screen lines, what the terminal showed, each with its time, type and level; jsonl: the log entries as stored; json: the entries as a JSON array; ansi: the raw terminal bytes. A filtered tail (filter, type_filter, level) reads back until it has `tail` matches.",
      inputSchema: {
        task_id: taskId,
        agent_id: agentId,
        machine,
        tail: z.int().min(0).max(MAX_TAIL_LINES).optional().describe(`how many lines (text) or entries (the other formats); default ${DEFAULT_TAIL}`),
        filter: z.string().max(4096).optional().describe('only lines or entries whose text (ANSI stripped) matches this regex (RE2 syntax)'),
        ignore_case: z.boolean().optional().describe('match filter case-insensitively'),
        type_filter: z.enum(ENTRY_TYPES).optional().describe('only entries of this type'),
        level,
        format: z.enum(['text', 'jsonl', 'json', 'ansi']).optional().describe('text (default), jsonl, json or ansi'),
      },
      annotations: READ_ONLY,
    },
    (args) =>
      answer(async () => {
        const log = await ctx.locate(args.agent_id, args.task_id, args.machine);
        const format = args.format ?? 'text';
        const tail = await ctx.call('agent:tail', {
          ...refOf(log),
          lines: args.tail ?? DEFAULT_TAIL,
          format,
          types: args.type_filter === undefined ? undefined : [args.type_filter],
          minLevel: args.level,
          grep: args.filter,
          ignoreCase: args.ignore_case,
        });
        const kept = fitting(tail.entries, (e) => renderOutput([e], format).length, 'end');
        const truncated = tail.truncated || kept.length < tail.entries.length;
        return {
          success: true,
          agent_id: log.agentId,
          task_id: log.taskId,
          ...placeOf(log),
          entry_count: kept.length,
          output: renderOutput(kept, format),
          format,
          truncated,
          ...(truncated
            ? { note: `only the newest ${kept.length} fit in one reply (${MAX_REPLY_CHARS} characters); ask for a smaller tail, narrow it with filter, type_filter or level, or page through the whole log with stream_agent_output from since_sequence 0` }
            : {}),
        };
      }),
  );

  server.registerTool(
    'stream_agent_output',
    {
      title: "Follow an agent's output",
      description:
        "The log entries after since_sequence, oldest first, as stored (ANSI escapes kept). When there are none yet, waits up to wait_ms for the next one. Call again with next_since_sequence to follow the agent live, or start from 0 to page through the whole log.",
      inputSchema: {
        task_id: taskId,
        agent_id: agentId,
        machine,
        since_sequence: z.int().min(0).max(Number.MAX_SAFE_INTEGER - 1).describe('the last sequence already read (0: from the start)'),
        max_entries: z.int().min(1).max(MAX_ENTRIES_PER_READ).optional().describe(`at most this many entries; default ${DEFAULT_STREAM_ENTRIES}`),
        wait_ms: waitMs.optional().describe('when there is nothing new, wait this long for it (default 0: answer at once)'),
      },
      annotations: READ_ONLY,
    },
    (args, extra) =>
      answer(async () => {
        const log = await ctx.locate(args.agent_id, args.task_id, args.machine);
        const from = args.since_sequence + 1;
        const read = () => ctx.call('agent:entries', { ...refOf(log), fromSequence: from, limit: args.max_entries ?? DEFAULT_STREAM_ENTRIES });
        let page = await read();
        if (page.entries.length === 0 && (args.wait_ms ?? 0) > 0) {
          await nextLiveEntry(ctx, refOf(log), from, args.wait_ms ?? 0, extra.signal);
          page = await read();
        }
        const kept = fitting(page.entries, (e) => JSON.stringify(e).length, 'start');
        const cut = kept.length < page.entries.length;
        return {
          success: true,
          agent_id: log.agentId,
          task_id: log.taskId,
          ...placeOf(log),
          entries: kept,
          entry_count: kept.length,
          next_since_sequence: kept.at(-1)?.sequence ?? args.since_sequence,
          at_end: page.atEnd && !cut,
          ...(cut ? { note: `only ${kept.length} entries fit in one reply (${MAX_REPLY_CHARS} characters); call again with since_sequence ${kept.at(-1)?.sequence} for the rest` } : {}),
        };
      }),
  );

  server.registerTool(
    'search_logs',
    {
      title: 'Search the logs',
      description:
        'Searches every agent and run under the roots, as `loupe search --json` does: a case-insensitive substring (or a regex), with the total, the hits (newest first unless sort is asc), their distributions by type and level, and a timeline histogram.',
      inputSchema: {
        text: z.string().max(4096).describe('the text to find ("" matches every entry), or a regex with regex: true'),
        regex: z.boolean().optional().describe('treat text as a regex (RE2 syntax)'),
        ignore_case: z.boolean().optional().describe('match a regex case-insensitively (substring search always is)'),
        types: z.array(z.enum(ENTRY_TYPES)).max(ENTRY_TYPES.length).optional().describe('only these entry types'),
        level,
        agent: agentId.optional().describe('only this agent'),
        task: z.string().regex(TASK_ID_PATTERN, 'not a task id: TASK-YYYYMMDD-HHMMSS-xxxxxxxx').optional().describe('only this task'),
        source: z
          .enum(SEARCH_SOURCES)
          .optional()
          .describe('terminal: only what terminals showed (captured panes, recordings); transcript: only agent transcripts (Claude Code, Codex); default both'),
        since: z.string().max(64).optional().describe('from this time: ISO 8601 (2026-01-31T14:00:00Z), a date, or a duration before now (15m, 2h, 3d)'),
        until: z.string().max(64).optional().describe('up to this time, in the same forms'),
        limit: z.int().min(0).max(MAX_SEARCH_LIMIT).optional().describe('hits to return; default 100'),
        offset: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('hits to skip first, to page'),
        sort: z.enum(['asc', 'desc']).optional().describe('desc (default): newest first; asc: oldest first'),
      },
      annotations: READ_ONLY,
    },
    (args) =>
      answer(async () => {
        const offset = args.offset ?? 0;
        const result = await ctx.call('index:search', {
          text: args.text,
          regex: args.regex,
          ignoreCase: args.ignore_case,
          types: args.types,
          // As `loupe search --level`: this level and the more severe ones.
          levels: args.level === undefined ? undefined : LEVELS.slice(LEVELS.indexOf(args.level)),
          agentId: args.agent,
          taskId: args.task,
          source: args.source,
          since: args.since,
          until: args.until,
          limit: args.limit,
          offset,
          sort: args.sort,
        });
        const hits = fitting(result.hits, (h) => JSON.stringify(h).length, 'start');
        const next = offset + hits.length < result.total ? offset + hits.length : null;
        return {
          success: true,
          total: result.total,
          hits,
          byType: result.byType,
          byLevel: result.byLevel,
          histogram: result.histogram,
          next_offset: next,
          ...(hits.length < result.hits.length ? { note: `only ${hits.length} hits fit in one reply (${MAX_REPLY_CHARS} characters); call again with offset ${next}` } : {}),
        };
      }),
  );

  server.registerTool(
    'get_run_summary',
    {
      title: "Summarise an agent's runs",
      description:
        "An agent's runs, as `loupe stats --json` gives them: status, start, end, duration, entries, bytes, errors, warnings, output rate, exit status, capture method, gaps, tokens and costUsd, and the runs it is linked to (a claude/codex pane and its transcript: a linked terminal run reports its transcripts' tokens). Every task's runs of the agent unless task_id is given.",
      inputSchema: { task_id: taskId.describe('only the runs in this task (default: every task)'), agent_id: agentId },
      annotations: READ_ONLY,
    },
    (args) =>
      answer(async () => {
        const runs = await ctx.call('index:stats', { agentId: args.agent_id, taskId: args.task_id });
        if (runs.length === 0) throw notFound(ctx.where, args.agent_id, args.task_id);
        return { success: true, agent_id: args.agent_id, task_id: args.task_id ?? null, runs };
      }),
  );

  server.registerTool(
    'wait_for_agent',
    {
      title: 'Wait for an agent',
      description:
        "Waits until the agent is waiting (it asks something and is blocked on it: the question is in attention.prompt), idle (alive and quiet), ended, or any of these (no longer working), as `loupe wait` does. reached is false when timeout_ms passed first: call again to keep waiting.",
      inputSchema: {
        task_id: taskId,
        agent_id: agentId,
        machine,
        state: z.enum(WAIT_TARGETS).describe('waiting, idle, ended, or any'),
        timeout_ms: waitMs.describe(`give up after this long (at most ${MAX_WAIT_MS} ms); keep it under the client's request timeout`),
      },
      annotations: READ_ONLY,
    },
    (args, extra) =>
      answer(async () => {
        const log = await ctx.locate(args.agent_id, args.task_id, args.machine);
        const look = async () => {
          const workspace = await ctx.call('workspace:list', {});
          const agent = workspace.roots
            .find((r) => r.root === log.root)
            ?.tasks.find((t) => t.taskId === log.taskId)
            ?.agents.find((a) => a.agentId === log.agentId);
          if (agent === undefined) throw new NotFoundError(`${log.agentId} disappeared from ${log.root} while waiting (its task folder was removed)`);
          return agent.attention;
        };
        const { attention, reached } = await waitForAttention(look, args.state, args.timeout_ms, extra.signal);
        return { success: true, agent_id: log.agentId, task_id: log.taskId, reached, state: attention.state, attention };
      }),
  );
}

/**
 * Finds agents in local roots: in `taskId`, or else in the newest task that has it (as
 * `loupe tail` picks without --task).
 */
export function rootsLocator(roots: string[]): ToolContext['locate'] {
  return async (agentId, taskId, machine) => {
    if (machine !== undefined) throw new NotFoundError(`machine is for a store (loupe mcp --store URL); these agents are in ${roots.join(', ')}`);
    const found = roots.map((root) => findAgentLog(root, agentId, taskId)).filter((log) => log !== null);
    if (found.length === 0) throw notFound(roots.join(', '), agentId, taskId);
    const log = found.reduce((newest, l) => (l.taskId > newest.taskId ? l : newest));
    return { root: log.root, taskId: log.taskId, agentId: log.agentId, file: log.file, machine: null };
  };
}

/**
 * Finds agents in the backend's workspace listing (a store's machines and roots): in `taskId`,
 * or else the newest task that has it; on `machine` when several machines have it there.
 */
export function listingLocator(where: string, list: () => Promise<Workspace>): ToolContext['locate'] {
  return async (agentId, taskId, machine) => {
    const candidates = (await list()).roots
      .filter((r) => machine === undefined || r.machine === machine)
      .flatMap((r) => r.tasks.filter((t) => taskId === undefined || t.taskId === taskId).flatMap((t) => t.agents.filter((a) => a.agentId === agentId).map((a) => ({ ...a, machine: r.machine ?? null }))));
    if (candidates.length === 0) throw notFound(machine === undefined ? where : `machine ${machine} of ${where}`, agentId, taskId);
    const newestTask = candidates.reduce((newest, a) => (a.taskId > newest ? a.taskId : newest), '');
    const newest = candidates.filter((a) => a.taskId === newestTask);
    if (newest.length > 1) {
      throw new NotFoundError(`${agentId} of ${newestTask} is on several machines (${newest.map((a) => a.machine).join(', ')}); pass machine to pick one`);
    }
    const a = newest[0]!;
    return { root: a.root, taskId: a.taskId, agentId: a.agentId, file: null, machine: a.machine };
  };
}

function notFound(where: string, agentId: string, taskId: string | undefined): NotFoundError {
  const place = taskId === undefined ? where : `task ${taskId} in ${where}`;
  return new NotFoundError(`no agent ${JSON.stringify(agentId)} in ${place}; call list_agents to see the agents and their tasks`);
}

function refOf(log: AgentRef): AgentRef {
  return { root: log.root, taskId: log.taskId, agentId: log.agentId };
}

/** Where a located agent's output comes from, for a reply: its log file, or its machine in a store. */
function placeOf(log: LocatedAgent): { log_file: string } | { machine: string | null } {
  return log.file !== null ? { log_file: log.file } : { machine: log.machine };
}

/**
 * The tail's entries as `loupe tail` prints them. For `text` they are screen lines in the shape
 * of entries, and each is one `textLine`, as the CLI prints a screen line.
 */
function renderOutput(entries: readonly LogEntry[], format: TailFormat): string {
  return format === 'text' ? entries.map((e) => textLine(e, e.content)).join('') : formatEntries(entries, format);
}

/**
 * The items from the start (or the end) of `items` whose sizes add up to at most
 * `MAX_REPLY_CHARS`; at least one, so a reader always makes progress.
 */
function fitting<T>(items: readonly T[], size: (item: T) => number, from: 'start' | 'end'): T[] {
  const order = from === 'start' ? items : [...items].reverse();
  let total = 0;
  let n = 0;
  for (const item of order) {
    total += size(item);
    if (n > 0 && total > MAX_REPLY_CHARS) break;
    n++;
  }
  return from === 'start' ? items.slice(0, n) : items.slice(items.length - n);
}

/**
 * Resolves when the live feed pushes an entry of `ref` from `fromSequence` on, after `waitMs`,
 * or when the call is cancelled. The subscription is only a read position in the log, dropped after.
 */
async function nextLiveEntry(ctx: ToolContext, ref: AgentRef, fromSequence: number, waitMs: number, signal: AbortSignal): Promise<void> {
  const { subscriptionId } = await ctx.call('live:subscribe', { ...ref, fromSequence });
  try {
    await new Promise<void>((resolve) => {
      // Cancelled while subscribing (the client went away): no 'abort' event is coming.
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        stop();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      const stop = ctx.onLive(subscriptionId, done);
      signal.addEventListener('abort', done, { once: true });
    });
  } finally {
    await ctx.call('live:unsubscribe', { subscriptionId });
  }
}

/**
 * A tool's result, `structuredContent` and the same JSON as text for clients that read only
 * text; or, when `work` throws, a tool error (`isError`) naming the problem: the server keeps serving.
 */
async function answer(work: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    const result = await work();
    return { structuredContent: result, content: [{ type: 'text', text: JSON.stringify(result) }] };
  } catch (err) {
    return { isError: true, content: [{ type: 'text', text: toWireError(err).message }] };
  }
}
