/**
 * The SQLite indexes of the open roots (one per root), for search and stats. Opened on first use,
 * so a backend that is never asked to search never loads better-sqlite3. Before each query the
 * pending log bytes are indexed, so results are as fresh as the CLI's.
 *
 * With `watch` (the app, `loupe serve`), indexing runs continuously in a worker thread
 * (`IndexThread`), and this thread only reads the indexes: a reindex or a burst of output never
 * holds up a live push or a request. Without it (CLI commands), indexing runs here, on demand.
 */
import type { AgentRef, RunLinks, RunSummary, SearchQuery, SearchResult, StatsQuery } from '../../../shared/ipc.js';
import type { Indexer } from '../index/indexer.js';
import type { IndexThread, RootErrorLine } from '../index/indexThread.js';
import type { IndexDb } from '../index/schema.js';
import type { AttentionFacts } from '../attention/attention.js';
import type { EntryCount } from '../index/counts.js';

/** See `RootIndexes.progress`. */
export interface IndexProgressSnapshot {
  entries: EntryCount[];
  /** Bytes of live logs not indexed yet, over every root. */
  unindexedBytes: number;
}

export interface RootIndexesOptions {
  watch?: boolean;
  /** With `watch`: error lines that became final on a live agent's screen. */
  onErrorLines?: (lines: RootErrorLine[]) => void;
  log?: (message: string) => void;
}

/** One root's index as a query sees it: its database, and a way to bring it up to date first. */
export interface IndexView {
  readonly db: IndexDb;
  indexPending(): unknown;
}

export class RootIndexes {
  private indexers: Map<string, Indexer> | null = null;
  private thread: IndexThread | null = null;
  private disposed = false;

  constructor(
    private readonly roots: string[],
    private readonly options: RootIndexesOptions = {},
  ) {}

  /** Opens every root's index (once) and indexes what is pending. */
  private async fresh(): Promise<Map<string, Indexer>> {
    if (this.disposed) throw new Error('the index is closed');
    if (this.options.watch) {
      if (this.thread === null) {
        const { IndexThread } = await import('../index/indexThread.js');
        this.thread = new IndexThread(this.roots, { onErrorLines: this.options.onErrorLines, log: this.options.log });
      }
      // The worker creates the databases; this thread opens them once it has.
      await this.thread.pending();
    }
    if (this.indexers === null) {
      const { Indexer } = await import('../index/indexer.js');
      const opened = new Map<string, Indexer>();
      for (const root of this.roots) opened.set(root, new Indexer(root));
      this.indexers = opened;
    }
    if (!this.options.watch) for (const indexer of this.indexers.values()) indexer.indexPending();
    return this.indexers;
  }

  /**
   * Entry counts and indexing backlog over every root, as they stand: unlike queries, this does not
   * index what is pending first (that would hide the backlog it measures).
   */
  async progress(): Promise<IndexProgressSnapshot> {
    const { entryCounts, unindexedBytes } = await import('../index/counts.js');
    const indexers = this.indexers ?? (await this.fresh());
    const entries = new Map<string, EntryCount>();
    let behind = 0;
    for (const indexer of indexers.values()) {
      for (const c of entryCounts(indexer.db)) {
        const key = `${c.type}/${c.level}`;
        entries.set(key, { ...c, count: (entries.get(key)?.count ?? 0) + c.count });
      }
      behind += unindexedBytes(indexer.db, indexer.root);
    }
    return { entries: [...entries.values()], unindexedBytes: behind };
  }

  /** The up-to-date index of one open root, or undefined for another folder. */
  async indexerOf(root: string): Promise<IndexView | undefined> {
    const indexer = (await this.fresh()).get(root);
    if (indexer === undefined) return undefined;
    const thread = this.thread;
    return thread === null ? indexer : { db: indexer.db, indexPending: () => thread.pending() };
  }

  /** One open root's database as it stands (no waiting for pending indexing); null before the first query opened it. */
  currentDb(root: string): IndexDb | null {
    return this.indexers?.get(root)?.db ?? null;
  }

  /** Searches every root; hits are merged by time in the query's order. */
  async search(query: SearchQuery): Promise<SearchResult> {
    const { searchIndex } = await import('../search/query.js');
    const indexers = [...(await this.fresh()).values()];
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    if (indexers.length === 1) return searchIndex(indexers[0].db, query);
    // Each root returns its first offset+limit hits; the merged page is cut from those.
    const parts = indexers.map((ix) => searchIndex(ix.db, { ...query, offset: 0, limit: offset + limit }));
    const desc = (query.sort ?? 'desc') === 'desc';
    const hits = parts
      .flatMap((p) => p.hits)
      .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0) * (desc ? -1 : 1))
      .slice(offset, offset + limit);
    const merged: SearchResult = { total: 0, hits, byType: {}, byLevel: {}, histogram: { bucketMs: 0, buckets: [] } };
    const buckets = new Map<string, number>();
    for (const p of parts) {
      merged.total += p.total;
      for (const [k, v] of Object.entries(p.byType)) merged.byType[k as keyof typeof merged.byType] = (merged.byType[k as keyof typeof merged.byType] ?? 0) + (v ?? 0);
      for (const [k, v] of Object.entries(p.byLevel)) merged.byLevel[k as keyof typeof merged.byLevel] = (merged.byLevel[k as keyof typeof merged.byLevel] ?? 0) + (v ?? 0);
      merged.histogram.bucketMs = Math.max(merged.histogram.bucketMs, p.histogram.bucketMs);
    }
    // Roots may have chosen different bucket sizes; re-bucket every count at the widest one.
    const width = merged.histogram.bucketMs;
    for (const p of parts) {
      for (const b of p.histogram.buckets) {
        const t = Date.parse(b.start);
        const start = new Date(width > 0 ? Math.floor(t / width) * width : t).toISOString();
        buckets.set(start, (buckets.get(start) ?? 0) + b.count);
      }
    }
    merged.histogram.buckets = [...buckets].sort(([a], [b]) => (a < b ? -1 : 1)).map(([start, count]) => ({ start, count }));
    return merged;
  }

  /** The attention facts of one open root's agents (SPEC §13), by `taskId/agentId`; undefined for another folder. */
  async attentionFacts(root: string): Promise<Map<string, AttentionFacts> | null> {
    const indexer = (await this.fresh()).get(root);
    if (indexer === undefined) return null;
    const { attentionFactsOf } = await import('../attention/attention.js');
    return attentionFactsOf(indexer.db, root);
  }

  /** What an agent's runs are linked to (index/links.ts); nothing for a root that is not open. */
  async runLinks(ref: AgentRef): Promise<RunLinks> {
    const { runLinksOf } = await import('../index/links.js');
    const indexer = (await this.fresh()).get(ref.root);
    return indexer === undefined ? { isTranscript: false, linked: [], toolCalls: [], truncated: false } : runLinksOf(indexer.db, ref);
  }

  /** Run summaries over every root. */
  async stats(query: StatsQuery): Promise<RunSummary[]> {
    const { runSummaries } = await import('../index/runs.js');
    return [...(await this.fresh()).values()].flatMap((ix) => runSummaries(ix.db, query));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const indexer of this.indexers?.values() ?? []) indexer.dispose();
    this.indexers = null;
    await this.thread?.dispose();
    this.thread = null;
  }
}
