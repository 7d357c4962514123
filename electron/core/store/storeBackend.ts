/**
 * The backend over a PostgreSQL store (`loupe serve --store URL`, `loupe mcp --store URL`; SPEC
 * §16): the same `Backend` as over local roots (core/api/backend.ts), so the web server and the
 * MCP server run on it unchanged. Queries go through a small pool; ONE connection LISTENs for
 * the shippers' notifications (listen.ts) and wakes the live panes of every client
 * (storeLive.ts) and the sidebars (`workspace:changed`).
 */
import pg from 'pg';
import { INVOKE_ACCESS, isInvokeChannel, type ControlChannel } from '../../../shared/ipc.js';
import type { Backend, BackendClient, BackendSnapshot, ClientOptions, PushSender } from '../api/backend.js';
import { callChannel, ForbiddenError } from '../api/dispatch.js';
import type { ApiClient } from '../api/handlers.js';
import { LiveFeed } from '../api/liveFeed.js';
import { nowMicros, type EntryType, type Level } from '../../../shared/entry.js';
import { listStore } from './agents.js';
import { checkStoreUrl, describeStoreError } from './connection.js';
import { listenStore } from './listen.js';
import { createStoreHandlers, EmptyStoreError, storeAttention, StoreReadError } from './storeHandlers.js';
import { StoreLiveSources, type WithStoreClient } from './storeLive.js';

/** Queries at once: a few clients' tails, searches and live reads; more wait their turn. */
const POOL_SIZE = 4;
/** How long one connection attempt may take before it counts as failed. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Sidebars hear of shipped batches at most this often (a listing per push and client). */
const WORKSPACE_PUSH_MS = 1000;

export interface StoreBackendOptions {
  url: string;
  /** Serve only this machine's agents. */
  machine?: string;
  version: string;
  /** Diagnostics: a lost connection, a failed read. */
  log?: (message: string) => void;
}

/**
 * Connects to the store and starts listening. Throws `StoreUrlError` for a URL that is not a
 * PostgreSQL one, and a `SinkError` (its message one line) when the store cannot be reached.
 */
export async function startStoreBackend(options: StoreBackendOptions): Promise<Backend> {
  const address = checkStoreUrl(options.url);
  const log = options.log ?? (() => {});
  const pool = new pg.Pool({ connectionString: options.url, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'loupe' });
  // An idle connection that breaks: the pool drops it, and the next query opens another.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw describeStoreError(err, options.url);
  }

  const withClient: WithStoreClient = async (work) => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new StoreReadError(describeStoreError(err, options.url).message);
    }
    try {
      const result = await work(client);
      client.release();
      return result;
    } catch (err) {
      // After any failure the connection is dropped, not handed out again (it may be broken).
      client.release(err as Error);
      const code = (err as { code?: unknown }).code;
      if (code === '42P01') throw new EmptyStoreError();
      // The server's and the driver's errors (SQLSTATE codes, socket errors); ours pass through.
      if (typeof code === 'string' || (err as Error).message?.startsWith('Connection terminated')) {
        throw new StoreReadError(describeStoreError(err, options.url).message);
      }
      throw err;
    }
  };

  const live = new StoreLiveSources(withClient, log);
  const { handlers, exportOptions } = createStoreHandlers({ version: options.version, address, machine: options.machine, withClient, live });
  const clients = new Set<{ send: PushSender; close(): void }>();

  // Sidebars: a push when the agents' listing changed, at most once a `WORKSPACE_PUSH_MS`.
  let signature: string | null = null;
  let checkTimer: NodeJS.Timeout | null = null;
  let lastCheck = -Infinity;
  const checkWorkspace = () => {
    if (checkTimer !== null) return;
    checkTimer = setTimeout(() => {
      lastCheck = performance.now();
      void withClient((client) =>
        client.query<{ s: string }>(
          "SELECT count(*) || ':' || coalesce(sum(shipped_seq), 0) || ':' || coalesce(max(shipped_at)::text, '') AS s FROM loupe_agents WHERE $1::text IS NULL OR machine = $1",
          [options.machine ?? null],
        ),
      )
        .then(({ rows }) => {
          const next = rows[0]?.s ?? '';
          if (signature !== null && next !== signature) for (const c of clients) c.send('workspace:changed', {});
          signature = next;
        })
        .catch(() => {}) // an empty or unreachable store: the next wake-up looks again
        .finally(() => (checkTimer = null));
    }, Math.max(0, lastCheck + WORKSPACE_PUSH_MS - performance.now()));
  };
  checkWorkspace();

  const stop = new AbortController();
  const listening = listenStore({
    url: options.url,
    signal: stop.signal,
    onWake: (_client, agents) => {
      live.wake(agents);
      checkWorkspace();
    },
    onReconnect: (message, delayMs) => log(`lost the store's notifications (${message}); listening again in ${delayMs} ms`),
  });

  return {
    handlers,
    connect({ transport, allowedControl, user, send, delivered }: ClientOptions): BackendClient {
      const feed = new LiveFeed({ push: (batches) => send('live:entries', { batches }), notice: (notice) => send('agent:notice', notice), delivered });
      const client: ApiClient = { transport, allowedControl: new Set(allowedControl), user, feed, push: send };
      const connected = {
        client,
        send,
        call(channel: unknown, args: unknown) {
          // Before the permission check, whose advice (restart with --allow-control) does not apply
          // here. A viewer's refusal, which names their role, stands.
          if (isInvokeChannel(channel) && INVOKE_ACCESS[channel] === 'control' && user?.role !== 'viewer' && !client.allowedControl.has(channel as ControlChannel)) {
            return Promise.reject(new ForbiddenError(`${channel} is for the store's operators; log in with an operator's token (loupe store user add NAME --role operator)`));
          }
          return callChannel(handlers, client, channel, args);
        },
        close() {
          feed.dispose();
          clients.delete(connected);
        },
      };
      clients.add(connected);
      return connected;
    },
    exportOptions,
    async snapshot(): Promise<BackendSnapshot> {
      // Counted at each scrape (a scan of the entries): the store keeps no running totals.
      const counts = await withClient((client) =>
        client.query<{ type: EntryType; level: Level; n: string }>(
          'SELECT e.type, e.level, count(*) AS n FROM loupe_entries e JOIN loupe_agents a ON a.id = e.agent WHERE $1::text IS NULL OR a.machine = $1 GROUP BY 1, 2',
          [options.machine ?? null],
        ),
      ).catch((err: unknown) => {
        if (err instanceof EmptyStoreError) return { rows: [] };
        throw err;
      });
      const listing = await withClient((client) => listStore(client, { machine: options.machine })).catch((err: unknown) => {
        if (err instanceof EmptyStoreError) return { machines: [] };
        throw err;
      });
      const now = nowMicros();
      const agents = listing.machines.flatMap((m) => m.roots.flatMap((r) => r.tasks.flatMap((t) => t.agents)));
      return {
        entries: counts.rows.map((r) => ({ type: r.type, level: r.level, count: Number(r.n) })),
        unindexedBytes: 0,
        capturesActive: 0,
        agentsWaiting: agents.filter((a) => storeAttention(a, now).state === 'waiting').length,
        unshippedEntries: new Map(),
      };
    },
    async dispose() {
      stop.abort();
      if (checkTimer !== null) clearTimeout(checkTimer);
      for (const c of [...clients]) c.close();
      await listening;
      await pool.end().catch(() => {});
    },
  };
}
