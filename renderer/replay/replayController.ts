/**
 * The imperative half of a pane's Replay mode: it drives the pane's replay terminal controller
 * from the backend's replay channels. A seek restores the screen the backend rebuilt from its
 * nearest keyframe (`replay:seek`) into a reset terminal; playback then writes the frames after
 * it (`replay:frames`, a bounded page at a time) on an animation-frame clock. The UI never holds
 * more of a run than one screen plus a few pages of frames, however long the run is.
 *
 * React reads its state through `subscribe`/`status` (useSyncExternalStore) and calls its methods.
 */
import type { AgentRef, ReplayCursor, ReplayFrame, ReplayTimeline, RunLinks } from '../../shared/ipc.js';
import { invoke } from '../bridge.js';
import type { TerminalController } from '../terminal/terminalController.js';
import { advanceClock, DEFAULT_IDLE_CAP_SECONDS, DEFAULT_SPEED, nextSpeed, type ClockState } from './playbackClock.js';

/** Frames fetched per `replay:frames` call: a few seconds of a busy agent, a small reply. */
const FRAME_PAGE_BYTES = 256 * 1024;
/** Fetch the next page once fewer frames than this are waiting, so playback never starves. */
const FRAME_LOW_WATER = 200;
/** Histogram buckets asked for: about one per pixel column of a wide scrubber. */
const TIMELINE_BUCKETS = 200;

/** A moment to seek to: after an entry, at a time (µs since the epoch), or the end of the run. */
export type ReplayTarget = { seq: number } | { time: number } | { end: true };

export interface ReplayStatus {
  timeline: ReplayTimeline | null;
  /** What the run is linked to (a `claude`/`codex` pane and its transcript), with the tool calls. */
  links: RunLinks | null;
  /** The last entry shown (0 before the first) and its time (µs; null before the first). */
  seq: number;
  time: number | null;
  /** The recorded terminal size at this moment. */
  cols: number;
  rows: number;
  playing: boolean;
  speed: number;
  /** Seconds; null keeps idle pauses as recorded. */
  idleCap: number | null;
  /** A seek is on its way (the screen shows the previous moment until it lands). */
  seeking: boolean;
  /** Playback reached the end of the log. */
  atEnd: boolean;
  error: string | null;
}

export class ReplayController {
  private state: ReplayStatus = {
    timeline: null,
    links: null,
    seq: 0,
    time: null,
    cols: 80,
    rows: 24,
    playing: false,
    speed: DEFAULT_SPEED,
    idleCap: DEFAULT_IDLE_CAP_SECONDS,
    seeking: false,
    atEnd: false,
    error: null,
  };
  private readonly listeners = new Set<() => void>();
  /** Where the frames after the shown moment start (null until the first seek lands). */
  private cursor: ReplayCursor | null = null;
  private frames: ReplayFrame[] = [];
  /** The last page read reached the end of the log: no frames beyond those waiting. */
  private noMoreFrames = false;
  private fetching: Promise<void> | null = null;
  /** The latest seek asked for while one is on its way: only the last of a drag matters. */
  private wantedSeek: ReplayTarget | null = null;
  private seekLoop: Promise<void> | null = null;
  /** Bumped by every seek, so replies for an older position are dropped. */
  private generation = 0;
  private clock: ClockState = { shownTime: null, pending: 0 };
  private animationFrame = 0;
  private lastTick = 0;
  private disposed = false;

  constructor(
    private readonly agent: AgentRef,
    private readonly terminal: TerminalController,
  ) {}

  /** The current state; a new object after every change. */
  get status(): ReplayStatus {
    return this.state;
  }

  /** Calls `listener` after every change; returns its remover. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Loads the run's timeline and shows `target`. */
  async open(target: ReplayTarget): Promise<void> {
    this.seek(target);
    await this.loadTimeline();
  }

