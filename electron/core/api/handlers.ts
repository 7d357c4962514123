/**
 * The contract's handlers: one plain async function per invoke channel, called with arguments
 * already validated (see dispatch.ts) and the calling client. No Electron, no sockets: the
 * Electron main process and `loupe serve` both wrap these, and the tests call them directly.
 */
import path from 'node:path';
import type {
  AgentRef,
  AppInfo,
  ControlChannel,
  ExportRequest,
  InvokeArgs,
  InvokeChannel,
  InvokeResult,
  Push,
  PushChannel,
  Transport,
} from '../../../shared/ipc.js';
import { findAgentLog, type AgentLog } from '../log/paths.js';
import type { IndexDb } from '../index/schema.js';
import type { LiveFeed } from './liveFeed.js';
import type { BackendServices } from './services.js';
import type { UserRole } from '../store/users.js';

/** What every handler can reach: the backend's configuration and its services. */
export interface ApiContext {
  version: string;
  /** Absolute paths of the open roots; a request naming any other root is refused. */
  roots: string[];
  /** tmux `-L` socket names this backend may touch (empty: the default server only). */
  sockets: string[];
  services: BackendServices;
  /**
   * Asks the user where to save an export (a save-file dialog for this client's window), or
   * null if they cancelled. Only the desktop app has one; without it `export:save` is refused.
   */
  chooseExportFile?: (client: ApiClient, suggestedName: string) => Promise<string | null>;
}

/** One connected UI: a window over IPC, or one WebSocket. */
export interface ApiClient {
  transport: Transport;
  /** The control channels this client may call; the others are refused before validation. */
  allowedControl: ReadonlySet<ControlChannel>;
  /** The named user on the other end of a WebSocket (`loupe serve --store`). */
  user?: { name: string; role: UserRole };
  feed: LiveFeed;
  /** Sends a push to this client alone (export progress). */
  push?: <C extends PushChannel>(channel: C, payload: Push[C]) => void;
}

export type Handlers = {
  [C in InvokeChannel]: (args: InvokeArgs<C>, client: ApiClient) => Promise<InvokeResult<C>>;
};

/** A request named an agent, root or socket that does not exist here. The message says which. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** Who typed an answer, as its `control` entry records it: the store's operator by name. */
function replyAuthor(client: ApiClient): string {
  if (client.user !== undefined) return `${client.user.name} (loupe serve --store)`;
  return client.transport === 'websocket' ? 'loupe serve' : 'app';
}

/** `export:save` progress pushes are at most this frequent: smooth enough for a bar, cheap over IPC. */
const EXPORT_PROGRESS_INTERVAL_MS = 100;

