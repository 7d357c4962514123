import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { formatTimestamp, serializeEntry } from '../../../shared/entry.js';
import { searchIndex } from '../search/query.js';
import { FreshIndex, indexIsCurrent, SETTLE_MARGIN_US } from './freshIndex.js';
import { Indexer } from './indexer.js';

const TASK = 'TASK-20260101-120000-0a1b2c3d';
const BASE_US = Date.UTC(2026, 0, 1, 12) * 1000;

let root: string;
let file: string;
const open: { dispose(): void }[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-fresh-'));
  file = path.join(root, '.agent-workspace', TASK, 'logs', 'a1_stream.jsonl');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  append(1, 3);
});

afterEach(() => {
  for (const o of open.splice(0)) o.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

function append(from: number, to: number, content = (seq: number) => `line ${seq}\n`, base = BASE_US): void {
  let out = '';
  for (let seq = from; seq <= to; seq++) {
    out += serializeEntry({ timestamp: formatTimestamp(base + seq * 1000), agent_id: 'a1', type: 'stdout', sequence: seq, content: content(seq) });
  }
  fs.appendFileSync(file, out);
}

function indexed(): Indexer {
  const ix = new Indexer(root);
  open.push(ix);
  ix.indexPending();
  return ix;
}

it('an index that indexing would not change is current', () => {
  expect(indexIsCurrent(indexed().db, root)).toBe(true);
});

it('an index is not current once a log grows, a new log appears or a log is gone', () => {
  const ix = indexed();
  append(4, 4);
  expect(indexIsCurrent(ix.db, root)).toBe(false);
  ix.indexPending();
  expect(indexIsCurrent(ix.db, root)).toBe(true);
  const other = path.join(path.dirname(file), 'b2_stream.jsonl');
  fs.copyFileSync(file, other);
  expect(indexIsCurrent(ix.db, root)).toBe(false);
  ix.indexPending();
  fs.rmSync(other);
  expect(indexIsCurrent(ix.db, root)).toBe(false);
});

it('an index is not current while a screen line is due to settle', () => {
  fs.rmSync(file);
  // Output of a moment ago: its last line stays on the screen until output has been quiet a while.
  const now = Date.now() * 1000;
  append(1, 1, () => 'a prompt with no newline yet', now - 1000);
  const ix = indexed();
  expect(indexIsCurrent(ix.db, root, now)).toBe(true);
  expect(indexIsCurrent(ix.db, root, now + 2 * SETTLE_MARGIN_US)).toBe(false);
});

it('FreshIndex indexes what is pending before it is read, and nothing when the index is current', async () => {
  const first = new FreshIndex(root);
  open.push(first);
  expect((await first.indexPending())?.entries).toBe(3);
  first.dispose();
  const fresh = new FreshIndex(root);
  open.push(fresh);
  expect(await fresh.indexPending()).toBeNull();
  expect(searchIndex(fresh.db, { text: 'line 3' }).total).toBe(1);
  append(4, 4);
  expect((await fresh.indexPending())?.entries).toBe(1);
  expect(searchIndex(fresh.db, { text: 'line 4' }).total).toBe(1);
});
