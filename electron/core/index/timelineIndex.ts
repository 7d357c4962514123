/**
 * A long run's replay timeline from the index, in milliseconds instead of minutes: the indexer
 * keeps per-second sums of each agent's entries and terminal bytes (`timeline_seconds`) and
 * already made the screen lines whose levels give the markers, so nothing is read or played
 * again. `buildTimeline` (replay/timeline.ts) reads and plays the run instead; both give the same
 * timeline for a run the index holds whole (timelineIndex.test.ts checks it).
 *
 * The index answers only when it holds every file of the run to its end, and when the buckets are
 * at least a second wide (a run of 200 s or more at 200 buckets): a shorter run is quick to read.
 * Lines still on a live agent's screen are not in the index until they settle (about 3 s of
 * quiet), so their markers show then, as their search hits do.
 */
import fs from 'node:fs';
import { LEVELS, type EntryType, type Level } from '../../../shared/entry.js';
import type { AgentLog } from '../log/paths.js';
import { runFiles } from '../replay/run-log.js';
import { agentRowId } from '../search/agentLines.js';
import { entrySize } from '../replay/seek.js';
import { DEFAULT_TIMELINE_BUCKETS, layBuckets, markerText, MAX_MARKERS, wholeSecondBuckets, type RunTimeline, type TimelineMarker } from '../replay/timeline.js';
import { TYPE_CODES, type IndexDb } from './schema.js';

const WARN = LEVELS.indexOf('warn');
const ERROR = LEVELS.indexOf('error');

/** The run's timeline from the index, or null when the index cannot give it (see above). */
export function timelineFromIndex(db: IndexDb, log: AgentLog, buckets = DEFAULT_TIMELINE_BUCKETS): RunTimeline | null {
  const agent = agentRowId(db, log.taskId, log.agentId);
  if (agent === null || !holdsWholeRun(db, agent, log)) return null;
  const span = db
    .prepare('SELECT min(min_ts) AS start, max(max_ts) AS end, sum(entries) AS entries, sum(bytes) AS bytes FROM timeline_seconds WHERE agent = ?')
    .get(agent) as { start: number | null; end: number | null; entries: number | null; bytes: number | null };
  if (span.start === null || span.end === null || !wholeSecondBuckets(span.start, span.end, buckets)) return null;
  const seqs = db.prepare('SELECT min(seq) AS first, max(seq) AS last FROM entries WHERE agent = ?').get(agent) as { first: number; last: number };
  const t: RunTimeline = {
    agentId: log.agentId,
    taskId: log.taskId,
    start: span.start,
    end: span.end,
    firstSeq: seqs.first,
    lastSeq: seqs.last,
    entries: span.entries ?? 0,
    bytes: span.bytes ?? 0,
    bucketMicros: 0,
    buckets: [],
    markers: [],
    resizes: [],
    gaps: [],
  };
  const bucketOf = layBuckets(t, buckets);
  const seconds = db.prepare('SELECT second, sum(entries) AS entries, sum(bytes) AS bytes FROM timeline_seconds WHERE agent = ? GROUP BY second').all(agent) as {
    second: number;
    entries: number;
    bytes: number;
  }[];
  for (const s of seconds) {
    const b = bucketOf(s.second * 1_000_000);
    b.entries += s.entries;
    b.bytes += s.bytes;
  }
  addMarkers(db, agent, t, bucketOf);
  addEvents(db, agent, t);
  return t;
}

/** Whether the index has read every file of the run, each to its end (the ones it read whole and saw unchanged). */
function holdsWholeRun(db: IndexDb, agent: number, log: AgentLog): boolean {
  const indexed = db.prepare('SELECT path, gz, size, mtime_ms, offset FROM files WHERE agent = ?').all(agent) as {
    path: string;
    gz: number;
    size: number;
    mtime_ms: number;
    offset: number;
  }[];
  const files = runFiles(log);
  if (indexed.length !== files.length) return false;
  const byPath = new Map(indexed.map((f) => [f.path, f]));
  for (const file of files) {
    const f = byPath.get(file);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return false;
    }
    // A plain file is read to its end when the checkpoint is at its size; a .gz when it was seen whole at this size.
    if (f === undefined || (f.gz ? f.size !== st.size || f.mtime_ms !== st.mtimeMs : f.offset !== st.size)) return false;
  }
  return true;
}

/** Error and warning markers (the first MAX_MARKERS of each) and every bucket's error and warning counts, from the screen lines. */
function addMarkers(db: IndexDb, agent: number, t: RunTimeline, bucketOf: ReturnType<typeof layBuckets>): void {
  const lines = db.prepare('SELECT id, seq, ts, level FROM lines WHERE agent = ? AND level >= 2 ORDER BY seq, n').all(agent) as {
    id: number;
    seq: number;
    ts: number;
    level: number;
  }[];
  const textOf = db.prepare('SELECT text FROM lines_fts WHERE rowid = ?').pluck();
  const errors: TimelineMarker[] = [];
  const warnings: TimelineMarker[] = [];
  for (const l of lines) {
    const isError = l.level >= ERROR;
    if (isError) bucketOf(l.ts).errors++;
    else if (l.level === WARN) bucketOf(l.ts).warnings++;
    const list = isError ? errors : warnings;
    if (list.length < MAX_MARKERS) list.push({ seq: l.seq, time: l.ts, level: LEVELS[l.level] as Level, text: markerText((textOf.get(l.id) as string | undefined) ?? '') });
  }
  t.markers = [...errors, ...warnings].sort((a, b) => a.seq - b.seq);
}

/** Resizes, gaps and the exit status, from the system entries' metadata the index keeps. */
function addEvents(db: IndexDb, agent: number, t: RunTimeline): void {
  const events = db.prepare('SELECT ev.seq, ev.ts, ev.event, ev.metadata, e.type FROM events ev JOIN entries e ON e.id = ev.id WHERE ev.agent = ? ORDER BY ev.seq').all(agent) as {
    seq: number;
    ts: number;
    event: string | null;
    metadata: string;
    type: number;
  }[];
  for (const ev of events) {
    const metadata = JSON.parse(ev.metadata) as Record<string, unknown>;
    const size = entrySize({ type: TYPE_CODES[ev.type] as EntryType, metadata });
    if (size !== null) t.resizes.push({ seq: ev.seq, time: ev.ts, ...size });
    if (metadata.gap !== undefined) t.gaps.push({ seq: ev.seq, time: ev.ts, reason: String(metadata.gap) });
    if (ev.event === 'terminated') t.exitStatus = typeof metadata.exit_status === 'number' ? metadata.exit_status : null;
  }
}