export function createHandlers(ctx: ApiContext): Handlers {
  const { services } = ctx;
  const roots = ctx.roots.map((r) => path.resolve(r));

  /** The root a request names (one of the open roots), or the first one. */
  function openRoot(root: string | undefined): string {
    if (root === undefined) {
      if (roots.length === 0) throw new NotFoundError('no root is open; start Loupe with --root DIR');
      return roots[0];
    }
    const resolved = path.resolve(root);
    if (!roots.includes(resolved)) {
      throw new NotFoundError(`${root} is not one of the open roots (${roots.join(', ')}); open it with --root`);
    }
    return resolved;
  }

  /** The socket a request names (one this backend may touch), or the first one. */
  function allowedSocket(socket: string | undefined): string | undefined {
    if (socket === undefined) return ctx.sockets[0];
    if (!ctx.sockets.includes(socket)) {
      const allowed = ctx.sockets.length > 0 ? ctx.sockets.join(', ') : 'only the default tmux server';
      throw new NotFoundError(`tmux socket ${socket} is not one Loupe was started with (${allowed}); pass --socket ${socket}`);
    }
    return socket;
  }

  function agentLog(ref: { root: string; taskId: string; agentId: string }): AgentLog {
    const log = findAgentLog(openRoot(ref.root), ref.agentId, ref.taskId);
    if (log === null) throw new NotFoundError(`no log for agent ${ref.agentId} in task ${ref.taskId} under ${ref.root}`);
    return log;
  }

  return {
    async 'app:info'(_args, client): Promise<AppInfo> {
      const allowedControl = [...client.allowedControl];
      return {
        version: ctx.version,
        transport: client.transport,
        readOnly: allowedControl.length === 0,
        allowedControl,
        roots,
        sockets: ctx.sockets,
      };
    },
    async 'workspace:list'() {
      return services.listWorkspace(roots, ctx.sockets);
    },
    async 'agent:tail'(args) {
      return services.tail(agentLog(args).file, args);
    },
    async 'agent:entries'(args) {
      return services.readEntries(agentLog(args).file, args.fromSequence, args.limit);
    },
    async 'live:subscribe'(args, client) {
      const log = agentLog(args);
      return client.feed.subscribe({ root: log.root, taskId: log.taskId, agentId: log.agentId }, log.file, args.fromSequence);
    },
    ...liveFeedHandlers,
    async 'index:search'(args) {
      return services.search(roots, args);
    },
    async 'index:stats'(args) {
      return services.stats(roots, args);
    },
    async 'index:links'(args) {
      const log = agentLog(args);
      return services.runLinks({ root: openRoot(args.root), taskId: log.taskId, agentId: log.agentId });
    },
    async 'capture:attach'(args) {
      return services.attach({ ...args, root: openRoot(args.root), socket: allowedSocket(args.socket) });
    },
    async 'capture:detach'(args) {
      await services.detach({ ...args, socket: allowedSocket(args.socket) });
      return null;
    },
    async 'agent:reply'(args, client) {
      const root = openRoot(args.root);
      const workspace = await services.listWorkspace(roots, ctx.sockets);
      const agent = workspace.roots
        .find((r) => r.root === root)
        ?.tasks.find((t) => t.taskId === args.taskId)
        ?.agents.find((a) => a.agentId === args.agentId);
      if (agent === undefined) throw new NotFoundError(`no agent ${args.agentId} in task ${args.taskId} under ${root}`);
      if (agent.state !== 'live' || agent.paneId === null || agent.socket === null) {
        throw new NotFoundError(`${args.agentId} is not running in a captured tmux pane; there is nothing to answer`);
      }
      await services.reply({ socket: allowedSocket(agent.socket) ?? agent.socket, paneId: agent.paneId, text: args.text, enter: args.enter, by: replyAuthor(client) });
      return null;
    },
    async 'agent:run'(args) {
      return services.runAgent({ ...args, root: openRoot(args.root), socket: allowedSocket(args.socket) });
    },
    ...replayHandlers(async (ref) => agentLog(ref), (root) => services.indexDb(root)),
    'export:preview': exportPreviewHandler(async (request) => ({ roots, request })),
    async 'export:save'(args, client) {
      const choose = ctx.chooseExportFile;
      if (choose === undefined || client.transport !== 'ipc') {
        throw new NotFoundError('saving an export to a file is only in the desktop app; in the web view, use Download');
      }
      const [{ exportFileName, exportOptionsFor }, { exportRunToFile }] = await Promise.all([
        import('./exportChannels.js'),
        import('../export/exportRun.js'),
      ]);
      // Checked before the dialog opens, so a bad slice fails at once and not after choosing a file.
      const options = exportOptionsFor(roots, args);
      const file = await choose(client, exportFileName(args));
      if (file === null) return null;
      let lastPush = 0;
      const { progressId } = args;
      const summary = await exportRunToFile(
        {
          ...options,
          onProgress:
            progressId === undefined || client.push === undefined
              ? undefined
              : ({ bytesRead, totalBytes }) => {
                  const now = Date.now();
                  if (now - lastPush < EXPORT_PROGRESS_INTERVAL_MS) return;
                  lastPush = now;
                  client.push?.('export:progress', { progressId, bytesRead, totalBytes });
                },
        },
        file,
      );
      return { ...summary, file };
    },
  };
}

/** The replay channels over the agent logs `logOf` finds (local ones, or a store's local copies). */
/** Ending and acknowledging a live subscription: the client's LiveFeed does it, whatever feeds it. */
export const liveFeedHandlers: Pick<Handlers, 'live:unsubscribe' | 'live:ack'> = {
  async 'live:unsubscribe'(args, client) {
    client.feed.unsubscribe(args.subscriptionId);
    return null;
  },
  async 'live:ack'(args, client) {
    client.feed.ack(args.subscriptionId, args.sequence);
    return null;
  },
};

export function replayHandlers(
  logOf: (ref: AgentRef) => Promise<AgentLog>,
  indexDbOf: (root: string) => IndexDb | null = () => null,
): Pick<Handlers, 'replay:timeline' | 'replay:seek' | 'replay:frames'> {
  return {
    async 'replay:timeline'(args) {
      const log = await logOf(args);
      const { replayTimeline } = await import('./replayChannels.js');
      // A run the root's index holds whole gets its timeline from there (index/timelineIndex.ts).
      return replayTimeline(log, args.buckets, indexDbOf(log.root));
    },
    async 'replay:seek'(args) {
      const log = await logOf(args);
      const { replaySeek } = await import('./replayChannels.js');
      return replaySeek(log, args);
    },
    async 'replay:frames'(args) {
      const log = await logOf(args);
      const { cursorInRun, replayFrames } = await import('./replayChannels.js');
      if (!cursorInRun(log, args.from)) {
        throw new NotFoundError(`${args.from.file} is no longer part of the log of ${args.agentId}; seek again to continue the replay`);
      }
      return replayFrames(log, args.from, args.maxBytes, args.limit);
    },
  };
}

/**
 * `export:preview` over the roots `locate` gives for a request (the open roots, or a store's
 * local copies, with the request naming its copy): a client's newer preview stops its older one.
 */
export function exportPreviewHandler(locate: (request: ExportRequest) => Promise<{ roots: readonly string[]; request: ExportRequest }>): Handlers['export:preview'] {
  /** Each client's latest preview: an older one still reading is stopped. */
  const latestPreview = new WeakMap<ApiClient, number>();
  return async (args, client) => {
    const generation = (latestPreview.get(client) ?? 0) + 1;
    latestPreview.set(client, generation);
    const [{ exportPreview }, located] = await Promise.all([import('./exportChannels.js'), locate(args)]);
    return exportPreview(located.roots, located.request, () => latestPreview.get(client) !== generation);
  };
}
