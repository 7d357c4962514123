/**
 * Live entries for one client (a window, or one WebSocket): its subscriptions to agents' logs,
 * batched to at most one push per animation frame, with flow control (SPEC §7).
 *
 * Nothing is ever queued in memory on the backend's side: each subscription is only a read
 * position in the agent's log (a `LiveSource`: its JSONL file here, or a PostgreSQL store, see
 * core/store/storeLive.ts). A subscription reads when its log changes, up to
 * `MAX_BATCH_BYTES` per frame, and stops reading while more than `windowBytes` of what it sent
 * is unacknowledged. When acks arrive it continues from the file where it stopped. So a slow
 * client catches up from the log, capture (which only writes the file) never waits for it,
 * and memory per client stays bounded by the window. Subscriptions to one log share its open
 * file and its watch (`LogCursor`, `watchFile`); error notices come from the index worker,
 * which plays each agent's screen once for every client (`errorLines`).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import stripAnsi from 'strip-ansi';
import type { LogEntry } from '../../../shared/entry.js';
import type { RootErrorLine } from '../index/indexThread.js';
import { LIVE_ACK_WINDOW_BYTES, type AgentNotice, type AgentRef, type LiveBatch, type SubscribeResult } from '../../../shared/ipc.js';
import { watchFile } from './fileWatch.js';
import { LogCursor, type CursorRead } from './logCursor.js';
import { lastEntryOf } from './lastEntry.js';

/** One animation frame at 60 Hz: the UI cannot render pushes any faster. */
export const FRAME_MS = 16;
/** JSONL bytes one subscription reads per frame; bounds one push and one frame's work. */
export const MAX_BATCH_BYTES = 512 * 1024;
/** At most one "error" notice per agent this often, so a burst of errors is one notification. */
const ERROR_NOTICE_INTERVAL_MS = 30_000;
/** More subscriptions than any screen can show: a client asking for more is misbehaving. */
export const MAX_SUBSCRIPTIONS_PER_CLIENT = 256;
/**
 * Subscriptions over every client of this process (RELIABILITY W6): each holds a file open, so
 * many clients at their own cap would exhaust the descriptors everything else needs.
 */
export const MAX_SUBSCRIPTIONS_TOTAL = 512;
/** Open subscriptions over every LiveFeed (client) of this process. */
let openSubscriptions = 0;

export interface LiveFeedOptions {
  /** Sends one `live:entries` push to the client. */
  push: (batches: LiveBatch[]) => void;
  /** Sends an `agent:notice` (an agent exited or printed an error after the subscription began). */
  notice?: (notice: AgentNotice) => void;
  /** Hears the live entries of each push (those after the subscription began, not replayed history). */
  delivered?: (entries: LogEntry[]) => void;
  frameMs?: number;
  windowBytes?: number;
}

/** A user-facing error about subscriptions (unknown id, too many). */
export class SubscriptionError extends Error {
  override name = 'SubscriptionError';
}

/**
 * What a subscription reads: a position in one agent's log that never returns a sequence twice,
 * and a wake-up (the `changed` callback it was opened with) when the log may have grown.
 */
export interface LiveSource {
  /** The last sequence in the log when the subscription started (0 for an empty log). */
  readonly lastSequence: number;
  /** Complete entries after the last ones read, about `maxBytes` of JSONL at most; never waits. */
  read(maxBytes: number): CursorRead;
  dispose(): void;
}

/** Opens a subscription's source; it calls `changed` whenever its log may hold entries not read yet. */
export type OpenLiveSource = (changed: () => void) => LiveSource;

/** An agent's JSONL file from `fromSequence` on, read as it grows (shared descriptor and watch). */
export function logFileSource(file: string, fromSequence: number): OpenLiveSource {
  return (changed) => {
    const cursor = new LogCursor(file, fromSequence);
    const watch = watchFile(file, changed);
    return {
      lastSequence: lastEntryOf(file)?.sequence ?? 0,
      read: (maxBytes) => cursor.read(maxBytes),
      dispose() {
        watch.dispose();
        cursor.close();
      },
    };
  };
}

