/**
 * The replay channels' work (`replay:timeline`, `replay:seek`, `replay:frames`) on top of the
 * replay core (electron/core/replay): a run's timeline, cached until its log changes; the screen
 * at a moment, restored from the nearest keyframe plus the delta and sent as one serialized state;
 * and playback frames from a cursor, in bounded pieces, so the UI never holds a whole run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { entryTerminalText } from '../../../shared/entry.js';
import type { ReplayCursor, ReplayFrame, ReplayFrames, ReplayScreen, ReplayTimeline } from '../../../shared/ipc.js';
import { serializeTerminalState } from '../../../shared/terminal-state.js';
import type { AgentLog } from '../log/paths.js';
import { readRunEntries, runFiles } from '../replay/run-log.js';
import { entrySize, seekReplay, type ReplayPoint } from '../replay/seek.js';
import { KEYFRAME_SCROLLBACK } from '../replay/terminal.js';
import { buildTimeline } from '../replay/timeline.js';
import type { IndexDb } from '../index/schema.js';
import { timelineFromIndex } from '../index/timelineIndex.js';

/** Timelines kept in memory: one per recently replayed run is plenty. */
const TIMELINE_CACHE_RUNS = 16;
/** Output per `replay:frames` reply unless asked otherwise: a few seconds of a busy agent. */
const DEFAULT_FRAME_BYTES = 256 * 1024;
const DEFAULT_FRAME_LIMIT = 2000;

interface CachedTimeline {
  signature: string;
  buckets: number;
  timeline: Promise<ReplayTimeline>;
}

const timelines = new Map<string, CachedTimeline>();

/** What changes whenever the run's log does: each file's name, size and modification time. */
function runSignature(log: AgentLog): string {
  return runFiles(log)
    .map((file) => {
      try {
        const st = fs.statSync(file);
        return `${path.basename(file)}:${st.size}:${st.mtimeMs}`;
      } catch {
        return `${path.basename(file)}:gone`;
      }
    })
    .join('|');
}

/**
 * The run's timeline: from the root's index (`db`, when open) if it holds the whole run, else by
 * reading the run, which takes minutes for a 1 GB run; either way built once per state of the log.
 */
export function replayTimeline(log: AgentLog, buckets?: number, db?: IndexDb | null): Promise<ReplayTimeline> {
  const signature = runSignature(log);
  const wanted = buckets ?? 0;
  const cached = timelines.get(log.file);
  if (cached !== undefined && cached.signature === signature && cached.buckets === wanted) return cached.timeline;
  const fromIndex = db ? timelineFromIndex(db, log, buckets) : null;
  const timeline = fromIndex !== null ? Promise.resolve(fromIndex) : buildTimeline(log, buckets);
  timelines.delete(log.file);
  timelines.set(log.file, { signature, buckets: wanted, timeline });
  // A failed build is not kept: the next call tries again.
  timeline.catch(() => {
    if (timelines.get(log.file)?.timeline === timeline) timelines.delete(log.file);
  });
  while (timelines.size > TIMELINE_CACHE_RUNS) timelines.delete(timelines.keys().next().value!);
  return timeline;
}

/** The screen after entry `seq`, at `time` (µs), or at the end of the run. */
export async function replaySeek(log: AgentLog, at: { seq?: number; time?: number }): Promise<ReplayScreen> {
  const point: ReplayPoint = at.seq !== undefined ? { seq: at.seq } : at.time !== undefined ? { time: at.time } : { end: true };
  const screen = await seekReplay(log, point);
  try {
    const r = screen.replayer;
    r.flush();
    return {
      seq: r.seq,
      time: Number.isNaN(r.time) ? null : r.time,
      cols: r.cols,
      rows: r.rows,
      state: serializeTerminalState(r.terminal.term, r.terminal.serializer, KEYFRAME_SCROLLBACK),
      next: r.next,
      keyframeSeq: screen.keyframe?.seq ?? null,
      bytesReplayed: screen.bytesReplayed,
    };
  } finally {
    screen.dispose();
  }
}

/** Whether a cursor names one of the run's files (a rotated file may have been deleted since). */
export function cursorInRun(log: AgentLog, cursor: ReplayCursor): boolean {
  return runFiles(log).some((f) => path.basename(f) === cursor.file);
}

/**
 * Frames from `from`: each entry's terminal output and each resize, in order, until `maxBytes` of
 * output or `limit` frames. Entries without output (system notes) are passed over.
 */
export async function replayFrames(log: AgentLog, from: ReplayCursor, maxBytes = DEFAULT_FRAME_BYTES, limit = DEFAULT_FRAME_LIMIT): Promise<ReplayFrames> {
  const frames: ReplayFrame[] = [];
  let next: ReplayCursor = from;
  let bytes = 0;
  for await (const batch of readRunEntries(log, from)) {
    for (const e of batch) {
      if (frames.length >= limit || bytes >= maxBytes) return { frames, next, atEnd: false };
      next = e.next;
      const size = entrySize(e.entry);
      if (size !== null) {
        frames.push({ seq: e.entry.sequence, time: e.time, text: '', cols: size.cols, rows: size.rows });
        continue;
      }
      const text = entryTerminalText(e.entry);
      if (text === '') continue;
      frames.push({ seq: e.entry.sequence, time: e.time, text });
      bytes += text.length;
    }
  }
  return { frames, next, atEnd: true };
}
