// The follower's batches, into an in-memory sink (the PostgreSQL and OTLP sinks have their own
// tests): run summaries scan the whole run, so they ride only on the batches that need them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Indexer } from '../index/indexer.js';
import { runSummaries } from '../index/runs.js';
import { ensureLogsDir, streamPath } from '../log/paths.js';
import { LogWriter } from '../log/writer.js';
import { LocalLogFollower, type AgentKey, type LogBatch, type LogSink, type ShipPosition } from './follow.js';

const TASK = 'TASK-20261201-000000-0a1b2c3d';

class MemorySink implements LogSink {
  readonly batches: LogBatch[] = [];
  async position(_agent: AgentKey): Promise<ShipPosition> {
    return this.batches.at(-1)?.position ?? { sequence: 0, line: 0 };
  }
  async write(batch: LogBatch): Promise<void> {
    this.batches.push(batch);
  }
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

function writeLog(entries: number): { root: string; writer: LogWriter } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-follow-'));
  roots.push(root);
  ensureLogsDir(root, TASK);
  const writer = new LogWriter(streamPath(root, TASK, 'worker'), { agentId: 'worker' });
  writer.append({ type: 'system', content: '[loupe] started', metadata: { event: 'started', cols: 80, rows: 24, command: 'job' } });
  for (let i = 0; i < entries; i++) writer.append({ type: 'stdout', content: `line ${i}\r\n` });
  writer.flush();
  return { root, writer };
}

function localRuns(root: string) {
  const indexer = new Indexer(root);
  try {
    indexer.indexPending();
    return runSummaries(indexer.db, { agentId: 'worker', taskId: TASK });
  } finally {
    indexer.dispose();
  }
}

describe('run summaries in shipped batches', () => {
  it('ride on the first batch and the one that catches up, not on every batch, and end equal to the local ones', async () => {
    const { root, writer } = writeLog(2000);
    writer.closeSync();
    const sink = new MemorySink();
    const follower = new LocalLogFollower([root], sink, { batchEntries: 100 });
    try {
      await follower.runOnce();
    } finally {
      follower.dispose();
    }
    const withEntries = sink.batches.filter((b) => b.entries.length > 0);
    expect(withEntries.length).toBeGreaterThanOrEqual(20);
    const withRuns = sink.batches.filter((b) => b.runs.length > 0);
    expect(withRuns.length).toBeLessThanOrEqual(3);
    expect(withRuns.at(-1)!.runs).toEqual(localRuns(root));
    expect(withRuns.at(-1)!.runs[0]!.entries).toBe(2001);
  });

  it('are sent again while following once new output makes them stale, and a run that ends sends them at once', async () => {
    const { root, writer } = writeLog(10);
    const sink = new MemorySink();
    const follower = new LocalLogFollower([root], sink, { pollMs: 100 });
    const stop = new AbortController();
    const following = follower.follow(stop.signal);
    const lastRuns = () => sink.batches.filter((b) => b.runs.length > 0).at(-1)?.runs[0];
    try {
      await expect.poll(() => lastRuns()?.entries, { timeout: 10_000 }).toBe(11);
      for (let i = 0; i < 5; i++) writer.append({ type: 'stdout', content: `more ${i}\r\n` });
      writer.flush();
      await expect.poll(() => sink.batches.at(-1)?.position.sequence, { timeout: 10_000 }).toBe(16);
      // Counts catch up within RUNS_EVERY_MS (5 s) of the last summaries.
      await expect.poll(() => lastRuns()?.entries, { timeout: 10_000, interval: 200 }).toBe(16);
      writer.append({ type: 'system', content: '[loupe] terminated', metadata: { event: 'terminated', exit_status: 3 } });
      writer.flush();
      // The run's end changes its status: no waiting for the interval.
      await expect.poll(() => lastRuns()?.status, { timeout: 3_000, interval: 50 }).toBe('error');
    } finally {
      stop.abort();
      await following;
      follower.dispose();
      writer.closeSync();
    }
  });
});
