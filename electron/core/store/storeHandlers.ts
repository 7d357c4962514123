/**
 * The contract's handlers over a PostgreSQL store (`loupe serve --store`, `loupe mcp --store`;
 * SPEC §16): the read channels answered from the store with the shapes and meaning that the
 * local handlers (core/api/handlers.ts) give them. The control calls that name a root go to
 * that machine through the store (control.ts); the two others are refused, here alone.
 *
 * - A store root is named `machine:path` (`storeRootId`): two machines may ship the same folder,
 *   even the same task and agent ids. Machine names have no `:` (ship.ts checks them).
 * - Attention comes from the facts the shipping machine's index sent with its last batch (a
 *   prompt on the screen, a notification: `waiting`), the last entry's time and the run's end.
 *   Only "its program reads the terminal after a question" needs the pane's process, which stays
 *   on the agent's machine.
 * - The store holds no transcript links: `index:links` is empty.
 * - Replay and export read each agent's local copy (agentCache.ts, under Loupe's state folder),
 *   brought up to date first, with the local replay and export code; an export's redaction uses
 *   the default patterns (the shipping root's loupe.config.json stays on its machine).
 */
import { nowMicros, parseTimestamp } from '../../../shared/entry.js';
import type { AgentRef, Attention, ControlChannel, ExportFileRequest, ExportRequest, WorkspaceAgent, WorkspaceRoot } from '../../../shared/ipc.js';
import { attentionOf, NO_FACTS } from '../attention/attention.js';
import { ForbiddenError } from '../api/dispatch.js';
import { exportPreviewHandler, liveFeedHandlers, NotFoundError, replayHandlers, type ApiClient, type Handlers } from '../api/handlers.js';
import { DEFAULT_ENTRIES_PER_READ, MAX_READ_BYTES, fittingTailStart, formatEntries, lineTailResult } from '../api/services.js';
import type { ExportOptions } from '../export/exportRun.js';
import type { EntryFilter } from '../log/filter.js';
import type { AgentLog } from '../log/paths.js';
import { compileUserRegex } from '../regex/userRegex.js';
import { lineAsEntry } from '../search/agentLines.js';
import { cacheStoreAgent } from './agentCache.js';
import { listStore, type StoreAgent } from './agents.js';
import { relayControl, type RelayedChannel } from './control.js';
import { storeRunSummaries } from './runs.js';
import { searchStore } from './search.js';
import type { StoreLiveSources, WithStoreClient } from './storeLive.js';
import { lastStoreEntries, lastStoreLines, storeEntriesFrom, type StoreAgentRef } from './tail.js';

export interface StoreContext {
  version: string;
  /** The store's URL with its password masked, for `app:info`. */
  address: string;
  /** Serve only this machine's agents. */
  machine?: string;
  withClient: WithStoreClient;
  live: StoreLiveSources;
}

/** The store could not answer (it went away, or refused); the message says which, in one line. */
export class StoreReadError extends Error {
  override name = 'StoreReadError';
}

/** Nothing was ever shipped to the store (it has no tables yet). */
export class EmptyStoreError extends NotFoundError {
  constructor() {
    super('nothing has been shipped to this store yet: run `loupe ship --to URL` on a machine with logs');
  }
}

/** A store root's id: unique across machines. */
export function storeRootId(machine: string, root: string): string {
  return `${machine}:${root}`;
}

/** Why a control call is refused here: the one place that words it. */
export function refusedInStore(channel: ControlChannel, why: string): ForbiddenError {
  return new ForbiddenError(`${channel} is not available on a server that reads a store: ${why}`);
}

