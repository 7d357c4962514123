/**
 * A run's timeline, for the replay scrubber and `loupe screen --at`: entries and bytes over time
 * in buckets, error and warning markers, resizes and gaps, and how the run ended.
 */
import { entryTerminalText, type Level } from '../../../shared/entry.js';
import { rootClassifier } from '../capture/classify.js';
import type { AgentLog } from '../log/paths.js';
import type { LineRecord } from '../screen/lineRecord.js';
import { LineRecorder } from '../screen/runLines.js';
import { readRunEntries, runStart } from './run-log.js';
import { entrySize } from './seek.js';

/** Buckets in a timeline unless asked otherwise: about one per pixel column of a pane's scrubber. */
export const DEFAULT_TIMELINE_BUCKETS = 200;
/** Markers kept per kind; a run with more shows the first ones (the scrubber cannot show more). */
export const MAX_MARKERS = 5000;
/** A marker's text is its screen line's first characters. */
const MARKER_TEXT_CHARS = 120;

export interface TimelineBucket {
  /** Start of the bucket, µs since the epoch. */
  start: number;
  entries: number;
  bytes: number;
  errors: number;
  warnings: number;
}

export interface TimelineMarker {
  seq: number;
  time: number;
  level: Level;
  text: string;
}

export interface RunTimeline {
  agentId: string;
  taskId: string;
  /** First and last entry times, µs since the epoch (null for an empty run). */
  start: number | null;
  end: number | null;
  firstSeq: number;
  lastSeq: number;
  entries: number;
  /** Terminal bytes (UTF-16 code units) of the run. */
  bytes: number;
  /** Width of each bucket in µs. */
  bucketMicros: number;
  buckets: TimelineBucket[];
  /** Error and fatal entries, then warnings, by sequence. */
  markers: TimelineMarker[];
  resizes: { seq: number; time: number; cols: number; rows: number }[];
  gaps: { seq: number; time: number; reason: string }[];
  /** The exit status from the `terminated` entry; undefined while the run has none. */
  exitStatus?: number | null;
}

/** Reads the whole run once and builds its timeline. */
export async function buildTimeline(log: AgentLog, buckets = DEFAULT_TIMELINE_BUCKETS): Promise<RunTimeline> {
  // Per-entry times and sizes are kept compactly so the buckets can be laid out once the end is known.
  let times: Float64Array = new Float64Array(1024);
  let sizes: Float64Array = new Float64Array(1024);
  let n = 0;
  const t: RunTimeline = {
    agentId: log.agentId,
    taskId: log.taskId,
    start: null,
    end: null,
    firstSeq: 0,
    lastSeq: 0,
    entries: 0,
    bytes: 0,
    bucketMicros: 0,
    buckets: [],
    markers: [],
    resizes: [],
    gaps: [],
  };
  const warnings: TimelineMarker[] = [];
  // Markers and the buckets' error and warning counts come from the screen lines (SPEC §12):
  // the error a person saw, once, not every frame of a redraw that held it.
  const lines = new LineRecorder(rootClassifier(log.root));
  const marks: { time: number; level: 1 | 2 }[] = [];
  const mark = (found: LineRecord[]) => {
    for (const l of found) {
      const level = l.level === 'error' || l.level === 'fatal' ? 2 : l.level === 'warn' ? 1 : 0;
      if (level === 0) continue;
      marks.push({ time: l.time, level });
      const list = level === 2 ? t.markers : warnings;
      if (list.length < MAX_MARKERS) list.push({ seq: l.sequence, time: l.time, level: l.level, text: markerText(l.text) });
    }
  };
  for await (const batch of readRunEntries(log, runStart(log))) {
    for (const { entry, time } of batch) {
      mark(lines.add(entry, time));
      if (n === times.length) {
        times = grow(times);
        sizes = grow(sizes);
      }
      const text = entryTerminalText(entry);
      times[n] = time;
      sizes[n] = text.length;
      n++;
      if (t.firstSeq === 0) t.firstSeq = entry.sequence;
      t.lastSeq = entry.sequence;
      t.bytes += text.length;
      const size = entrySize(entry);
      if (size !== null) t.resizes.push({ seq: entry.sequence, time, ...size });
      const gap = entry.metadata?.gap;
      if (gap !== undefined) t.gaps.push({ seq: entry.sequence, time, reason: String(gap) });
      if (entry.metadata?.event === 'terminated') {
        const status = entry.metadata.exit_status;
        t.exitStatus = typeof status === 'number' ? status : null;
      }
    }
  }
  mark(lines.end());
  t.entries = n;
  t.markers = [...t.markers, ...warnings].sort((a, b) => a.seq - b.seq);
  if (n === 0) return t;
  let start = Infinity;
  let end = -Infinity;
  for (let i = 0; i < n; i++) {
    if (times[i] < start) start = times[i];
    if (times[i] > end) end = times[i];
  }
  t.start = start;
  t.end = end;
  const bucketOf = layBuckets(t, buckets);
  for (let i = 0; i < n; i++) {
    const b = bucketOf(times[i]);
    b.entries++;
    b.bytes += sizes[i];
  }
  for (const m of marks) {
    if (m.level === 2) bucketOf(m.time).errors++;
    else bucketOf(m.time).warnings++;
  }
  return t;
}

const SECOND_US = 1_000_000;

/**
 * Lays out `t.buckets` (empty) from `t.start` to `t.end` and returns the bucket a time falls in.
 * When buckets are a second wide or more, they are whole seconds, starting on a second, so the
 * index's per-second sums fill them exactly (index/timelineIndex.ts): then there may be fewer
 * buckets than asked for, never more.
 */
export function layBuckets(t: RunTimeline, buckets: number): (time: number) => TimelineBucket {
  const start = t.start ?? 0;
  const end = t.end ?? start;
  let count = Math.max(1, Math.floor(buckets));
  let width = Math.max(1, Math.ceil((end - start + 1) / count));
  let origin = start;
  if (width >= SECOND_US) {
    origin = Math.floor(start / SECOND_US) * SECOND_US;
    width = Math.ceil(width / SECOND_US) * SECOND_US;
    while (Math.ceil((end - origin + 1) / width) > count) width += SECOND_US;
    count = Math.ceil((end - origin + 1) / width);
  }
  t.bucketMicros = width;
  t.buckets = Array.from({ length: count }, (_, i) => ({ start: origin + i * width, entries: 0, bytes: 0, errors: 0, warnings: 0 }));
  return (time) => t.buckets[Math.min(count - 1, Math.max(0, Math.floor((time - origin) / width)))];
}

/** Buckets a second wide or more (see layBuckets) for a run from `start` to `end`: the index can fill them. */
export function wholeSecondBuckets(start: number, end: number, buckets: number): boolean {
  return Math.ceil((end - start + 1) / Math.max(1, Math.floor(buckets))) >= SECOND_US;
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/** One line of plain text for a marker: escapes and control characters removed. */
export function markerText(content: string): string {
  // eslint-disable-next-line no-control-regex
  return content.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|[\x00-\x1f\x7f]/g, '').slice(0, MARKER_TEXT_CHARS);
}
