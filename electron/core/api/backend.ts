/**
 * The backend both front ends embed: the Electron main process and `loupe serve`. It owns the
 * handlers, one LiveFeed per connected client, and a watch on the open roots that tells clients
 * when the workspace changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ControlChannel, ExportFileRequest, Push, PushChannel, Transport } from '../../../shared/ipc.js';
import type { ExportOptions } from '../export/exportRun.js';
import { checkSocketName, type LogEntry } from '../../../shared/entry.js';
import { callChannel } from './dispatch.js';
import { startCaptureDaemons } from './captureDaemons.js';
import { startBackgroundImport, type BackgroundImportThread } from '../transcripts/importThread.js';
import { createHandlers, type ApiClient, type ApiContext, type Handlers } from './handlers.js';
import { watchAttention } from './attentionWatch.js';
import { LiveFeed } from './liveFeed.js';
import { RootIndexes, type IndexProgressSnapshot } from './rootIndexes.js';
import { coreServices, type BackendServices } from './services.js';

/** How often the open roots are checked for new tasks and agents: cheap (a few readdirs), and quick enough for a sidebar. */
const WORKSPACE_POLL_MS = 1000;
/** The tmux `-L` socket of the default server. */
const DEFAULT_SOCKET = 'default';

export interface BackendOptions {
  roots: string[];
  /** tmux `-L` socket names; the default server when empty. */
  sockets?: string[];
  version: string;
  /** Replaces the real services (tests). */
  services?: BackendServices;
  /**
   * Index continuously in this process, import the agents' sessions in the background, and make
   * sure every socket with captures has its capture daemon (the app and `loupe serve` do; tests
   * do not). Capture itself never runs here.
   */
  embedded?: boolean;
  /** Diagnostics from the embedded services. */
  log?: (message: string) => void;
  /** The desktop app's save-file dialog for `export:save` (see ApiContext). */
  chooseExportFile?: ApiContext['chooseExportFile'];
}

/** Sends one push to one client. */
export type PushSender = <C extends PushChannel>(channel: C, payload: Push[C]) => void;

export interface ClientOptions {
  transport: Transport;
  allowedControl: Iterable<ControlChannel>;
  /** The named user on the other end (`loupe serve --store`), for messages. */
  user?: ApiClient['user'];
  send: PushSender;
  /** Live entries (written after their subscription began), as they are pushed to this client. */
  delivered?: (entries: LogEntry[]) => void;
}

/** What `loupe serve`'s `/metrics` reports about the roots and their agents, read when asked. */
export interface BackendSnapshot extends IndexProgressSnapshot {
  /** Agents whose tmux pane is being captured now. */
  capturesActive: number;
  /** Agents waiting for the user (SPEC §13). */
  agentsWaiting: number;
  /**
   * Entries not yet acknowledged by destinations that keep their positions beside the logs
   * (`ship --otlp`), by kind (`otlp`); a kind no root ships to is absent.
   */
  unshippedEntries: Map<string, number>;
}

/** One connected UI. `close()` ends its subscriptions. */
export interface BackendClient {
  readonly client: ApiClient;
  /** Runs one invoke from this client: channel, permission and arguments are checked first. */
  call(channel: unknown, args: unknown): Promise<unknown>;
  close(): void;
}

/** The core of the app, `loupe serve` and `loupe mcp`: over local roots here, or over a PostgreSQL store (core/store/storeBackend.ts). */
export interface Backend {
  readonly handlers: Handlers;
  connect(options: ClientOptions): BackendClient;
  /** The exporter's options for a download (`loupe serve`'s export route), checked as `export:save` checks them. */
  exportOptions(request: ExportFileRequest): Promise<ExportOptions>;
  snapshot(): Promise<BackendSnapshot>;
  dispose(): Promise<void>;
}

/**
 * Starts the backend over `roots`. Capture supervision (when asked for) starts in the background.
 * Call `dispose()` to stop its watchers and close every client; capture daemons carry on.
 */
