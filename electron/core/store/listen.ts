/**
 * Listening for shipped batches (SPEC §16): one connection that LISTENs on the shipper's channel,
 * reconnecting with backoff when it is lost. NOTIFY is only the wake-up (the shipper sends one per
 * batch): readers always read everything after their own last position, so a notification lost
 * with its connection, or never sent, loses nothing; the safety timer and every reconnection wake
 * every reader, for what landed while nobody was listening.
 */
import type pg from 'pg';
import { connectStore } from './connection.js';
import { NOTIFY_CHANNEL } from './schema.js';

/** Without a notification, readers are still woken this often (one may be lost with its connection). */
const SAFETY_POLL_MS = 5000;
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 10_000;

export interface StoreListenOptions {
  url: string;
  /**
   * The channel to LISTEN on: the shippers' (the default), whose notifications name agents, or
   * another, whose every notification wakes with `null`.
   */
  channel?: string;
  /**
   * Called on the listening connection after each (re)connection and on the safety timer with
   * `null` (anything may have landed), and after notifications with the store ids of the agents
   * they name. Calls never overlap; notifications that arrive meanwhile make the next call.
   */
  onWake: (client: pg.Client, agents: ReadonlySet<number> | null) => Promise<void> | void;
  /** A lost connection (or a failed attempt) and the wait before the next try (for a message). */
  onReconnect?: (message: string, delayMs: number) => void;
  signal: AbortSignal;
}

/** Listens until `signal` aborts. */
export async function listenStore(o: StoreListenOptions): Promise<void> {
  const channel = o.channel ?? NOTIFY_CHANNEL;
  let delay = RECONNECT_FIRST_MS;
  let wake: (() => void) | null = null;
  const poke = () => wake?.();
  /** Agents notified since the last wake-up; null: every agent (a reconnection or the safety timer). */
  let notified: Set<number> | null = null;
  o.signal.addEventListener('abort', poke);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        notified = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (wake = null));
  try {
    while (!o.signal.aborted) {
      let client: pg.Client | null = null;
      try {
        client = await connectStore(o.url);
        let lost: Error | null = null;
        client.on('error', (err) => {
          lost = err;
          poke();
        });
        client.on('end', () => {
          lost ??= new Error('the connection to the store closed');
          poke();
        });
        client.on('notification', (msg) => {
          if (msg.channel !== channel) return;
          if (channel !== NOTIFY_CHANNEL) {
            notified = null;
            poke();
            return;
          }
          const agent = notifiedAgent(msg.payload);
          if (agent === null) return;
          notified?.add(agent);
          poke();
        });
        await client.query(`LISTEN ${channel}`);
        delay = RECONNECT_FIRST_MS;
        notified = null;
        while (!o.signal.aborted && lost === null) {
          // Read before waiting: whatever landed while we were not listening is read now.
          const agents: ReadonlySet<number> | null = notified;
          notified = new Set();
          await o.onWake(client, agents);
          if (lost !== null) break;
          const since = notified as Set<number> | null;
          if (since === null || since.size > 0) continue;
          await sleep(SAFETY_POLL_MS);
        }
        if (lost !== null) throw lost;
      } catch (err) {
        if (o.signal.aborted) break;
        // Closed before the wait, so its last events cannot cut the wait short.
        await client?.end().catch(() => {});
        client = null;
        o.onReconnect?.((err as Error).message, delay);
        await sleep(delay);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      } finally {
        await client?.end().catch(() => {});
      }
    }
  } finally {
    o.signal.removeEventListener('abort', poke);
  }
}

/** The agent a notification names (`{"agent": id, …}`), or null for a payload that is not ours. */
function notifiedAgent(payload: string | undefined): number | null {
  try {
    const agent = (JSON.parse(payload ?? '{}') as { agent?: unknown }).agent;
    return typeof agent === 'number' ? agent : null;
  } catch {
    return null;
  }
}