  /**
   * Reloads the timeline and links (a live run has grown). The links come from the index, which
   * may be busy indexing a big root for minutes: the scrubber never waits for them, and the
   * tool-call ticks appear when they arrive. Without them the replay works as before.
   */
  async loadTimeline(): Promise<void> {
    invoke('index:links', this.agent).then(
      (links) => {
        if (!this.disposed) this.update({ links });
      },
      () => {},
    );
    try {
      const timeline = await invoke('replay:timeline', { ...this.agent, buckets: TIMELINE_BUCKETS });
      if (!this.disposed) this.update({ timeline });
    } catch (err) {
      this.fail(err);
    }
  }

  /** Shows the terminal at `target`. Seeks asked for while one is on its way collapse into the last. */
  seek(target: ReplayTarget): void {
    if (this.disposed) return;
    this.wantedSeek = target;
    this.generation++;
    this.frames = [];
    this.noMoreFrames = false;
    this.update({ seeking: true, atEnd: false });
    this.seekLoop ??= this.runSeeks().finally(() => (this.seekLoop = null));
  }

  /** Resolves once no seek is on its way. */
  async settled(): Promise<void> {
    while (this.seekLoop) await this.seekLoop;
  }

  private async runSeeks(): Promise<void> {
    while (this.wantedSeek !== null && !this.disposed) {
      const target = this.wantedSeek;
      this.wantedSeek = null;
      try {
        const at = 'seq' in target ? { seq: target.seq } : 'time' in target ? { time: Math.floor(target.time) } : {};
        const screen = await invoke('replay:seek', { ...this.agent, ...at });
        if (this.disposed || this.wantedSeek !== null) continue;
        // Everything written before must be parsed before the reset, or it would land after it.
        await new Promise<void>((resolve) => this.terminal.afterParsed(resolve));
        if (this.disposed || this.wantedSeek !== null) continue;
        // A full reset first: the restored state sets the alternate screen, modes and cursor itself.
        this.terminal.reset();
        this.terminal.resize(screen.cols, screen.rows);
        this.terminal.write(screen.state);
        this.cursor = screen.next;
        this.frames = [];
        this.noMoreFrames = false;
        this.clock = { shownTime: screen.time, pending: 0 };
        this.update({ seq: screen.seq, time: screen.time, cols: screen.cols, rows: screen.rows, error: null });
      } catch (err) {
        this.fail(err);
      }
    }
    if (!this.disposed) {
      this.update({ seeking: false });
      if (this.state.playing) this.schedule();
    }
  }

  play(): void {
    if (this.state.playing) return;
    // Playing at the end starts over, like any player.
    if (this.state.atEnd) this.seek({ seq: 0 });
    this.clock = { shownTime: this.state.time, pending: 0 };
    this.update({ playing: true });
    this.schedule();
  }

  pause(): void {
    if (!this.state.playing) return;
    this.update({ playing: false });
    if (this.animationFrame !== 0) cancelAnimationFrame(this.animationFrame);
    this.animationFrame = 0;
  }

  togglePlay(): void {
    if (this.state.playing) this.pause();
    else this.play();
  }

  setSpeed(speed: number): void {
    this.update({ speed });
  }

  changeSpeed(direction: 1 | -1): void {
    this.setSpeed(nextSpeed(this.state.speed, direction));
  }

  setIdleCap(idleCap: number | null): void {
    this.update({ idleCap });
  }

  /** Shows the next entry that writes output (or resizes). */
  async stepForward(): Promise<void> {
    this.pause();
    await this.settled();
    if (this.frames.length === 0) await this.fetchFrames();
    const frame = this.frames.shift();
    if (frame === undefined) {
      this.update({ atEnd: true });
      return;
    }
    this.show([frame]);
  }

  /** Shows the moment before the current entry. */
  stepBack(): void {
    this.pause();
    if (this.state.seq > 0) this.seek({ seq: this.state.seq - 1 });
  }

