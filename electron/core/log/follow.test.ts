import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serializeEntry, type LogEntry } from '../../../shared/entry.js';
import { LogFollower, type FileChange, type FollowOptions } from './follow.js';
import { tailEntries } from './tail.js';

let dir: string;
let followers: LogFollower[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-follow-'));
});
afterEach(() => {
  for (const f of followers) f.close();
  followers = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

function line(sequence: number, content = `line ${sequence}`, stamp = '2026-01-01T00:00:00.000001+00:00'): string {
  const e: LogEntry = { timestamp: stamp, agent_id: 'agent', type: 'stdout', sequence, content };
  return serializeEntry(e);
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a follower that records sequences, contents and changes. */
function follow(file: string, options: Partial<FollowOptions> = {}) {
  const seen: number[] = [];
  const contents: string[] = [];
  const changes: FileChange['kind'][] = [];
  const follower = new LogFollower(file, {
    onEntries: (entries) => {
      for (const e of entries) {
        seen.push(e.entry.sequence);
        contents.push(e.entry.content);
      }
    },
    onChange: (c) => changes.push(c.kind),
    ...options,
  });
  followers.push(follower);
  return { follower, seen, contents, changes };
}

for (const mode of ['fs.watch', 'polling'] as const) {
  describe(`LogFollower (${mode})`, () => {
    const opts: Partial<FollowOptions> = mode === 'polling' ? { pollOnly: true, pollIntervalMs: 20 } : { safetyStatMs: 60_000 };

    it('emits lines appended after the start, from the end by default', async () => {
      const file = path.join(dir, 'a_stream.jsonl');
      fs.writeFileSync(file, line(1) + line(2));
      const { seen } = follow(file, opts);
      fs.appendFileSync(file, line(3) + line(4));
      await waitFor('3 and 4', () => seen.length === 2);
      expect(seen).toEqual([3, 4]);
    });

    it('never emits half a line, and its offset does not pass it (D5)', async () => {
      const file = path.join(dir, 'a_stream.jsonl');
      fs.writeFileSync(file, line(1));
      const { follower, seen } = follow(file, { ...opts, from: 'start' });
      await waitFor('line 1', () => seen.length === 1);
      const whole = line(2);
      fs.appendFileSync(file, whole.slice(0, 25));
      // Let several wake-ups pass (watch events and polls) while the line is half written.
      const until = Date.now() + 300;
      while (Date.now() < until) {
        follower.check();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toEqual([1]);
      expect(follower.offset).toBe(Buffer.byteLength(line(1)));
      fs.appendFileSync(file, whole.slice(25));
      await waitFor('line 2', () => seen.length === 2);
      expect(seen).toEqual([1, 2]);
      expect(follower.offset).toBe(fs.statSync(file).size);
    });

    it('reads the rest of a renamed file, then the new file (rename-and-recreate rotation, D6)', async () => {
      const file = path.join(dir, 'a_stream.jsonl');
      fs.writeFileSync(file, line(1));
      const { seen, changes } = follow(file, { ...opts, from: 'start' });
      await waitFor('line 1', () => seen.length === 1);
      fs.appendFileSync(file, line(2));
      fs.renameSync(file, `${file}.20260101T000000000`);
      fs.writeFileSync(file, line(3, 'new file', '2026-01-01T00:00:01.000001+00:00'));
      fs.appendFileSync(file, line(4));
      await waitFor('lines 2-4', () => seen.length === 4);
      expect(seen).toEqual([1, 2, 3, 4]);
      expect(changes).toContain('replaced');
    });

    it('starts over when the file is truncated in place (copytruncate, D6)', async () => {
      const file = path.join(dir, 'a_stream.jsonl');
      fs.writeFileSync(file, line(1) + line(2) + line(3));
      const { seen, changes } = follow(file, { ...opts, from: 'start' });
      await waitFor('3 lines', () => seen.length === 3);
      fs.truncateSync(file, 0);
      fs.appendFileSync(file, line(4, 'after truncation', '2026-01-01T00:00:09.000001+00:00'));
      await waitFor('line 4', () => seen.length === 4);
      expect(seen).toEqual([1, 2, 3, 4]);
      expect(changes).toContain('truncated');
    });

    it('notices a copytruncate even when the file regrew past the offset (first line changed)', async () => {
      const file = path.join(dir, 'a_stream.jsonl');
      fs.writeFileSync(file, line(1));
      const { follower, seen, changes } = follow(file, { ...opts, from: 'start' });
      await waitFor('line 1', () => seen.length === 1);
      // Truncate and refill past the old offset before the follower looks again.
      const fd = fs.openSync(file, 'r+');
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, line(10, 'rewritten, and longer than before', '2026-01-02T00:00:00.000001+00:00') + line(11), 0);
      fs.closeSync(fd);
      follower.check();
      await waitFor('10 and 11', () => seen.length === 3);
      expect(seen).toEqual([1, 10, 11]);
      expect(changes).toEqual(['truncated']);
    });

    it('waits when the file is deleted and reads it from the start once recreated (D6)', async () => {
      const file = path.join(dir, 'a_stream.jsonl');
      fs.writeFileSync(file, line(1));
      const { seen, changes } = follow(file, { ...opts, from: 'start' });
      await waitFor('line 1', () => seen.length === 1);
      fs.appendFileSync(file, line(2));
      fs.unlinkSync(file);
      await waitFor('the deletion', () => changes.includes('deleted'));
      expect(seen).toEqual([1, 2]);
      fs.writeFileSync(file, line(1, 'recreated', '2026-01-03T00:00:00.000001+00:00'));
      await waitFor('the recreated line', () => seen.length === 3);
      expect(changes).toEqual(['deleted', 'appeared']);
    });

    it('follows a symlinked path, including when the link is retargeted (D6)', async () => {
      const real1 = path.join(dir, 'real1.jsonl');
      const real2 = path.join(dir, 'sub', 'real2.jsonl');
      fs.mkdirSync(path.dirname(real2));
      fs.writeFileSync(real1, line(1));
      const link = path.join(dir, 'link_stream.jsonl');
      fs.symlinkSync(real1, link);
      const { seen } = follow(link, { ...opts, from: 'start' });
      await waitFor('line 1', () => seen.length === 1);
      fs.appendFileSync(real1, line(2));
      await waitFor('line 2', () => seen.length === 2);
      fs.writeFileSync(real2, line(3, 'other target', '2026-01-04T00:00:00.000001+00:00'));
      fs.unlinkSync(link);
      fs.symlinkSync(real2, link);
      await waitFor('line 3', () => seen.length === 3);
      fs.appendFileSync(real2, line(4));
      await waitFor('line 4', () => seen.length === 4);
      expect(seen).toEqual([1, 2, 3, 4]);
    });

    it('follows a file that does not exist yet', async () => {
      const file = path.join(dir, 'later', 'a_stream.jsonl');
      const { seen } = follow(file, { ...opts, pollIntervalMs: 20 });
      fs.mkdirSync(path.dirname(file));
      fs.writeFileSync(file, line(1) + line(2));
      await waitFor('both lines', () => seen.length === 2);
      expect(seen).toEqual([1, 2]);
    });
  });
}

describe('LogFollower resuming from a saved position', () => {
  it('continues a tail exactly where it ended', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    fs.writeFileSync(file, line(1) + line(2) + line(3) + line(4).slice(0, 10));
    const tail = await tailEntries(file, { n: 2 });
    expect(tail.entries.map((e) => e.entry.sequence)).toEqual([2, 3]);
    const { seen } = follow(file, { from: { offset: tail.end, identity: tail.identity } });
    fs.appendFileSync(file, line(4).slice(10) + line(5));
    await waitFor('4 and 5', () => seen.length === 2);
    expect(seen).toEqual([4, 5]);
  });

  it('starts from 0 when the inode was reused by a different file (D6)', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    fs.writeFileSync(file, line(1, 'old') + line(2, 'old'));
    const tail = await tailEntries(file, { n: 1 });
    // Delete it and create files until one gets the same inode number back (ext4 reuses them).
    fs.unlinkSync(file);
    let reused = false;
    for (let i = 0; i < 50 && !reused; i++) {
      fs.writeFileSync(file, line(1, `new ${i}`, '2026-02-01T00:00:00.000001+00:00') + line(2, 'new') + line(3, 'new'));
      reused = fs.statSync(file).ino === tail.identity!.ino;
      if (!reused) fs.unlinkSync(file);
    }
    if (!reused) {
      // This filesystem does not hand inode numbers back: same file content check still applies.
      fs.writeFileSync(file, line(1, 'new', '2026-02-01T00:00:00.000001+00:00') + line(2, 'new') + line(3, 'new'));
    }
    const { seen, contents, changes } = follow(file, { from: { offset: tail.end, identity: tail.identity } });
    await waitFor('the new file', () => seen.length === 3);
    expect(seen).toEqual([1, 2, 3]);
    expect(contents.every((c) => c.startsWith('new'))).toBe(true);
    expect(changes).toEqual(['replaced']);
  });

  it('holds a half line back for 5 s of real time, then emits it whole (D5, realistic)', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    fs.writeFileSync(file, line(1));
    const { follower, seen, contents } = follow(file, { from: 'start', safetyStatMs: 200 });
    await waitFor('line 1', () => seen.length === 1);
    const whole = line(2, 'x'.repeat(1000));
    fs.appendFileSync(file, whole.slice(0, 500));
    await new Promise((r) => setTimeout(r, 5000)); // the scenario itself is "5 s pass"
    expect(seen).toEqual([1]);
    expect(follower.offset).toBe(Buffer.byteLength(line(1)));
    fs.appendFileSync(file, whole.slice(500));
    await waitFor('line 2', () => seen.length === 2);
    expect(contents[1]).toBe('x'.repeat(1000));
  }, 20_000);

  it('resumes after a sequence by reading backwards', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    let text = '';
    for (let i = 1; i <= 100; i++) text += line(i);
    fs.writeFileSync(file, text);
    const { seen } = follow(file, { afterSequence: 97 });
    await waitFor('98-100', () => seen.length === 3);
    expect(seen).toEqual([98, 99, 100]);
  });

  it('stops emitting once closed', async () => {
    const file = path.join(dir, 'a_stream.jsonl');
    fs.writeFileSync(file, line(1));
    const { follower, seen } = follow(file, { from: 'start' });
    await waitFor('line 1', () => seen.length === 1);
    follower.close();
    fs.appendFileSync(file, line(2));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([1]);
  });
});