interface Subscription {
  id: string;
  agent: AgentRef;
  source: LiveSource;
  /** Batches sent and not yet acknowledged: last sequence and JSONL bytes. */
  inflight: { sequence: number; bytes: number }[];
  unackedBytes: number;
  /** The file may hold entries not read yet. */
  dirty: boolean;
  /** Notices only for entries after this (not for history the client asked to replay). */
  liveAfter: number;
}

export class LiveFeed {
  private readonly subs = new Map<string, Subscription>();
  private readonly frameMs: number;
  private readonly windowBytes: number;
  private timer: NodeJS.Timeout | null = null;
  private lastPushAt = -Infinity;
  private disposed = false;
  /** When this client last heard of an error line of each agent (by `agentKey`). */
  private readonly lastErrorNoticeAt = new Map<string, number>();

  constructor(private readonly options: LiveFeedOptions) {
    this.frameMs = options.frameMs ?? FRAME_MS;
    this.windowBytes = options.windowBytes ?? LIVE_ACK_WINDOW_BYTES;
  }

  /**
   * Starts streaming `file` (the log of `agent`, already resolved and checked by the caller)
   * from `fromSequence`. Entries already in the file from that sequence on come in the first pushes.
   */
  subscribe(agent: AgentRef, file: string, fromSequence: number): SubscribeResult {
    return this.subscribeSource(agent, logFileSource(file, fromSequence));
  }

  /** Starts streaming the log that `open` reads (of `agent`, already resolved and checked by the caller). */
  subscribeSource(agent: AgentRef, open: OpenLiveSource): SubscribeResult {
    if (this.disposed) throw new SubscriptionError('this connection is closed; reconnect and subscribe again');
    if (this.subs.size >= MAX_SUBSCRIPTIONS_PER_CLIENT) {
      throw new SubscriptionError(
        `too many live subscriptions (${MAX_SUBSCRIPTIONS_PER_CLIENT}); unsubscribe from panes that are closed`,
      );
    }
    if (openSubscriptions >= MAX_SUBSCRIPTIONS_TOTAL) {
      throw new SubscriptionError(
        `this server has too many live subscriptions (${MAX_SUBSCRIPTIONS_TOTAL}, over all its clients); close panes or other connections`,
      );
    }
    const id = randomUUID();
    const source = open(() => this.markDirty(id));
    const lastSequence = source.lastSequence;
    const sub: Subscription = {
      id,
      agent: { ...agent },
      source,
      inflight: [],
      unackedBytes: 0,
      dirty: true,
      liveAfter: lastSequence,
    };
    this.subs.set(id, sub);
    openSubscriptions++;
    this.schedule();
    return { subscriptionId: id, lastSequence };
  }

  unsubscribe(subscriptionId: string): void {
    const sub = this.subs.get(subscriptionId);
    if (!sub) return; // already gone: unsubscribing twice is harmless
    this.subs.delete(subscriptionId);
    openSubscriptions--;
    sub.source.dispose();
  }

  /** The client has rendered everything up to `sequence` of this subscription. */
  ack(subscriptionId: string, sequence: number): void {
    const sub = this.subs.get(subscriptionId);
    if (!sub) throw new SubscriptionError(`no live subscription ${subscriptionId}; subscribe again`);
    while (sub.inflight.length > 0 && sub.inflight[0].sequence <= sequence) {
      sub.unackedBytes -= sub.inflight.shift()!.bytes;
    }
    if (sub.dirty && sub.unackedBytes < this.windowBytes) this.schedule();
  }

  /** How many subscriptions are open (for tests and diagnostics). */
  get size(): number {
    return this.subs.size;
  }

