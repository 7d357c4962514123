import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatTimestamp, parseEntryLine, serializeEntry, type LogEntry } from '../../../shared/entry.js';
import { gzipFile } from '../log/writer.js';
import { searchIndex } from '../search/query.js';
import { Indexer, rebuildIndex } from './indexer.js';
import { indexPath } from './schema.js';

const TASK = 'TASK-20260101-120000-0a1b2c3d';
const BASE_US = Date.UTC(2026, 0, 1, 12) * 1000;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let root: string;
let logs: string;
const open: Indexer[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-index-'));
  logs = path.join(root, '.agent-workspace', TASK, 'logs');
  fs.mkdirSync(logs, { recursive: true });
});

afterEach(() => {
  for (const ix of open.splice(0)) ix.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

function indexer(options: ConstructorParameters<typeof Indexer>[1] = {}): Indexer {
  const ix = new Indexer(root, options);
  open.push(ix);
  return ix;
}

function entry(agent: string, seq: number, content = `line ${seq} of ${agent}`, extra: Partial<LogEntry> = {}): LogEntry {
  return { timestamp: formatTimestamp(BASE_US + seq * 1000), agent_id: agent, type: 'stdout', sequence: seq, content, ...extra };
}

function lines(agent: string, from: number, to: number, make = (seq: number) => entry(agent, seq)): string {
  let out = '';
  for (let seq = from; seq <= to; seq++) out += serializeEntry(make(seq));
  return out;
}

function logFile(agent: string): string {
  return path.join(logs, `${agent}_stream.jsonl`);
}

/** Every indexed (agent, sequence), with how often each appears. */
function indexedSequences(ix: Indexer, agent: string): number[] {
  return (
    ix.db
      .prepare('SELECT e.seq FROM entries e JOIN agents a ON a.id = e.agent WHERE a.agent_id = ? ORDER BY e.seq')
      .all(agent) as { seq: number }[]
  ).map((r) => r.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function ftsCount(ix: Indexer): number {
  return (ix.db.prepare('SELECT count(*) AS n FROM lines_fts').get() as { n: number }).n;
}

describe('Indexer', () => {
  it('gives entries that share a microsecond distinct ids, in sequence order per agent, across batches', () => {
    // Three agents whose 300 lines each all carry the same two timestamps: every id collides.
    const sameTime = (agent: string) => (seq: number) => entry(agent, seq, `same time ${seq} of ${agent}`, { timestamp: formatTimestamp(BASE_US + (seq > 150 ? 1 : 0)) });
    for (const agent of ['a1', 'a2', 'a3']) fs.writeFileSync(logFile(agent), lines(agent, 1, 300, sameTime(agent)));
    const ix = indexer({ batchBytes: 4096 });
    expect(ix.indexPending().entries).toBe(900);
    const rows = ix.db.prepare('SELECT id, agent, seq FROM entries ORDER BY id').all() as { id: number; agent: number; seq: number }[];
    expect(new Set(rows.map((r) => r.id)).size).toBe(900);
    for (const agent of new Set(rows.map((r) => r.agent))) {
      const seqs = rows.filter((r) => r.agent === agent).map((r) => r.seq);
      expect(seqs).toEqual(range(1, 300));
    }
    expect(ftsCount(ix)).toBe(900);
    expect(searchIndex(ix.db, { text: 'same time 7 of a2' }).hits.map((h) => h.sequence)).toEqual([7]);
  });

  it('two indexers of one root never record a screen line twice when one of them settles it', async () => {
    // Lines just old enough that the first pass leaves them on the screen and a pass a moment later settles them.
    const stamp = Date.now() * 1000 - 4_600_000;
    fs.writeFileSync(logFile('a1'), lines('a1', 1, 3, (seq) => entry('a1', seq, `line ${seq}\r`, { timestamp: formatTimestamp(stamp + seq) })));
    const first = indexer();
    const second = indexer();
    first.indexPending();
    const count = () => (first.db.prepare('SELECT count(*) AS n FROM lines').get() as { n: number }).n;
    expect(count()).toBe(0);
    await new Promise((r) => setTimeout(r, 1000)); // the lines stand still past the settle time
    second.indexPending();
    expect(count()).toBe(3);
    // New output reaches the first indexer, whose maker from before is out of date: the run's
    // end must not make the settled lines final a second time.
    fs.appendFileSync(logFile('a1'), serializeEntry(entry('a1', 4, 'terminated', { type: 'system', timestamp: formatTimestamp(stamp + 4), metadata: { event: 'terminated', exit_status: 0 } })));
    first.indexPending();
    expect(count()).toBe(4); // the three lines, and the system entry's own line
  });

  it('merges the FTS segments into one after a bulk pass, and not after a small one', () => {
    const segments = (ix: Indexer) => (ix.db.prepare('SELECT count(DISTINCT segid) AS n FROM lines_fts_idx').get() as { n: number }).n;
    fs.writeFileSync(logFile('a1'), lines('a1', 1, 2000));
    const ix = indexer({ batchBytes: 2048, mergeAfterBytes: 64 * 1024 }); // a segment per small batch
    ix.indexPending();
    expect(segments(ix)).toBe(1);
    fs.appendFileSync(logFile('a1'), lines('a1', 2001, 2100)); // far less than half of what is indexed
    ix.indexPending();
    expect(segments(ix)).toBeGreaterThan(1);
    expect(() => ix.db.prepare("INSERT INTO lines_fts (lines_fts) VALUES ('integrity-check')").run()).not.toThrow();
    expect(searchIndex(ix.db, { text: 'line 1999 of a1' }).hits.map((h) => h.sequence)).toEqual([1999]);
    expect(searchIndex(ix.db, { text: 'line 2050 of a1' }).hits.map((h) => h.sequence)).toEqual([2050]);
  });

  it('indexes complete lines only and picks up a torn tail once it is complete', () => {
    const full = lines('a1', 1, 3) + serializeEntry(entry('a1', 4));
    fs.writeFileSync(logFile('a1'), full.slice(0, full.length - 20));
    const ix = indexer();
    expect(ix.indexPending().entries).toBe(3);
    expect(indexedSequences(ix, 'a1')).toEqual([1, 2, 3]);
    fs.writeFileSync(logFile('a1'), full);
    expect(ix.indexPending().entries).toBe(1);
    expect(indexedSequences(ix, 'a1')).toEqual([1, 2, 3, 4]);
    expect(ix.indexPending().entries).toBe(0);
  });

  it('D3: an indexer killed between reading and committing leaves no duplicates and no gaps after a restart', async () => {
    const total = 20_000;
    fs.writeFileSync(logFile('a1'), lines('a1', 1, total, (s) => entry('a1', s, `payload ${s} `.padEnd(200, 'x'))));
    const script = `
      const { Indexer } = await import(${JSON.stringify(path.join(repo, 'dist/electron/core/index/indexer.js'))});
      const ix = new Indexer(${JSON.stringify(root)}, { batchBytes: 64 * 1024, onProgress: () => process.stdout.write('.') });
      ix.indexPending();
      process.stdout.write('done');
    `;
    for (let attempt = 0; attempt < 3; attempt++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      // Kill at a different point each time: after 1, 5 or 20 committed batches, while the next one is in flight.
      const killAfter = [1, 5, 20][attempt];
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.length >= killAfter && !out.includes('done')) child.kill('SIGKILL');
        });
        child.on('exit', () => resolve());
      });
      expect(out.includes('done')).toBe(false);
    }
    const ix = indexer();
    const before = indexedSequences(ix, 'a1').length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(total);
    ix.indexPending();
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, total));
    expect(ftsCount(ix)).toBe(total);
  });

  it('D4: a deleted index is rebuilt with counts that match the JSONL', () => {
    fs.writeFileSync(logFile('a1'), lines('a1', 1, 500));
    fs.writeFileSync(logFile('b2'), lines('b2', 1, 300));
    indexer().indexPending();
    for (const ix of open.splice(0)) ix.dispose();
    fs.rmSync(indexPath(root));
    const ix = indexer();
    ix.indexPending();
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, 500));
    expect(indexedSequences(ix, 'b2')).toEqual(range(1, 300));
  });

  it('D4: a corrupt index file is replaced and rebuilt', () => {
    fs.writeFileSync(logFile('a1'), lines('a1', 1, 200));
    indexer().indexPending();
    for (const ix of open.splice(0)) ix.dispose();
    fs.writeFileSync(indexPath(root), Buffer.alloc(8192, 0x5a)); // not a database any more
    fs.rmSync(`${indexPath(root)}-wal`, { force: true });
    const ix = indexer();
    ix.indexPending();
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, 200));
  });

  it('D4: rebuildIndex starts from scratch', () => {
    fs.writeFileSync(logFile('a1'), lines('a1', 1, 100));
    indexer().indexPending();
    for (const ix of open.splice(0)) ix.dispose();
    const { indexer: ix, stats } = rebuildIndex(root);
    open.push(ix);
    expect(stats.entries).toBe(100);
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, 100));
  });

  it('D6: a rotated file keeps its rows, and its gzipped copy continues from its checkpoint', async () => {
    const live = logFile('a1');
    fs.writeFileSync(live, lines('a1', 1, 100));
    const ix = indexer();
    ix.indexPending();
    // Lines written just before the rotation are not indexed yet.
    fs.appendFileSync(live, lines('a1', 101, 150));
    const rotated = `${live}.20260101T120000123`;
    fs.renameSync(live, rotated);
    fs.writeFileSync(live, lines('a1', 151, 200));
    const pass1 = ix.indexPending();
    expect(pass1.entries).toBe(100);
    expect(pass1.removedFiles).toBe(0);
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, 200));

    fs.appendFileSync(rotated, ''); // no change: the gzip below is a copy
    await gzipFile(rotated);
    expect(fs.existsSync(`${rotated}.gz`)).toBe(true);
    const pass2 = ix.indexPending();
    expect(pass2.entries).toBe(0);
    expect(pass2.removedFiles).toBe(0);
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, 200));
    const paths = (ix.db.prepare('SELECT path FROM files ORDER BY path').all() as { path: string }[]).map((r) => r.path);
    expect(paths).toEqual([live, `${rotated}.gz`]);
    // The hits point into the gzipped file.
    const hit = searchIndex(ix.db, { text: 'line 42 of a1' }).hits[0];
    expect(hit.file).toBe(`${rotated}.gz`);
  });

  it('D6: a gzipped rotated file seen for the first time is indexed in full', async () => {
    const live = logFile('a1');
    const rotated = `${live}.20260101T120000123`;
    fs.writeFileSync(rotated, lines('a1', 1, 80));
    await gzipFile(rotated);
    fs.writeFileSync(live, lines('a1', 81, 100));
    const ix = indexer();
    expect(ix.indexPending().entries).toBe(100);
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, 100));
  });

  it('D6: a truncated file drops its old rows and is indexed again from the start', () => {
    const live = logFile('a1');
    fs.writeFileSync(live, lines('a1', 1, 100));
    const ix = indexer();
    ix.indexPending();
    fs.truncateSync(live, 0);
    fs.appendFileSync(live, lines('a1', 101, 110));
    const stats = ix.indexPending();
    expect(stats.entries).toBe(10);
    expect(indexedSequences(ix, 'a1')).toEqual(range(101, 110));
    expect(ftsCount(ix)).toBe(10);
  });

  it('D6: a deleted rotated file takes its rows with it', () => {
    const live = logFile('a1');
    const rotated = `${live}.20260101T120000123`;
    fs.writeFileSync(rotated, lines('a1', 1, 50));
    fs.writeFileSync(live, lines('a1', 51, 60));
    const ix = indexer();
    ix.indexPending();
    fs.rmSync(rotated);
    expect(ix.indexPending().removedFiles).toBe(1);
    expect(indexedSequences(ix, 'a1')).toEqual(range(51, 60));
    expect(searchIndex(ix.db, { text: 'line 7 of a1' }).total).toBe(0);
  });

  it('D6: a file replaced by another one (inode reuse) is indexed as the new file', () => {
    const live = logFile('a1');
    fs.writeFileSync(live, lines('a1', 1, 30, (s) => entry('a1', s, `old ${s}`)));
    const ix = indexer();
    ix.indexPending();
    fs.rmSync(live);
    // The freed inode is usually handed to the next file created in the folder; either way the
    // first-line hash tells the files apart.
    fs.writeFileSync(live, lines('a1', 1, 20, (s) => entry('a1', s, `new ${s}`)));
    ix.indexPending();
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, 20));
    expect(searchIndex(ix.db, { text: 'old ' }).total).toBe(0);
    expect(searchIndex(ix.db, { text: 'new ' }).total).toBe(20);
  });

  it('D8: flipped bytes are reported with line numbers, the rest is indexed, and FTS passes integrity-check', () => {
    const text = lines('a1', 1, 2000, (s) => entry('a1', s, `\u001b[32mok\u001b[0m entry ${s} 日本語 ✓`));
    const bytes = Buffer.from(text);
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 200; i++) bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
    fs.writeFileSync(logFile('a1'), bytes);
    const ix = indexer();
    const stats = ix.indexPending();
    expect(stats.corruptLineCount).toBeGreaterThan(0);
    expect(stats.corruptLines[0].line).toBeGreaterThan(0);
    expect(stats.corruptLines[0].file).toBe(logFile('a1'));
    // What a reader sees as valid is what the index holds (first line wins for a repeated sequence).
    const valid = new Set<number>();
    const complete = bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1).toString('utf8').split('\n').slice(0, -1);
    for (const line of complete) {
      const parsed = parseEntryLine(line);
      if (parsed.ok) valid.add(parsed.entry.sequence);
    }
    expect(indexedSequences(ix, 'a1')).toEqual([...valid].sort((a, b) => a - b));
    expect(() => ix.db.prepare("INSERT INTO lines_fts (lines_fts) VALUES ('integrity-check')").run()).not.toThrow();
  });

  it('E5: a catastrophic regex on a 100 KB line returns, and FTS syntax in search text is just text', () => {
    const long = 'a'.repeat(100_000) + '!';
    fs.writeFileSync(
      logFile('a1'),
      serializeEntry(entry('a1', 1, long)) + serializeEntry(entry('a1', 2, `weird - " AND NEAR * ' input`)) + lines('a1', 3, 10),
    );
    const ix = indexer();
    ix.indexPending();
    const started = performance.now();
    const result = searchIndex(ix.db, { text: '(a+)+$', regex: true });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(result.total).toBe(0);
    for (const text of [`- " AND NEAR * '`, '"', "'", '-', '*', 'NEAR', 'AND', '(', ')', '%', '_', '\\', 'a OR b', '^', '{x}']) {
      expect(() => searchIndex(ix.db, { text })).not.toThrow();
    }
    expect(searchIndex(ix.db, { text: `- " AND NEAR * '` }).hits.map((h) => h.sequence)).toEqual([2]);
  });

  it('builds runs from started/terminated entries: status, exit status, capture method and gaps', () => {
    const sys = (seq: number, content: string, metadata: LogEntry['metadata']) => entry('a1', seq, content, { type: 'system', metadata });
    const text =
      serializeEntry(sys(1, 'started', { event: 'started', command: 'pytest', cols: 80, rows: 24, capture: 'pipe-pane' })) +
      serializeEntry(entry('a1', 2, 'Traceback (most recent call last):', { type: 'stderr', metadata: { level: 'error' } })) +
      serializeEntry(entry('a1', 3, 'careful', { metadata: { level: 'warn' } })) +
      serializeEntry(sys(4, 'capture lost', { event: 'capture_lost', gap: 'reader exited', level: 'warn' })) +
      serializeEntry(sys(5, 'terminated', { event: 'terminated', exit_status: 1 })) +
      serializeEntry(sys(6, 'started', { event: 'started', command: 'pytest -x', capture: 'poll' })) +
      serializeEntry(entry('a1', 7, 'running'));
    fs.writeFileSync(logFile('a1'), text);
    const ix = indexer();
    ix.indexPending();
    const runs = ix.db.prepare('SELECT first_seq, terminated, exit_status, capture, gaps FROM runs ORDER BY first_seq').all();
    expect(runs).toEqual([
      { first_seq: 1, terminated: 1, exit_status: 1, capture: 'pipe-pane', gaps: 1 },
      { first_seq: 6, terminated: 0, exit_status: null, capture: 'poll', gaps: 0 },
    ]);
  });

  it('watch() indexes new lines without being asked, and dispose() stops it', async () => {
    fs.writeFileSync(logFile('a1'), lines('a1', 1, 5));
    const ix = indexer();
    ix.watch({ pollMs: 100 });
    fs.appendFileSync(logFile('a1'), lines('a1', 6, 9));
    const deadline = Date.now() + 10_000;
    while (indexedSequences(ix, 'a1').length < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(indexedSequences(ix, 'a1')).toEqual(range(1, 9));
    ix.dispose();
    expect(ix.db.open).toBe(false);
  });
});
