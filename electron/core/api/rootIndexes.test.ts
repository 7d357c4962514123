import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureLogsDir, newTaskId, streamPath } from '../log/paths.js';
import { LogWriter } from '../log/writer.js';
import type { RootErrorLine } from '../index/indexThread.js';
import { waitFor } from '../capture/test-support.js';
import { KEYFRAME_INTERVAL_BYTES, KeyframeStore } from '../replay/keyframes.js';
import { RootIndexes } from './rootIndexes.js';

let root: string;
let indexes: RootIndexes | null = null;
const taskId = newTaskId(new Date(Date.UTC(2026, 11, 1, 12)));

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-rootindexes-'));
  ensureLogsDir(root, taskId);
});
afterEach(async () => {
  await indexes?.dispose();
  indexes = null;
  fs.rmSync(root, { recursive: true, force: true });
});

function writer(agentId: string): LogWriter {
  return new LogWriter(streamPath(root, taskId, agentId), { agentId });
}


describe('RootIndexes with watch (the app, loupe serve)', () => {
  it('indexes in a worker thread: the serving thread keeps ticking while a 10 MB backlog is indexed', async () => {
    const w = writer('big');
    const line = 'x'.repeat(180);
    for (let i = 0; i < 50_000; i++) {
      w.append({ type: 'stdout', content: `${i} ${line}\r\n` });
      if (i % 5000 === 4999) w.flush();
    }
    w.append({ type: 'system', content: 'exited', metadata: { event: 'terminated', exit_status: 0 } });
    w.closeSync();
    indexes = new RootIndexes([root], { watch: true });
    // In this thread, indexing 10 MB would hold the event loop for seconds.
    let last = performance.now();
    let longestGap = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 10);
    try {
      const result = await indexes.search({ text: '49999 xxx' });
      expect(result.total).toBe(1);
    } finally {
      clearInterval(tick);
    }
    expect(longestGap).toBeLessThan(1000);
  }, 120_000);

  it('makes the replay keyframes of the output it indexes, so a first seek finds them', async () => {
    const w = writer('long');
    const line = 'y'.repeat(100);
    for (let i = 0; i < (3 * KEYFRAME_INTERVAL_BYTES) / 100; i++) w.append({ type: 'stdout', content: `${i} \u001b[32m${line}\u001b[0m\r\n` });
    w.closeSync();
    indexes = new RootIndexes([root], { watch: true });
    expect((await indexes.search({ text: 'yyy' })).total).toBeGreaterThan(0);
    const store = () => KeyframeStore.forLog({ root, taskId, agentId: 'long', file: streamPath(root, taskId, 'long') });
    await waitFor(() => store().list().length >= 2, 60_000, 'keyframes made by the index worker');
  }, 120_000);

  it('reports new error lines of live agents, but not the ones already there when it started', async () => {
    const old = writer('a1');
    old.append({ type: 'stderr', content: 'Error: from an earlier run\r\n' });
    old.closeSync();
    const heard: RootErrorLine[] = [];
    indexes = new RootIndexes([root], { watch: true, onErrorLines: (lines) => heard.push(...lines) });
    await indexes.stats({});
    const w = writer('a1');
    w.append({ type: 'stdout', content: 'compiling\r\n' });
    w.append({ type: 'stderr', content: 'Error: cannot find module "left-pad"\r\n' });
    w.append({ type: 'stdout', content: 'next\r\n' });
    w.closeSync();
    await waitFor(() => heard.length > 0, 20_000, 'the error line');
    expect(heard.map((l) => [l.root, l.taskId, l.agentId, l.text])).toEqual([[path.resolve(root), taskId, 'a1', 'Error: cannot find module "left-pad"']]);
  }, 60_000);

  it('answers queries after its worker dies, with a new one', async () => {
    const w = writer('a1');
    w.append({ type: 'stdout', content: 'hello world\r\n' });
    w.append({ type: 'system', content: 'exited', metadata: { event: 'terminated', exit_status: 0 } });
    w.closeSync();
    indexes = new RootIndexes([root], { watch: true });
    expect((await indexes.search({ text: 'hello' })).total).toBe(1);
    const thread = (indexes as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread;
    await thread.worker.terminate();
    await new Promise((r) => setTimeout(r, 50));
    const after = await indexes.search({ text: 'hello' });
    expect(after.total).toBe(1);
  }, 60_000);
});
