import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureLogsDir, newTaskId, streamPath, type AgentLog } from '../log/paths.js';
import { LogWriter } from '../log/writer.js';
import { replayTimeline } from '../api/replayChannels.js';
import { buildTimeline } from '../replay/timeline.js';
import { Indexer } from './indexer.js';
import { timelineFromIndex } from './timelineIndex.js';

let root: string;
let indexer: Indexer | null = null;
const taskId = newTaskId(new Date(Date.UTC(2026, 10, 1, 12)));
/** A month before the test runs, so every line on the screen has long settled. */
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0, 250) * 1000;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-timeline-index-'));
  ensureLogsDir(root, taskId);
});
afterEach(() => {
  indexer?.dispose();
  indexer = null;
  fs.rmSync(root, { recursive: true, force: true });
});

function logOf(agentId: string): AgentLog {
  return { root, taskId, agentId, file: streamPath(root, taskId, agentId) };
}

/**
 * A 10-minute run drawn like an agent: plain lines, a progress line redrawn in place, errors and
 * warnings (classified from the text and given by level), resizes, a gap and the exit.
 */
async function writeRun(log: AgentLog, { from = 0, seconds = 600, exit = true } = {}): Promise<void> {
  const w = new LogWriter(log.file, { agentId: log.agentId });
  const at = (s: number) => T0 + Math.round(s * 1_000_000);
  if (from === 0) w.append({ type: 'system', content: 'started', metadata: { event: 'started', cols: 100, rows: 30 }, timeMicros: at(0) });
  for (let k = 0; k * 0.7 < seconds; k++) {
    const s = from + k * 0.7;
    const i = Math.round(s * 10);
    w.append({ type: 'stdout', content: `step ${i}: compiling module ${i % 17}\r\n`, timeMicros: at(s) });
    w.append({ type: 'stdout', content: `\r[${'#'.repeat(i % 20)}${' '.repeat(20 - (i % 20))}] ${i % 100}%`, timeMicros: at(s + 0.1) });
    if (k % 11 === 0) w.append({ type: 'stderr', content: `\r\nError: module ${i} failed to build\r\n`, timeMicros: at(s + 0.2) });
    if (k % 13 === 5) w.append({ type: 'stdout', content: `\r\nwarning: unused variable x${i}\r\n`, metadata: { level: 'warn' }, timeMicros: at(s + 0.3) });
    if (k % 300 === 299) w.append({ type: 'system', content: 'resized', metadata: { event: 'resized', cols: 80 + (i % 40), rows: 24 }, timeMicros: at(s + 0.4) });
  }
  if (from === 0) w.append({ type: 'system', content: '[loupe] capture lost', metadata: { level: 'warn', gap: 'reader exited' }, timeMicros: at(seconds / 2) });
  if (exit) w.append({ type: 'system', content: 'exited', metadata: { event: 'terminated', exit_status: 3 }, timeMicros: at(from + seconds + 1) });
  await w.close();
}

function indexRoot(): Indexer {
  indexer?.dispose();
  indexer = new Indexer(root);
  indexer.indexPending();
  return indexer;
}

describe('a replay timeline from the index', () => {
  it('is the timeline that reading and playing the run gives', async () => {
    const log = logOf('builder');
    await writeRun(log);
    const { db } = indexRoot();
    const built = await buildTimeline(log, 200);
    const fromIndex = timelineFromIndex(db, log, 200);
    expect(built.markers.filter((m) => m.level === 'error').length).toBeGreaterThan(10);
    expect(built.markers.filter((m) => m.level === 'warn').length).toBeGreaterThan(10);
    expect(built.resizes.length).toBeGreaterThan(2);
    expect(built.bucketMicros % 1_000_000).toBe(0);
    expect(fromIndex).toEqual(built);
  });

  it('holds across rotated files, one of them gzipped', async () => {
    const log = logOf('rotating');
    await writeRun(log, { seconds: 300, exit: false });
    fs.renameSync(log.file, `${log.file}.20261101T120500`);
    await writeRun(log, { from: 300, seconds: 150, exit: false });
    const second = `${log.file}.20261101T120730`;
    fs.writeFileSync(`${second}.gz`, zlib.gzipSync(fs.readFileSync(log.file)));
    fs.rmSync(log.file);
    await writeRun(log, { from: 450, seconds: 200 });
    const { db } = indexRoot();
    const built = await buildTimeline(log, 120);
    expect(built.firstSeq).toBe(1);
    expect(timelineFromIndex(db, log, 120)).toEqual(built);
  });

  it('gives way to reading the run when the index does not hold all of it, or the run is short', async () => {
    const log = logOf('growing');
    await writeRun(log, { exit: false });
    const { db } = indexRoot();
    expect(timelineFromIndex(db, log, 200)).not.toBeNull();
    const w = new LogWriter(log.file, { agentId: log.agentId });
    w.append({ type: 'stdout', content: 'one more line\r\n', timeMicros: T0 + 700_000_000 });
    await w.close();
    expect(timelineFromIndex(db, log, 200)).toBeNull();
    indexRoot();
    expect(timelineFromIndex(indexer!.db, log, 200)).toEqual(await buildTimeline(log, 200));
    // 200 buckets over a 30 s run are narrower than the index's seconds.
    const short = logOf('short');
    await writeRun(short, { seconds: 30 });
    indexRoot();
    expect(timelineFromIndex(indexer!.db, short, 200)).toBeNull();
  });

  it('drops the seconds of a file that was truncated and written again', async () => {
    const log = logOf('truncated');
    await writeRun(log);
    indexRoot();
    fs.truncateSync(log.file, 0);
    await writeRun(log, { seconds: 400 });
    const { db } = indexRoot();
    expect(timelineFromIndex(db, log, 200)).toEqual(await buildTimeline(log, 200));
  });

  it('is what replay:timeline answers when the root index is open', async () => {
    const log = logOf('served');
    await writeRun(log);
    const { db } = indexRoot();
    const built = await buildTimeline(log, 200);
    // Changed sums in the index show in the answer: it came from there, not from the log.
    db.prepare('UPDATE timeline_seconds SET bytes = bytes + 1').run();
    const seconds = (db.prepare('SELECT count(*) AS n FROM timeline_seconds').get() as { n: number }).n;
    const served = await replayTimeline(log, 200, db);
    expect(served.bytes).toBe(built.bytes + seconds);
  });
});
