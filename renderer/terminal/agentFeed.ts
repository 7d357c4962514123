/**
 * Feeds one agent's log into its terminal controller: first what is already on disk, then live
 * entries from the next sequence. Live batches are acknowledged only after xterm has parsed them,
 * so the backend pauses a subscription this pane cannot keep up with and resumes it from the log
 * file later (shared/ipc.ts): nothing is dropped and nothing buffers without bound.
 */
import { entryTerminalText, type LogEntry } from '../../shared/entry.js';
import type { AgentRef, LiveBatch } from '../../shared/ipc.js';
import { invoke, onConnectionState, onPush } from '../bridge.js';
import type { TerminalController } from './terminalController.js';

/** Entries shown when a pane opens: enough scrollback for context without replaying a huge run. */
const OPENING_ENTRIES = 5000;

export interface AgentFeedEvents {
  /** New entries were rendered (the status bar and filter view refresh on this). */
  onActivity: () => void;
  onError: (message: string) => void;
}

export class AgentFeed {
  private lastSequence = 0;
  private subscriptionId: string | null = null;
  /** Pushes that arrived before `live:subscribe` answered with their subscription id. */
  private early: LiveBatch[] = [];
  private subscribing = false;
  /** Bumped by every (re)load, so the replies of an abandoned load are ignored. */
  private generation = 0;
  private readonly cleanups: (() => void)[] = [];
  private disposed = false;

  constructor(
    private readonly agent: AgentRef,
    private readonly controller: TerminalController,
    private readonly events: AgentFeedEvents,
  ) {
    this.cleanups.push(onPush('live:entries', ({ batches }) => this.receive(batches)));
    let wasClosed = false;
    this.cleanups.push(
      onConnectionState((state) => {
        // A new connection has none of the old subscriptions: continue from what the pane has.
        if (state === 'closed') wasClosed = true;
        if (state === 'open' && wasClosed) {
          wasClosed = false;
          this.subscriptionId = null;
          void this.subscribe(this.generation);
        }
      }),
    );
  }

  /** Loads the end of the log, then follows it live. */
  async start(): Promise<void> {
    const generation = await this.restart();
    try {
      // The raw entries (ansi: the smallest text beside them), which the terminal plays.
      const { entries } = await invoke('agent:tail', { ...this.agent, lines: OPENING_ENTRIES, format: 'ansi' });
      if (generation !== this.generation) return;
      this.render(entries);
      await this.subscribe(generation);
    } catch (err) {
      this.fail(err);
    }
  }

  private async restart(): Promise<number> {
    const generation = ++this.generation;
    await this.unsubscribe();
    this.controller.reset();
    this.lastSequence = 0;
    this.early = [];
    return generation;
  }

  private async subscribe(generation: number): Promise<void> {
    if (this.disposed || this.subscribing) return;
    this.subscribing = true;
    try {
      const { subscriptionId } = await invoke('live:subscribe', { ...this.agent, fromSequence: this.lastSequence + 1 });
      if (this.disposed || generation !== this.generation) {
        void invoke('live:unsubscribe', { subscriptionId }).catch(() => undefined);
        return;
      }
      this.subscriptionId = subscriptionId;
      const early = this.early.filter((b) => b.subscriptionId === subscriptionId);
      this.early = [];
      for (const batch of early) this.renderLive(batch);
    } catch (err) {
      this.fail(err);
    } finally {
      this.subscribing = false;
    }
  }

  private async unsubscribe(): Promise<void> {
    const id = this.subscriptionId;
    this.subscriptionId = null;
    if (id !== null) await invoke('live:unsubscribe', { subscriptionId: id }).catch(() => undefined);
  }

  private receive(batches: LiveBatch[]): void {
    for (const batch of batches) {
      if (batch.subscriptionId === this.subscriptionId) this.renderLive(batch);
      else if (this.subscribing && this.subscriptionId === null) this.early.push(batch);
    }
  }

  private renderLive(batch: LiveBatch): void {
    this.render(batch.entries);
    const last = batch.entries.at(-1)?.sequence;
    if (last === undefined) return;
    const id = batch.subscriptionId;
    this.controller.afterParsed(() => {
      if (id === this.subscriptionId) void invoke('live:ack', { subscriptionId: id, sequence: last }).catch(() => undefined);
    });
    this.events.onActivity();
  }

  /** Writes entries in order, skipping any the pane already has (a resubscribe can overlap). */
  private render(entries: LogEntry[]): void {
    for (const entry of entries) {
      if (entry.sequence <= this.lastSequence) continue;
      this.lastSequence = entry.sequence;
      const { cols, rows } = entry.metadata ?? {};
      if (entry.type === 'system' && typeof cols === 'number' && typeof rows === 'number' && cols > 0 && rows > 0) {
        this.controller.resizeInStream(cols, rows);
      }
      this.controller.write(entryTerminalText(entry));
    }
  }

  private fail(err: unknown): void {
    if (this.disposed) return;
    this.events.onError(err instanceof Error ? err.message : String(err));
  }

  /** The last sequence written to the terminal. */
  get sequence(): number {
    return this.lastSequence;
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    for (const cleanup of this.cleanups) cleanup();
    void this.unsubscribe();
  }
}