  /** Bytes sent and not yet acknowledged, over all subscriptions. */
  get unackedBytes(): number {
    let total = 0;
    for (const sub of this.subs.values()) total += sub.unackedBytes;
    return total;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const id of [...this.subs.keys()]) this.unsubscribe(id);
  }

  private markDirty(id: string): void {
    const sub = this.subs.get(id);
    if (!sub) return;
    sub.dirty = true;
    if (sub.unackedBytes < this.windowBytes) this.schedule();
  }

  /** Pushes at once after a quiet spell (lowest latency), else one frame after the last push. */
  private schedule(): void {
    if (this.timer !== null || this.disposed) return;
    const wait = Math.max(0, this.lastPushAt + this.frameMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.frame();
    }, wait);
  }

  private frame(): void {
    const batches: LiveBatch[] = [];
    let again = false;
    for (const sub of this.subs.values()) {
      if (!sub.dirty || sub.unackedBytes >= this.windowBytes) continue;
      let read;
      try {
        read = sub.source.read(Math.min(MAX_BATCH_BYTES, this.windowBytes - sub.unackedBytes));
      } catch {
        continue; // the file vanished mid-read; the next change event retries
      }
      sub.dirty = read.more;
      if (read.more) again = true;
      if (read.entries.length === 0) continue;
      const last = read.entries[read.entries.length - 1].sequence;
      sub.inflight.push({ sequence: last, bytes: read.bytes });
      sub.unackedBytes += read.bytes;
      batches.push({ subscriptionId: sub.id, agent: sub.agent, entries: read.entries });
      this.notice(sub, read.entries);
    }
    if (batches.length > 0) {
      this.lastPushAt = performance.now();
      this.options.push(batches);
      this.delivered(batches);
    }
    if (again) this.schedule();
  }

  private delivered(batches: LiveBatch[]): void {
    const hear = this.options.delivered;
    if (!hear) return;
    for (const batch of batches) {
      const after = this.subs.get(batch.subscriptionId)?.liveAfter ?? Infinity;
      const live = batch.entries.filter((e) => e.sequence > after);
      if (live.length > 0) hear(live);
    }
  }

  /** The agent exited after the subscription began. */
  private notice(sub: Subscription, entries: LogEntry[]): void {
    const send = this.options.notice;
    if (!send) return;
    for (const e of entries) {
      if (e.sequence <= sub.liveAfter || e.type !== 'system' || e.metadata?.event !== 'terminated') continue;
      const status = typeof e.metadata.exit_status === 'number' ? e.metadata.exit_status : null;
      send({
        agent: sub.agent,
        kind: 'exited',
        exitStatus: status,
        message: `${sub.agent.agentId} exited${status === null ? '' : ` with status ${status}`}`,
      });
    }
  }

  /**
   * Error lines that became final on agents' screens (SPEC §12; from the index worker, which plays
   * every agent's screen once for all clients). A subscribed agent's first one is a notice with
   * its text; more within `ERROR_NOTICE_INTERVAL_MS` are not.
   */
  errorLines(lines: RootErrorLine[]): void {
    const send = this.options.notice;
    if (!send) return;
    for (const line of lines) {
      const key = agentKey(line.root, line.taskId, line.agentId);
      const sub = [...this.subs.values()].find((s) => agentKey(s.agent.root, s.agent.taskId, s.agent.agentId) === key);
      if (sub === undefined || line.sequence <= sub.liveAfter) continue;
      const now = performance.now();
      if (now - (this.lastErrorNoticeAt.get(key) ?? -Infinity) < ERROR_NOTICE_INTERVAL_MS) continue;
      this.lastErrorNoticeAt.set(key, now);
      send({ agent: sub.agent, kind: 'error', exitStatus: null, message: `${sub.agent.agentId}: ${firstLine(line.text)}` });
    }
  }
}

function agentKey(root: string, taskId: string, agentId: string): string {
  return `${path.resolve(root)}\u0000${taskId}\u0000${agentId}`;
}

/** First line of a content string, without ANSI escapes, cut to a notification's length. */
function firstLine(content: string): string {
  const plain = stripAnsi(content).split(/\r?\n/)[0] ?? '';
  return plain.length > 200 ? plain.slice(0, 199) + '…' : plain;
}
