import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../shared/entry.js';
import type { AgentNotice, LiveBatch } from '../../../shared/ipc.js';
import { LogWriter } from '../log/writer.js';
import { watchedFileCount } from './fileWatch.js';
import { LiveFeed, MAX_SUBSCRIPTIONS_PER_CLIENT } from './liveFeed.js';
import { cursorDescriptorCount, LogCursor } from './logCursor.js';

const agent = { root: '/r', taskId: 'TASK-20260101-120000-0a1b2c3d', agentId: 'a1' };
let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-live-'));
  file = path.join(dir, 'a1_stream.jsonl');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeEntries(n: number, start = 1): void {
  const w = new LogWriter(file, { agentId: 'a1' });
  for (let i = 0; i < n; i++) w.append({ type: 'stdout', content: `line ${start + i}` });
  w.closeSync();
}

/** Descriptors of this process open on `file` now (from /proc). */
function descriptorsOn(file: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

async function until<T>(what: string, get: () => T | undefined | false, deadlineMs = 5000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('LogCursor', () => {
  it('starts at the requested sequence and returns each entry once', () => {
    writeEntries(10);
    const c = new LogCursor(file, 4);
    const first = c.read(1 << 20);
    expect(first.entries.map((e) => e.sequence)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(c.read(1 << 20).entries).toEqual([]);
    c.close();
  });

  it('waits for a half-written last line and returns it once complete', () => {
    writeEntries(2);
    const line = fs.readFileSync(file, 'utf8').split('\n')[1].replace('"sequence":2', '"sequence":3');
    fs.appendFileSync(file, line.slice(0, 20));
    const c = new LogCursor(file, 3);
    expect(c.read(1 << 20).entries).toEqual([]);
    fs.appendFileSync(file, line.slice(20) + '\n');
    expect(c.read(1 << 20).entries.map((e) => e.sequence)).toEqual([3]);
    c.close();
  });

  it('drains the old file, then follows the new one after a rotation', () => {
    writeEntries(3);
    const c = new LogCursor(file, 1);
    expect(c.read(1 << 20).entries).toHaveLength(3);
    fs.appendFileSync(file, fs.readFileSync(file, 'utf8').split('\n')[0].replace('"sequence":1', '"sequence":4') + '\n');
    fs.renameSync(file, file + '.20260101T000000');
    writeEntries(2, 5); // the writer continues the sequence from the rotated file: 5, 6
    expect(c.read(1 << 20).entries.map((e) => e.sequence)).toEqual([4, 5, 6]);
    c.close();
  });

  it('never repeats a sequence after the file is truncated and rewritten', () => {
    writeEntries(3);
    const c = new LogCursor(file, 1);
    expect(c.read(1 << 20).entries).toHaveLength(3);
    const text = fs.readFileSync(file, 'utf8');
    fs.truncateSync(file, 0);
    fs.writeFileSync(file, text.split('\n')[0] + '\n' + text.split('\n')[0].replace('"sequence":1', '"sequence":4') + '\n');
    expect(c.read(1 << 20).entries.map((e) => e.sequence)).toEqual([4]);
    c.close();
  });

  it('skips corrupt lines, counts them, and keeps going', () => {
    writeEntries(1);
    fs.appendFileSync(file, '{not json\n');
    writeEntries(1, 2);
    const c = new LogCursor(file, 1);
    expect(c.read(1 << 20).entries.map((e) => e.sequence)).toEqual([1, 2]);
    expect(c.corruptLines).toBe(1);
    c.close();
  });

  it('stops at the byte limit and says more is waiting', () => {
    writeEntries(100);
    const c = new LogCursor(file, 1);
    const r = c.read(500);
    expect(r.more).toBe(true);
    expect(r.entries.length).toBeGreaterThan(0);
    expect(r.entries.length).toBeLessThan(100);
    let total = r.entries.length;
    for (let x = c.read(500); x.entries.length > 0; x = c.read(500)) total += x.entries.length;
    expect(total).toBe(100);
    c.close();
  });
});

describe('LiveFeed', () => {
  let feed: LiveFeed | null = null;
  afterEach(() => feed?.dispose());

  function collect(options: { windowBytes?: number } = {}) {
    const pushes: LiveBatch[][] = [];
    const notices: AgentNotice[] = [];
    feed = new LiveFeed({ push: (b) => pushes.push(b), notice: (n) => notices.push(n), ...options });
    const entries = (): LogEntry[] => pushes.flat().flatMap((b) => b.entries);
    return { pushes, notices, entries, feed };
  }

  it('W6: caps subscriptions over all clients, and frees the cap when a client leaves', () => {
    writeEntries(1);
    const clients = [0, 1].map(() => new LiveFeed({ push: () => {} }));
    try {
      for (const c of clients) for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_CLIENT; i++) c.subscribe(agent, file, 1);
      const third = new LiveFeed({ push: () => {} });
      expect(() => third.subscribe(agent, file, 1)).toThrow(/too many live subscriptions \(512, over all its clients\)/);
      clients[0].dispose();
      expect(() => third.subscribe(agent, file, 1)).not.toThrow();
      third.dispose();
    } finally {
      for (const c of clients) c.dispose();
    }
  });

  it('pushes existing entries from the sequence asked for, then new ones as they are written', async () => {
    writeEntries(5);
    const { entries, feed } = collect();
    const sub = feed.subscribe(agent, file, 3);
    expect(sub.lastSequence).toBe(5);
    await until('history', () => entries().length === 3);
    writeEntries(2, 6);
    await until('live entries', () => entries().length === 5);
    expect(entries().map((e) => e.sequence)).toEqual([3, 4, 5, 6, 7]);
  });

  it('batches a burst into few pushes, at most one per frame', async () => {
    writeEntries(1);
    const { pushes, entries, feed } = collect();
    feed.subscribe(agent, file, 1);
    const w = new LogWriter(file, { agentId: 'a1', flushDelayMs: 1 });
    const started = performance.now();
    for (let i = 0; i < 200; i++) {
      w.append({ type: 'stdout', content: `burst ${i}` });
      if (i % 10 === 0) w.flush();
    }
    w.closeSync();
    await until('all entries', () => entries().length === 201);
    const elapsed = performance.now() - started;
    // Every push but the first is at least one frame after the previous one.
    expect(pushes.length).toBeLessThanOrEqual(Math.ceil(elapsed / 16) + 2);
    expect(entries().map((e) => e.sequence)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
  });

  it('stops reading for a client that does not ack, and catches up from the file when it does', async () => {
    const { entries, feed } = collect({ windowBytes: 4096 });
    writeEntries(500);
    const sub = feed.subscribe(agent, file, 1);
    await until('first window', () => entries().length > 0);
    // Give the feed time to push more if it (wrongly) ignored the window.
    await new Promise((r) => setTimeout(r, 100));
    const held = entries().length;
    expect(held).toBeLessThan(500);
    expect(feed.unackedBytes).toBeLessThanOrEqual(4096 + 512 * 1024);
    // Ack everything received, repeatedly, until caught up.
    await until('catch up', () => {
      const got = entries();
      if (got.length > 0) feed.ack(sub.subscriptionId, got[got.length - 1].sequence);
      return got.length === 500;
    });
    expect(entries().map((e) => e.sequence)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  });

  it('sends a notice when a subscribed agent exits, but not for history', async () => {
    const w = new LogWriter(file, { agentId: 'a1' });
    w.append({ type: 'system', content: 'old run ended', metadata: { event: 'terminated', exit_status: 0 } });
    w.closeSync();
    const { entries, notices, feed } = collect();
    feed.subscribe(agent, file, 1);
    await until('history', () => entries().length === 1);
    const w2 = new LogWriter(file, { agentId: 'a1' });
    w2.append({ type: 'system', content: 'exited', metadata: { event: 'terminated', exit_status: 1 } });
    w2.closeSync();
    await until('notice', () => notices.length === 1);
    expect(notices[0]).toMatchObject({ kind: 'exited', exitStatus: 1, agent });
  });

  it("passes on a subscribed agent's new error lines: the first of a burst, with its text, and none for history or other agents", async () => {
    writeEntries(5);
    const { notices, feed } = collect();
    feed.subscribe(agent, file, 1);
    const line = { root: agent.root, taskId: agent.taskId, time: Date.now() * 1000 };
    feed.errorLines([
      { ...line, agentId: 'a1', sequence: 3, text: 'Error: from before the subscription' },
      { ...line, agentId: 'a2', sequence: 9, text: 'Error: not subscribed' },
      { ...line, agentId: 'a1', sequence: 6, text: '\x1b[31mTraceback (most recent call last):\x1b[0m\nmore' },
      { ...line, agentId: 'a1', sequence: 7, text: 'Error: in the same burst' },
    ]);
    expect(notices).toEqual([
      { agent, kind: 'error', exitStatus: null, message: 'a1: Traceback (most recent call last):' },
    ]);
  });

  it('W6: 500 subscriptions to one log, from four clients, hold one descriptor and one watch', async () => {
    writeEntries(3);
    const fdsBefore = descriptorsOn(file);
    const clients = [0, 1, 2, 3].map(() => new LiveFeed({ push: () => {} }));
    try {
      for (const c of clients) for (let i = 0; i < 125; i++) c.subscribe(agent, file, 1);
      expect(descriptorsOn(file) - fdsBefore).toBe(1);
      expect(cursorDescriptorCount()).toBe(1);
      expect(watchedFileCount()).toBe(1);
      // A rotation: the old file stays open until every cursor has drained it, then one again.
      await new Promise((r) => setTimeout(r, 50));
      fs.renameSync(file, file + '.1');
      writeEntries(2, 4);
      const more = new LiveFeed({ push: () => {} });
      more.subscribe(agent, file, 1);
      expect(descriptorsOn(file)).toBe(1);
      more.dispose();
    } finally {
      for (const c of clients) c.dispose();
    }
    expect(cursorDescriptorCount()).toBe(0);
    expect(watchedFileCount()).toBe(0);
  });

  it('stops pushing after unsubscribe and after dispose', async () => {
    writeEntries(1);
    const { entries, feed } = collect();
    const sub = feed.subscribe(agent, file, 1);
    await until('first entry', () => entries().length === 1);
    feed.unsubscribe(sub.subscriptionId);
    expect(feed.size).toBe(0);
    writeEntries(3, 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(entries()).toHaveLength(1);
    expect(() => feed.ack(sub.subscriptionId, 1)).toThrow(/no live subscription/);
  });
});
