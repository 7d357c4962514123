/**
 * Live panes over a PostgreSQL store (`loupe serve --store`): the `LiveSource`s that the live
 * feed (core/api/liveFeed.ts) reads, so its batching, acks and window apply to shipped entries
 * exactly as to a local log.
 *
 * Each source is a read position (the last sequence it fetched) and a small read-ahead of
 * entries fetched through the backend's pool, at most `READ_AHEAD_BYTES`: the feed reads from it
 * without waiting, and it fetches more only when the feed has taken what it holds, so a client
 * that does not ack stops the fetching, never grows the memory. It fetches when woken: by the
 * backend's one listening connection (a NOTIFY for its agent, a reconnection, the safety timer;
 * listen.ts), and always everything after its position, so a lost notification or connection
 * loses nothing and repeats nothing.
 */
import type pg from 'pg';
import type { LogEntry } from '../../../shared/entry.js';
import type { CursorRead } from '../api/logCursor.js';
import { MAX_BATCH_BYTES, type LiveSource, type OpenLiveSource } from '../api/liveFeed.js';
import { storeEntriesFrom, type StoreAgentRef } from './tail.js';

/** Entries a source holds ahead of the feed: one batch's worth, so the next frame never waits for the store. */
const READ_AHEAD_BYTES = MAX_BATCH_BYTES;
/** Rows one fetch asks for at most. */
const FETCH_ROWS = 2000;
/** After a failed fetch (the store went away), the next try; the listener's reconnection also wakes every source. */
const RETRY_MS = 1000;

/** Runs `work` on a connection of the backend's pool. */
export type WithStoreClient = <T>(work: (client: pg.Client) => Promise<T>) => Promise<T>;

/** The sources of one backend, by store agent id, woken by its listener. */
export class StoreLiveSources {
  private readonly byAgent = new Map<number, Set<StoreSource>>();

  constructor(
    private readonly withClient: WithStoreClient,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * A source for `agent` from `fromSequence` on; `lastSequence` is the store's last shipped
   * sequence when the subscription starts.
   */
  open(agent: StoreAgentRef, fromSequence: number, lastSequence: number): OpenLiveSource {
    return (changed) => {
      const sources = this.byAgent.get(agent.id) ?? new Set<StoreSource>();
      this.byAgent.set(agent.id, sources);
      const source = new StoreSource(this.withClient, agent, fromSequence, lastSequence, changed, this.log, () => {
        sources.delete(source);
        if (sources.size === 0 && this.byAgent.get(agent.id) === sources) this.byAgent.delete(agent.id);
      });
      sources.add(source);
      source.wake();
      return source;
    };
  }

  /** Batches landed for these agents (null: for any agent, perhaps while nobody listened). */
  wake(agents: ReadonlySet<number> | null): void {
    for (const [agent, sources] of this.byAgent) {
      if (agents === null || agents.has(agent)) for (const source of sources) source.wake();
    }
  }

  /** Open sources (for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const sources of this.byAgent.values()) n += sources.size;
    return n;
  }
}

class StoreSource implements LiveSource {
  private readonly ahead: { entry: LogEntry; bytes: number }[] = [];
  private aheadBytes = 0;
  /** The last sequence fetched: entries at or below it are never handed out again. */
  private fetched: number;
  /** The store may hold entries after `fetched`. */
  private stale = true;
  private fetching = false;
  private retry: NodeJS.Timeout | null = null;
  private disposed = false;

  constructor(
    private readonly withClient: WithStoreClient,
    private readonly agent: StoreAgentRef,
    fromSequence: number,
    readonly lastSequence: number,
    private readonly changed: () => void,
    private readonly log: (message: string) => void,
    private readonly onDispose: () => void,
  ) {
    this.fetched = Math.max(0, fromSequence - 1);
  }

  read(maxBytes: number): CursorRead {
    const out: CursorRead = { entries: [], bytes: 0, more: false };
    while (this.ahead.length > 0 && (out.entries.length === 0 || out.bytes < maxBytes)) {
      const next = this.ahead.shift()!;
      out.entries.push(next.entry);
      out.bytes += next.bytes;
      this.aheadBytes -= next.bytes;
    }
    out.more = this.ahead.length > 0;
    if (this.stale) void this.fetch();
    return out;
  }

  /** Entries may have landed after our position. */
  wake(): void {
    this.stale = true;
    void this.fetch();
  }

  dispose(): void {
    this.disposed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.onDispose();
  }

  /** Fetches while the store may hold more and the read-ahead has room; one fetch at a time. */
  private async fetch(): Promise<void> {
    if (this.fetching || this.disposed) return;
    this.fetching = true;
    try {
      while (this.stale && !this.disposed && this.aheadBytes < READ_AHEAD_BYTES) {
        this.stale = false;
        const page = await this.withClient((client) => storeEntriesFrom(client, this.agent, this.fetched + 1, FETCH_ROWS, READ_AHEAD_BYTES - this.aheadBytes));
        if (this.disposed) return;
        if (page.more) this.stale = true;
        let added = 0;
        for (const { entry, line } of page.entries) {
          if (entry.sequence <= this.fetched) continue;
          this.fetched = entry.sequence;
          const bytes = Buffer.byteLength(line) + 1;
          this.ahead.push({ entry, bytes });
          this.aheadBytes += bytes;
          added++;
        }
        if (added > 0) this.changed();
      }
    } catch (err) {
      // Nothing was taken: the same position is read again on the next try.
      this.stale = true;
      this.log(`cannot read ${this.agent.agentId} (machine ${this.agent.machine}) from the store: ${(err as Error).message}; trying again`);
      if (this.retry === null && !this.disposed) {
        this.retry = setTimeout(() => {
          this.retry = null;
          void this.fetch();
        }, RETRY_MS);
      }
    } finally {
      this.fetching = false;
    }
  }
}
