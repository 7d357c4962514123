/**
 * Seeking in a run: the terminal as it was after a given entry or at a given time, rendered
 * headlessly at the recorded size. Restores the nearest keyframe and replays only the output
 * after it; keyframes missing on the way are built and stored as a side effect (lazily).
 */
import fs from 'node:fs';
import path from 'node:path';
import { entryTerminalText, type LogEntry } from '../../../shared/entry.js';
import { canKeyframe, serializeTerminalState } from '../../../shared/terminal-state.js';
import type { AgentLog } from '../log/paths.js';
import { KEYFRAME_INTERVAL_BYTES, KeyframeStore, type Keyframe } from './keyframes.js';
import { readRunEntries, runFiles, runStart, type RunEntry, type RunPosition } from './run-log.js';
import {
  createReplayTerminal,
  DEFAULT_COLS,
  DEFAULT_ROWS,
  feedTerminal,
  KEYFRAME_SCROLLBACK,
  TerminalFeedError,
  type ReplayTerminal,
} from './terminal.js';

/** A moment in a run: after entry `seq`, at time `time` (µs since the epoch), or its end. */
export type ReplayPoint = { seq: number } | { time: number } | { end: true };

/** Output is handed to the terminal in pieces of about this size (fewer, larger parser calls). */
const FEED_CHUNK_CHARS = 256 * 1024;

/** The size a system entry sets the terminal to (started and resized entries), or null. */
export function entrySize(entry: Pick<LogEntry, 'type' | 'metadata'>): { cols: number; rows: number } | null {
  if (entry.type !== 'system') return null;
  const { cols, rows } = entry.metadata ?? {};
  if (typeof cols !== 'number' || typeof rows !== 'number') return null;
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 4096 || rows > 4096) return null;
  return { cols, rows };
}

/**
 * A headless terminal that entries are played into, in order: terminal output is written,
 * started/resized entries resize it. Tracks where it is in the run.
 */
export class RunReplayer {
  readonly terminal: ReplayTerminal;
  cols: number;
  rows: number;
  /** The last entry applied (0 before any). */
  seq = 0;
  /** Its time, µs since the epoch (NaN before any). */
  time = Number.NaN;
  /** Terminal bytes (UTF-16 code units) applied so far. */
  streamBytes = 0;
  /** Where the next entry starts. */
  next: RunPosition;
  /** Chunks xterm failed on (its parser throws on a few rare sequences); the rest still plays. */
  feedErrors = 0;
  private pending = '';

  constructor(cols: number, rows: number, next: RunPosition) {
    this.cols = cols;
    this.rows = rows;
    this.next = next;
    this.terminal = createReplayTerminal(cols, rows);
  }

  /** A replayer restored from a keyframe's state. */
  static fromKeyframe(k: Keyframe, state: string): RunReplayer {
    const r = new RunReplayer(k.cols, k.rows, k.next);
    r.feed(state);
    r.seq = k.seq;
    r.time = k.time;
    r.streamBytes = k.streamBytes;
    return r;
  }

  apply(e: RunEntry): void {
    const size = entrySize(e.entry);
    if (size !== null) {
      this.flush();
      if (size.cols !== this.cols || size.rows !== this.rows) {
        this.terminal.term.resize(size.cols, size.rows);
        this.cols = size.cols;
        this.rows = size.rows;
      }
    } else {
      const text = entryTerminalText(e.entry);
      if (text !== '') {
        this.pending += text;
        this.streamBytes += text.length;
        if (this.pending.length >= FEED_CHUNK_CHARS) this.flush();
      }
    }
    this.seq = e.entry.sequence;
    this.time = e.time;
    this.next = e.next;
  }

  /** Writes buffered output into the terminal; the screen is current afterwards. */
  flush(): void {
    if (this.pending === '') return;
    const data = this.pending;
    this.pending = '';
    this.feed(data);
  }

  /** The terminal's state now, for a keyframe (null when the parser is mid-sequence). */
  keyframeState(): string | null {
    this.flush();
    if (!canKeyframe(this.terminal.term)) return null;
    return serializeTerminalState(this.terminal.term, this.terminal.serializer, KEYFRAME_SCROLLBACK);
  }

  dispose(): void {
    this.terminal.dispose();
  }

  private feed(data: string): void {
    try {
      feedTerminal(this.terminal.term, data);
    } catch (err) {
      if (!(err instanceof TerminalFeedError)) throw err;
      this.feedErrors++;
    }
  }
}

export interface SeekOptions {
  /** Use and build keyframes (default true). False replays from the start: the baseline. */
  keyframes?: boolean;
  /** Terminal bytes between keyframes built on the way (default KEYFRAME_INTERVAL_BYTES). */
  keyframeIntervalBytes?: number;
}

/** The terminal at a point of a run. `dispose()` it when done. */
export interface ReplayScreen {
  replayer: RunReplayer;
  /** The keyframe the seek started from, or null (from the start). */
  keyframe: Keyframe | null;
  /** Terminal bytes replayed after the keyframe. */
  bytesReplayed: number;
  dispose(): void;
}

function isAfter(point: ReplayPoint, e: RunEntry): boolean {
  if ('seq' in point) return e.entry.sequence > point.seq;
  if ('time' in point) return e.time > point.time;
  return false;
}