export function startBackend(options: BackendOptions): Backend {
  const roots = [...new Set(options.roots.map((r) => path.resolve(r)))];
  const sockets = (options.sockets?.length ? options.sockets : [DEFAULT_SOCKET]).map(checkSocketName);
  const log = options.log ?? (() => {});
  const clients = new Set<BackendClient & { send: PushSender; feed: LiveFeed }>();
  const indexes = new RootIndexes(roots, {
    watch: options.embedded,
    log,
    onErrorLines: (lines) => {
      for (const c of clients) c.feed.errorLines(lines);
    },
  });
  const context: ApiContext = {
    version: options.version,
    roots,
    sockets,
    services: options.services ?? coreServices(indexes),
    chooseExportFile: options.chooseExportFile,
  };
  const handlers = createHandlers(context);

  if (options.embedded) {
    void loadHandlerModules().catch((err: Error) => log(`cannot load Loupe's modules: ${err.message}`));
    // A state folder it cannot create (no HOME, no permission) is reported, never a crash.
    void startCaptureDaemons(sockets, log).catch((err: Error) => log(`cannot start the capture daemons: ${err.message}`));
  }
  // The agents' own sessions keep coming into the open roots (in a worker thread).
  let imports: BackgroundImportThread | null = null;
  if (options.embedded) {
    try {
      imports = startBackgroundImport({ roots, log });
    } catch (err) {
      log(`cannot start the background import: ${(err as Error).message}`);
    }
  }
  // Open the indexes now when embedded, so indexing starts without waiting for a first search.
  let disposed = false;
  // A backend disposed at once (the port was taken) closes the index under this first pass: no news.
  if (options.embedded) void indexes.stats({}).catch((err: Error) => disposed || log(`cannot open the index: ${err.message}`));

  const attention = options.embedded
    ? watchAttention({
        list: () => context.services.listWorkspace(roots, sockets),
        changed: () => {
          for (const c of clients) c.send('workspace:changed', {});
        },
        notice: (notice) => {
          for (const c of clients) c.send('agent:notice', notice);
        },
        log,
      })
    : null;

  let signature = workspaceSignature(roots);
  const poll = setInterval(() => {
    const next = workspaceSignature(roots);
    if (next === signature) return;
    signature = next;
    for (const c of clients) c.send('workspace:changed', {});
  }, WORKSPACE_POLL_MS);
  poll.unref();

  return {
    handlers,
    async exportOptions(request) {
      const { exportOptionsFor } = await import('./exportChannels.js');
      return exportOptionsFor(roots, request);
    },
    connect({ transport, allowedControl, user, send, delivered }) {
      const feed = new LiveFeed({
        push: (batches) => send('live:entries', { batches }),
        notice: (notice) => send('agent:notice', notice),
        delivered,
      });
      const client: ApiClient = { transport, allowedControl: new Set(allowedControl), user, feed, push: send };
      const connected = {
        client,
        send,
        feed,
        call: (channel: unknown, args: unknown) => callChannel(handlers, client, channel, args),
        close() {
          feed.dispose();
          clients.delete(connected);
        },
      };
      clients.add(connected);
      return connected;
    },
    async snapshot() {
      const [progress, workspace, { unshippedEntries }] = await Promise.all([
        indexes.progress(),
        context.services.listWorkspace(roots, sockets),
        import('../ship/cursor.js'),
      ]);
      const agents = workspace.roots.flatMap((r) => r.tasks.flatMap((t) => t.agents));
      const unshipped = new Map<string, number>();
      for (const root of roots) for (const [kind, n] of unshippedEntries(root)) unshipped.set(kind, (unshipped.get(kind) ?? 0) + n);
      return {
        ...progress,
        capturesActive: agents.filter((a) => a.paneId !== null).length,
        agentsWaiting: agents.filter((a) => a.attention.state === 'waiting').length,
        unshippedEntries: unshipped,
      };
    },
    async dispose() {
      disposed = true;
      clearInterval(poll);
      attention?.dispose();
      for (const c of [...clients]) c.close();
      await Promise.all([indexes.dispose(), imports?.dispose()]);
    },
  };
}

/**
 * Task folders, agent logs and their sizes under every root: changes when a task or agent appears
 * or goes, and while an agent writes (so sidebar counts and badges stay fresh, at most once a poll).
 */
function workspaceSignature(roots: string[]): string {
  const parts: string[] = [];
  for (const root of roots) {
    const ws = path.join(root, '.agent-workspace');
    for (const task of safeReaddir(ws).sort()) {
      parts.push(`${root}/${task}`);
      const logs = path.join(ws, task, 'logs');
      for (const name of safeReaddir(logs).filter((n) => n.endsWith('_stream.jsonl')).sort()) {
        parts.push(`${name}:${safeSize(path.join(logs, name))}`);
      }
    }
  }
  return parts.join('\n');
}

function safeSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The modules the handlers load on first use. A long-running backend (the app, `loupe serve`)
 * loads them at start (RELIABILITY W6): Node keeps a failed `import()` failed for the life of
 * the process, so a first use while a client has exhausted the file descriptors would otherwise
 * break that call for good. The CLI keeps loading lazily, for its start-up time.
 */
async function loadHandlerModules(): Promise<void> {
  await Promise.all([
    import('../workspace/list.js'),
    import('../log/tail.js'),
    import('../search/query.js'),
    import('../search/agentLines.js'),
    import('../screen/tailLines.js'),
    import('../index/indexer.js'),
    import('../index/runs.js'),
    import('../export/exportRun.js'),
    import('../capture/session.js'),
    import('./replayChannels.js'),
    import('./exportChannels.js'),
    import('../index/freshIndex.js'),
    import('../index/indexThread.js'),
    import('../index/counts.js'),
    import('../index/links.js'),
    import('../attention/attention.js'),
    import('../ship/cursor.js'),
  ]);
}
