import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatTimestamp, serializeEntry, type LogEntry } from '../../../shared/entry.js';
import { killTmuxServer } from '../../core/capture/test-support.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const TASK = 'TASK-20260101-120000-0a1b2c3d';
const BASE_US = Date.UTC(2026, 0, 1, 12) * 1000;

let root: string;
let logs: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-search-cli-'));
  logs = path.join(root, '.agent-workspace', TASK, 'logs');
  fs.mkdirSync(logs, { recursive: true });
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function loupe(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function entry(seq: number, content: string, extra: Partial<LogEntry> = {}): string {
  return serializeEntry({ timestamp: formatTimestamp(BASE_US + seq * 1000), agent_id: 'worker', type: 'stdout', sequence: seq, content, ...extra });
}

function writeRun(): string {
  const file = path.join(logs, 'worker_stream.jsonl');
  fs.writeFileSync(
    file,
    entry(1, 'started', { type: 'system', metadata: { event: 'started', command: 'python job.py', cols: 80, rows: 24, capture: 'pipe-pane' } }) +
      entry(2, 'loading data') +
      entry(3, '\u001b[31mTraceback (most recent call last):\u001b[0m', { type: 'stderr', metadata: { level: 'error' } }) +
      entry(4, 'ValueError: bad input', { type: 'stderr', metadata: { level: 'error' } }) +
      entry(5, 'terminated', { type: 'system', metadata: { event: 'terminated', exit_status: 1 } }),
  );
  return file;
}

describe('loupe search / stats / reindex', () => {
  it('prints one hit per line with timestamp, agent, sequence and snippet', () => {
    writeRun();
    const r = loupe('search', 'traceback', '--root', root);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${formatTimestamp(BASE_US + 3000)} worker #3 Traceback (most recent call last):\n`);
    expect(r.stderr).toBe('1 hit\n');
  });

  it('stops quietly, with status 0, when the reader of its output goes away (| head -1)', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => entry(i + 1, `step ${i} of a long run`));
    fs.writeFileSync(path.join(logs, 'worker_stream.jsonl'), lines.join(''));
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" search step --limit 5000 --root "${root}" | head -1; exit \${PIPESTATUS[0]}`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(r.stderr).not.toMatch(/EPIPE|at |node:/);
    expect(r.status).toBe(0);
  });

  it('--json prints total, hits, distributions and histogram', () => {
    writeRun();
    const r = loupe('search', '', '--type', 'stderr', '--root', root, '--json');
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(Object.keys(result)).toEqual(['total', 'hits', 'byType', 'byLevel', 'histogram']);
    expect(result.total).toBe(2);
    expect(result.hits.map((h: { sequence: number }) => h.sequence)).toEqual([4, 3]);
    expect(result.byType).toEqual({ stderr: 2 });
    expect(result.byLevel).toEqual({ error: 2 });
    expect(result.histogram.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(2);
  });

  it('finds a line appended just before the command runs (fresh results)', () => {
    const file = writeRun();
    expect(loupe('search', 'brand-new-line', '--root', root, '--json').stdout).toContain('"total":0');
    fs.appendFileSync(file, entry(6, 'a brand-new-line appeared'));
    const r = loupe('search', 'brand-new-line', '--root', root, '--json');
    expect(JSON.parse(r.stdout).hits.map((h: { sequence: number }) => h.sequence)).toEqual([6]);
  });

  it('rejects a bad regex, a bad duration and an unknown type with one line and exit status 2', () => {
    writeRun();
    for (const args of [['(', '--regex'], ['x', '--since', 'yesterday-ish'], ['x', '--type', 'stdouts'], ['x', '--limit', '-1']]) {
      const r = loupe('search', ...args, '--root', root);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^loupe: [^\n]+\n$/);
    }
  });

  it('stats shows the failed run with exit status 1', () => {
    writeRun();
    const json = loupe('stats', 'worker', '--root', root, '--json');
    expect(json.status).toBe(0);
    const [run] = JSON.parse(json.stdout);
    expect(run).toMatchObject({ agentId: 'worker', status: 'error', exitStatus: 1, entries: 5, errors: 2, captureMethod: 'pipe-pane', command: 'python job.py' });
    const table = loupe('stats', '--root', root);
    expect(table.stdout.split('\n')[1]).toMatch(/^TASK-20260101-120000-0a1b2c3d\s+worker\s+1\s+error\s/);
  });

  it('D4: reindex rebuilds a deleted or corrupt index with counts matching the JSONL', () => {
    writeRun();
    const index = path.join(root, '.agent-workspace', 'index.sqlite');
    expect(loupe('search', '', '--root', root, '--json').status).toBe(0);
    fs.writeFileSync(index, 'garbage, not a database');
    const r = loupe('reindex', '--root', root);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/reindexed .*index\.sqlite: 5 entries from 1 files/);
    expect(r.stderr).toMatch(/keyframes of 1 agents: /);
    fs.rmSync(index);
    expect(JSON.parse(loupe('search', '', '--root', root, '--json').stdout).total).toBe(5);
  });

  it('finds what a real `loupe run` captured as soon as it is in the log', () => {
    const socket = `loupe-test-${randomBytes(4).toString('hex')}`;
    try {
      const run = loupe('run', '--socket', socket, '--root', root, '--name', 'fresh', '--', 'sh', '-c', 'echo needle-$((40+2)); sleep 30');
      if (run.status !== 0) throw new Error(`loupe run failed: ${run.stderr}`);
      const deadline = Date.now() + 20_000;
      let found = 0;
      while (found === 0 && Date.now() < deadline) {
        found = JSON.parse(loupe('search', 'needle-42', '--root', root, '--json').stdout).total;
      }
      expect(found).toBe(1);
    } finally {
      killTmuxServer(socket);
    }
  });
});