export function createStoreHandlers(ctx: StoreContext): { handlers: Handlers; exportOptions(request: ExportFileRequest): Promise<ExportOptions> } {
  const { withClient } = ctx;

  /** The machine and its folder of a store root (`machine:path`), refused if this server does not serve it. */
  function machineRoot(root: string): { machine: string; path: string } {
    const split = root.indexOf(':');
    const machine = root.slice(0, Math.max(0, split));
    if (split <= 0 || (ctx.machine !== undefined && machine !== ctx.machine)) {
      throw new NotFoundError(`${root} is not a root of this store; roots are named machine:path, as workspace:list names them`);
    }
    return { machine, path: root.slice(split + 1) };
  }

  /** A root a control call must name: it says which machine takes the call. */
  function controlRoot(root: string | undefined, channel: RelayedChannel): { machine: string; path: string } {
    if (root === undefined) throw new NotFoundError(`${channel} over a store needs a root (machine:path, as workspace:list names them): it says which machine takes the call`);
    return machineRoot(root);
  }

  /** The operator a relayed call is made for, as the machine records them. */
  function operator(client: ApiClient): string {
    return client.user?.name ?? 'loupe serve --store';
  }

  /** The store's rows of the agents a request names: one agent, or (without `agentId`) every agent of the task, by id. */
  async function storeAgents(ref: { root: string; taskId: string; agentId?: string }): Promise<(StoreAgentRef & { shippedSeq: number })[]> {
    const { machine, path: rootPath } = machineRoot(ref.root);
    const { rows } = await withClient((client) =>
      client.query<{ id: string; agent_id: string; shipped_seq: string }>(
        `SELECT id, agent_id, shipped_seq FROM loupe_agents
         WHERE machine = $1 AND root = $2 AND task_id = $3 AND ($4::text IS NULL OR agent_id = $4) AND shipped_seq > 0 ORDER BY agent_id`,
        [machine, rootPath, ref.taskId, ref.agentId ?? null],
      ),
    );
    if (rows.length === 0) {
      throw new NotFoundError(ref.agentId === undefined ? `no task ${ref.taskId} under ${ref.root} in the store` : `no agent ${ref.agentId} in task ${ref.taskId} under ${ref.root} in the store`);
    }
    return rows.map((r) => ({ id: Number(r.id), machine, taskId: ref.taskId, agentId: r.agent_id, shippedSeq: Number(r.shipped_seq) }));
  }

  /** The store's row for an agent a request names. */
  async function storeAgent(ref: AgentRef): Promise<StoreAgentRef & { shippedSeq: number }> {
    return (await storeAgents(ref))[0]!;
  }

  /** An agent's local copy (agentCache.ts), brought up to date: what replay and export read, as they read a local log. */
  async function cachedLog(agent: StoreAgentRef): Promise<AgentLog> {
    return withClient((client) => cacheStoreAgent(client, agent));
  }

  async function listRoots(): Promise<WorkspaceRoot[]> {
    let listing;
    try {
      listing = await withClient((client) => listStore(client, { machine: ctx.machine }));
    } catch (err) {
      if (err instanceof EmptyStoreError) return [];
      throw err;
    }
    const now = nowMicros();
    return listing.machines.flatMap(({ machine, roots }) =>
      roots.map(({ root: path, tasks }) => {
        const root = storeRootId(machine, path);
        return { root, machine, path, tasks: tasks.map(({ taskId, agents }) => ({ root, taskId, agents: agents.map((a) => workspaceAgent(root, taskId, a, now)) })) };
      }),
    );
  }

  function filterOf(args: { types?: EntryFilter['types']; minLevel?: EntryFilter['minLevel']; grep?: string; ignoreCase?: boolean }): EntryFilter {
    return { types: args.types, minLevel: args.minLevel, regex: args.grep ? compileUserRegex(args.grep, { ignoreCase: args.ignoreCase }) : undefined };
  }

  /**
   * An export request over local copies: the agents it names cached, and the request naming
   * their copy's root (one per machine and shipped root) instead of the store's root id.
   */
  async function cachedExport<R extends ExportRequest>(request: R): Promise<{ roots: string[]; request: R }> {
    const logs: AgentLog[] = [];
    for (const agent of await storeAgents(request)) logs.push(await cachedLog(agent));
    const root = logs[0]!.root;
    return { roots: [root], request: { ...request, root } };
  }

  const handlers: Handlers = {
    async 'app:info'(_args, client) {
      const allowedControl = [...client.allowedControl];
      return {
        version: ctx.version,
        transport: client.transport,
        readOnly: allowedControl.length === 0,
        allowedControl,
        roots: (await listRoots()).map((r) => r.root),
        sockets: [],
        store: ctx.address,
      };
    },
    async 'workspace:list'() {
      return { roots: await listRoots(), panes: [] };
    },
    async 'agent:tail'(args) {
      const agent = await storeAgent(args);
      const filter = filterOf(args);
      if (args.format === 'text') {
        const { lines } = await withClient((client) => lastStoreLines(client, agent, args.lines, filter));
        return lineTailResult(lines, agent.agentId, lineAsEntry);
      }
      const { entries } = await withClient((client) => lastStoreEntries(client, agent, args.lines, filter));
      const from = fittingTailStart(entries, (e) => Buffer.byteLength(e.line) + 1);
      const kept = entries.slice(from).map((e) => e.entry);
      return { entries: kept, text: formatEntries(kept, args.format ?? 'jsonl'), truncated: from > 0 };
    },
    async 'agent:entries'(args) {
      const agent = await storeAgent(args);
      const page = await withClient((client) => storeEntriesFrom(client, agent, args.fromSequence, args.limit ?? DEFAULT_ENTRIES_PER_READ, MAX_READ_BYTES));
      const last = page.entries.at(-1);
      return { entries: page.entries.map((e) => e.entry), nextSequence: last ? last.entry.sequence + 1 : args.fromSequence, atEnd: !page.more };
    },
    async 'live:subscribe'(args, client) {
      const agent = await storeAgent(args);
      const ref = { root: args.root, taskId: args.taskId, agentId: args.agentId };
      return client.feed.subscribeSource(ref, ctx.live.open(agent, args.fromSequence, agent.shippedSeq));
    },
    ...liveFeedHandlers,
    async 'index:search'(args) {
      const result = await withClient((client) => searchStore(client, { ...args, machine: ctx.machine }));
      return { ...result, hits: result.hits.map((h) => ({ ...h, root: storeRootId(h.machine, h.root) })) };
    },
    async 'index:stats'(args) {
      const runs = await withClient((client) => storeRunSummaries(client, { ...args, machine: ctx.machine }));
      return runs.map((r) => ({ ...r, root: storeRootId(r.machine, r.root) }));
    },
    async 'index:links'(args) {
      await storeAgent(args);
      return { isTranscript: false, linked: [], toolCalls: [], truncated: false };
    },
    ...replayHandlers(async (ref) => cachedLog(await storeAgent(ref))),
    'export:preview': exportPreviewHandler(cachedExport),
    async 'capture:attach'(args, client) {
      const { machine, path } = controlRoot(args.root, 'capture:attach');
      const started = await relayControl(withClient, { machine, channel: 'capture:attach', args: { ...args, root: path }, user: operator(client) });
      return { ...started, root: storeRootId(machine, started.root) };
    },
    async 'capture:detach'() {
      throw refusedInStore('capture:detach', 'it names a pane but not its machine; run `loupe detach TARGET` on that machine');
    },
    async 'agent:run'(args, client) {
      const { machine, path } = controlRoot(args.root, 'agent:run');
      const started = await relayControl(withClient, { machine, channel: 'agent:run', args: { ...args, root: path }, user: operator(client) });
      return { ...started, root: storeRootId(machine, started.root) };
    },
    async 'agent:reply'(args, client) {
      const { machine, path } = controlRoot(args.root, 'agent:reply');
      await relayControl(withClient, { machine, channel: 'agent:reply', args: { ...args, root: path }, user: operator(client) });
      return null;
    },
    async 'export:save'() {
      throw refusedInStore('export:save', "it saves through the desktop app's file dialog; use Download in the web view");
    },
  };
  return {
    handlers,
    async exportOptions(request) {
      const [{ exportOptionsFor }, located] = await Promise.all([import('../api/exportChannels.js'), cachedExport(request)]);
      return exportOptionsFor(located.roots, located.request);
    },
  };
}

/** A store agent as the sidebar lists it: no pane, no socket (they are on its machine). */
function workspaceAgent(root: string, taskId: string, a: StoreAgent, now: number): WorkspaceAgent {
  return {
    root,
    taskId,
    agentId: a.agentId,
    state: a.state,
    entries: a.entries,
    lastActivity: a.lastActivity,
    cols: null,
    rows: null,
    exitStatus: a.exitStatus,
    paneId: null,
    socket: null,
    attention: storeAttention(a, now),
  };
}

/** What the store can tell of an agent's attention (see the file comment). */
export function storeAttention(a: StoreAgent, now: number): Attention {
  const last = a.lastActivity === null ? null : parseTimestamp(a.lastActivity);
  if (a.state !== 'live') return attentionOf({ ...NO_FACTS, lastOutput: last, ended: a.attention?.ended ?? last ?? now }, now);
  return attentionOf(a.attention ?? { ...NO_FACTS, lastOutput: last, activeSince: last }, now);
}