  /** Seeks to the previous (`-1`) or next (`+1`) error marker; false when there is none that way. */
  jumpToError(direction: 1 | -1): boolean {
    const errors = (this.state.timeline?.markers ?? []).filter((m) => m.level === 'error' || m.level === 'fatal');
    const seq = this.state.seq;
    const marker = direction > 0 ? errors.find((m) => m.seq > seq) : errors.filter((m) => m.seq < seq).at(-1);
    if (marker === undefined) return false;
    this.seek({ seq: marker.seq });
    return true;
  }

  /** Seeks to a fraction (0–1) of the run's duration. */
  jumpToFraction(fraction: number): void {
    const t = this.state.timeline;
    if (t === null || t.start === null || t.end === null) return;
    this.seek({ time: t.start + Math.min(1, Math.max(0, fraction)) * (t.end - t.start) });
  }

  private schedule(): void {
    if (this.animationFrame !== 0 || this.disposed) return;
    this.lastTick = performance.now();
    this.animationFrame = requestAnimationFrame((now) => this.tick(now));
  }

  private tick(now: number): void {
    this.animationFrame = 0;
    if (!this.state.playing || this.disposed || this.state.seeking) return;
    const elapsed = now - this.lastTick;
    const { due, clock } = advanceClock(this.frames, this.clock, elapsed, this.state.speed, this.state.idleCap);
    this.clock = clock;
    if (due > 0) this.show(this.frames.splice(0, due));
    if (this.frames.length < FRAME_LOW_WATER && !this.noMoreFrames) void this.fetchFrames();
    if (this.frames.length === 0 && this.noMoreFrames) {
      this.update({ atEnd: true });
      this.pause();
      return;
    }
    this.lastTick = now;
    this.animationFrame = requestAnimationFrame((t) => this.tick(t));
  }

  /** Writes frames into the terminal and moves the position to the last of them. */
  private show(frames: ReplayFrame[]): void {
    let { cols, rows } = this.state;
    for (const frame of frames) {
      if (frame.cols !== undefined && frame.rows !== undefined) {
        this.terminal.resizeInStream(frame.cols, frame.rows);
        cols = frame.cols;
        rows = frame.rows;
      } else {
        this.terminal.write(frame.text);
      }
    }
    const last = frames[frames.length - 1];
    this.update({ seq: last.seq, time: last.time, cols, rows });
  }

  /** Fetches the next page of frames after the cursor (one fetch at a time). */
  private fetchFrames(): Promise<void> {
    this.fetching ??= this.fetchPage().finally(() => (this.fetching = null));
    return this.fetching;
  }

  private async fetchPage(): Promise<void> {
    const cursor = this.cursor;
    if (cursor === null) return;
    const generation = this.generation;
    try {
      const page = await invoke('replay:frames', { ...this.agent, from: cursor, maxBytes: FRAME_PAGE_BYTES });
      if (this.disposed || generation !== this.generation) return;
      this.frames.push(...page.frames);
      this.cursor = page.next;
      this.noMoreFrames = page.atEnd;
    } catch (err) {
      this.fail(err);
    }
  }

  private update(patch: Partial<ReplayStatus>): void {
    if (this.disposed) return;
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private fail(err: unknown): void {
    if (this.disposed) return;
    this.pause();
    this.update({ error: err instanceof Error ? err.message : String(err) });
  }

  dispose(): void {
    if (this.disposed) return;
    if (this.animationFrame !== 0) cancelAnimationFrame(this.animationFrame);
    this.disposed = true;
    this.listeners.clear();
  }
}

const controllers = new Map<string, ReplayController>();

/** Makes `controller` the replay of pane `key` (for keyboard shortcuts); returns its remover. */
export function registerReplay(key: string, controller: ReplayController): () => void {
  controllers.set(key, controller);
  return () => {
    if (controllers.get(key) === controller) controllers.delete(key);
  };
}

/** The replay controller of a pane in Replay mode. */
export function replayFor(key: string): ReplayController | undefined {
  return controllers.get(key);
}