function keyframeIsBefore(point: ReplayPoint): (k: Keyframe) => boolean {
  if ('seq' in point) return (k) => k.seq <= point.seq;
  if ('time' in point) return (k) => k.time <= point.time;
  return () => true;
}

/**
 * The terminal of `log`'s run at `point`: after the last entry at or before it. Seeks through the
 * nearest keyframe, storing new keyframes every `KEYFRAME_INTERVAL_BYTES` past the last stored one.
 */
export async function seekReplay(log: AgentLog, point: ReplayPoint, options: SeekOptions = {}): Promise<ReplayScreen> {
  const useKeyframes = options.keyframes !== false;
  const store = useKeyframes ? KeyframeStore.forLog(log) : null;
  for (let attempt = 0; ; attempt++) {
    const keyframe = store?.nearest(keyframeIsBefore(point)) ?? null;
    const state = keyframe !== null ? store!.readState(keyframe) : null;
    if (keyframe !== null && state === null && attempt === 0) {
      // A damaged state (torn or mixed-up write): the cache cannot be trusted, rebuild it.
      store!.clear();
      continue;
    }
    const replayer =
      keyframe !== null && state !== null
        ? RunReplayer.fromKeyframe(keyframe, state)
        : new RunReplayer(DEFAULT_COLS, DEFAULT_ROWS, runStart(log));
    const startBytes = replayer.streamBytes;
    const result = await playUntil(log, replayer, point, store, options.keyframeIntervalBytes ?? KEYFRAME_INTERVAL_BYTES);
    if (result === 'ok') {
      replayer.flush();
      return {
        replayer,
        keyframe: state !== null ? keyframe : null,
        bytesReplayed: replayer.streamBytes - startBytes,
        dispose: () => replayer.dispose(),
      };
    }
    // The keyframe no longer matches its log (rotated or replaced): drop the cache and start over.
    replayer.dispose();
    store?.clear();
    if (attempt > 0) throw new Error(`cannot replay ${log.file}: its keyframe cache keeps mismatching`);
  }
}

/**
 * Extends `log`'s keyframes to the end of its run, playing only the output after the last one.
 * Indexing calls it for every agent with new output (`loupe reindex`, the backends' index worker),
 * so the first seek into an indexed run finds its keyframes made.
 */
export async function updateKeyframes(log: AgentLog): Promise<void> {
  // Less JSONL than a keyframe interval after the last keyframe holds less terminal output than
  // that too (escaping only adds bytes): no keyframe is due, and a live agent's passes stay cheap.
  const last = KeyframeStore.forLog(log).list().at(-1);
  if (last !== undefined && jsonlBytesAfter(log, last.next) < KEYFRAME_INTERVAL_BYTES) return;
  (await seekReplay(log, { end: true })).dispose();
}

/** JSONL bytes of the run from `pos` on (Infinity when `pos` is in a rotated file: plenty). */
function jsonlBytesAfter(log: AgentLog, pos: RunPosition): number {
  if (pos.file !== path.basename(log.file)) return Infinity;
  try {
    return fs.statSync(log.file).size - pos.offset;
  } catch {
    return 0;
  }
}

/**
 * Plays entries from the replayer's position up to `point`. Returns 'stale' when the first entry
 * read is not the one after the keyframe's (the log changed under the cache).
 */
/** JSONL read at a time by a seek (see playUntil). */
const SEEK_READ_BYTES = 64 * 1024;

async function playUntil(
  log: AgentLog,
  replayer: RunReplayer,
  point: ReplayPoint,
  store: KeyframeStore | null,
  interval: number,
): Promise<'ok' | 'stale'> {
  const expectFirst = replayer.seq > 0 ? replayer.seq + 1 : null;
  let first = true;
  let lastStoredBytes = store?.list().at(-1)?.streamBytes ?? 0;
  // A seek stops within one keyframe interval of output: small reads parse little it never plays.
  for await (const batch of readRunEntries(log, replayer.next, SEEK_READ_BYTES)) {
    for (const e of batch) {
      if (first) {
        first = false;
        if (expectFirst !== null && e.entry.sequence !== expectFirst) return 'stale';
      }
      if (isAfter(point, e)) return 'ok';
      replayer.apply(e);
      if (store !== null && replayer.streamBytes - lastStoredBytes >= interval) {
        const state = replayer.keyframeState();
        if (state !== null) {
          store.add({ seq: replayer.seq, time: replayer.time, streamBytes: replayer.streamBytes, cols: replayer.cols, rows: replayer.rows, next: replayer.next }, state);
          lastStoredBytes = replayer.streamBytes;
        }
      }
    }
  }
  if (first && expectFirst !== null && !positionExists(log, replayer.next)) return 'stale';
  return 'ok';
}

/** At the end of a run there is no next entry to check a keyframe by: its file must still hold the offset. */
function positionExists(log: AgentLog, pos: RunPosition): boolean {
  const file = runFiles(log).find((f) => path.basename(f) === pos.file);
  if (file === undefined) return false;
  if (file.endsWith('.gz')) return true;
  try {
    return fs.statSync(file).size >= pos.offset;
  } catch {
    return false;
  }
}
