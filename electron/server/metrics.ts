/**
 * `GET /metrics` on `loupe serve`: Prometheus text format (prom-client), behind the same token as
 * every other request (server.ts). Each server has its own registry, so tests and several servers
 * in one process never share a metric.
 *
 * Nothing here touches capture: counts and backlogs are read from the index and the log files at
 * scrape time (`Backend.snapshot`), and the only per-entry work is one histogram observation for
 * each live entry pushed to a browser. Labels are kinds (type, level), never an agent or task id,
 * so the number of series stays fixed however many agents run.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parseTimestamp, type LogEntry } from '../../shared/entry.js';
import type { BackendSnapshot } from '../core/api/backend.js';

/** The path Prometheus scrapes. */
export const METRICS_PATH = '/metrics';

/**
 * Live delivery in seconds: the SPEC's goal is p50 ≤ 30 ms and p99 ≤ 100 ms from tmux to the
 * pane, so the buckets are fine below 100 ms and coarse above, up to a client that fell behind.
 */
const DELIVERY_BUCKETS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ServeMetrics {
  /** A WebSocket client connected. */
  connected(): void;
  /** A WebSocket client left. */
  disconnected(): void;
  /** Live entries were just pushed to a client. */
  delivered(entries: LogEntry[]): void;
  /** The exposition for one scrape. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** The metrics of one server; `snapshot` is read once per scrape. */
export function createServeMetrics(snapshot: () => Promise<BackendSnapshot>): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const entries = new Counter({
    name: 'loupe_entries_total',
    help: 'Log entries indexed under the served roots, by entry type and level (restarts when an index is rebuilt).',
    labelNames: ['type', 'level'] as const,
    registers: [registry],
  });
  const connections = new Gauge({ name: 'loupe_ws_connections', help: 'Open WebSocket connections (browser clients).', registers: [registry] });
  const delivery = new Histogram({
    name: 'loupe_live_delivery_seconds',
    help: 'From a live entry on disk (its capture timestamp) to its push to a WebSocket client.',
    buckets: DELIVERY_BUCKETS,
    registers: [registry],
  });
  const captures = new Gauge({ name: 'loupe_captures_active', help: 'Agents whose tmux pane is being captured now.', registers: [registry] });
  const waiting = new Gauge({ name: 'loupe_agents_waiting', help: 'Agents waiting for the user (a prompt or question on screen).', registers: [registry] });
  const indexLag = new Gauge({
    name: 'loupe_index_lag_bytes',
    help: 'Bytes of live logs under the served roots not indexed yet (search and stats lag by this much).',
    registers: [registry],
  });
  const shipLag = new Gauge({
    name: 'loupe_ship_lag_entries',
    help: 'Entries of the served roots not yet acknowledged by `loupe ship --otlp` (by sink; absent while nothing ships there).',
    labelNames: ['sink'] as const,
    registers: [registry],
  });
  let rendering: Promise<{ contentType: string; body: string }> | null = null;

  return {
    connected: () => connections.inc(),
    disconnected: () => connections.dec(),
    delivered(list) {
      const now = Date.now();
      // The lines of one read share its timestamp: parse each distinct one once (parsing is most of the cost).
      let stamp = '';
      let seconds = Number.NaN;
      for (const e of list) {
        if (e.timestamp !== stamp) {
          stamp = e.timestamp;
          seconds = Math.max(0, now - parseTimestamp(stamp) / 1000) / 1000;
        }
        if (Number.isFinite(seconds)) delivery.observe(seconds);
      }
    },
    render() {
      // Scrapes that overlap share one render, so none resets the counters while another serialises them.
      rendering ??= renderOnce().finally(() => (rendering = null));
      return rendering;
    },
  };

  async function renderOnce(): Promise<{ contentType: string; body: string }> {
    const s = await snapshot();
    // The index holds the totals; the counter is set to them (Prometheus sees a reset after a rebuild).
    entries.reset();
    for (const c of s.entries) entries.inc({ type: c.type, level: c.level }, c.count);
    captures.set(s.capturesActive);
    waiting.set(s.agentsWaiting);
    indexLag.set(s.unindexedBytes);
    shipLag.reset();
    for (const [sink, n] of s.unshippedEntries) shipLag.set({ sink }, n);
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
}
