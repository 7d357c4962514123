import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatTimestamp, serializeEntry, type LogEntry } from '../../../shared/entry.js';
import { entryCounts, unindexedBytes } from './counts.js';
import { Indexer } from './indexer.js';

const TASK = 'TASK-20260101-120000-0a1b2c3d';
const BASE_US = Date.UTC(2026, 0, 1, 12) * 1000;

let root: string;
let logs: string;
let ix: Indexer | null = null;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-counts-'));
  logs = path.join(root, '.agent-workspace', TASK, 'logs');
  fs.mkdirSync(logs, { recursive: true });
});

afterEach(() => {
  ix?.dispose();
  ix = null;
  fs.rmSync(root, { recursive: true, force: true });
});

function line(agent: string, sequence: number, extra: Partial<LogEntry> = {}): string {
  return serializeEntry({ timestamp: formatTimestamp(BASE_US + sequence * 1000), agent_id: agent, type: 'stdout', sequence, content: `line ${sequence}`, ...extra });
}

function counts(): Record<string, number> {
  return Object.fromEntries(entryCounts(ix!.db).map((c) => [`${c.type}/${c.level}`, c.count]));
}

describe('entry counts and index lag', () => {
  it('counts indexed entries by type and level, and a second copy of the same lines adds nothing', () => {
    const file = path.join(logs, 'a_stream.jsonl');
    fs.writeFileSync(
      file,
      line('a', 1, { type: 'system' }) + line('a', 2) + line('a', 3, { metadata: { level: 'warn' } }) + line('a', 4, { type: 'stderr' }) + line('a', 5, { type: 'stderr', metadata: { level: 'fatal' } }),
    );
    ix = new Indexer(root);
    ix.indexPending();
    expect(counts()).toEqual({ 'system/info': 1, 'stdout/info': 1, 'stdout/warn': 1, 'stderr/error': 1, 'stderr/fatal': 1 });
    fs.appendFileSync(file, line('a', 6));
    ix.indexPending();
    expect(counts()['stdout/info']).toBe(2);
    // A rotated copy of the same entries (plain beside its .gz during compression) is indexed once.
    fs.copyFileSync(file, `${file}.20260101-120000`);
    fs.writeFileSync(file, line('a', 7));
    ix.indexPending();
    expect(Object.values(counts()).reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('reports the bytes of live logs past their checkpoints, and 0 once indexed', () => {
    const a = path.join(logs, 'a_stream.jsonl');
    fs.writeFileSync(a, line('a', 1));
    ix = new Indexer(root);
    ix.indexPending();
    expect(unindexedBytes(ix.db, root)).toBe(0);
    const more = line('a', 2) + line('a', 3);
    fs.appendFileSync(a, more);
    const b = line('b', 1);
    fs.writeFileSync(path.join(logs, 'b_stream.jsonl'), b); // a log the index has not seen yet
    expect(unindexedBytes(ix.db, root)).toBe(Buffer.byteLength(more) + Buffer.byteLength(b));
    ix.indexPending();
    expect(unindexedBytes(ix.db, root)).toBe(0);
  });
});
