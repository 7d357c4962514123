// Shipping into PostgreSQL (SPEC §10, §16; LOUPE_BENCH_SHIP_ENTRIES, default 500k): entries/s and
// MB/s of JSONL into a private PostgreSQL with the trigram index, the shipper's and the server's
// CPU time, beside a server-side COPY of the same rows into tables with the same indexes; the
// latency of one new entry through a following shipper into the store (p50/p99); search over the
// shipped entries (a rare term, a common term, a regex) at the CLI (`loupe search --store`, fastest
// of N processes) and in process, beside local SQLite search over the same root; and one new entry
// through a following shipper to `loupe tail -f --store` (p50/p99). The root is indexed locally
// first (screen lines), which is not counted: `loupe daemon` or a first pass does it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { header, percentile, row, timeProcess } from './report.js';
import { Indexer } from '../dist/electron/core/index/indexer.js';
import { ensureLogsDir, streamPath } from '../dist/electron/core/log/paths.js';
import { LogWriter } from '../dist/electron/core/log/writer.js';
import { searchIndex } from '../dist/electron/core/search/query.js';
import { LocalLogFollower } from '../dist/electron/core/ship/follow.js';
import { searchStore } from '../dist/electron/core/store/search.js';
import { PostgresSink } from '../dist/electron/core/store/shipSink.js';
import { startPostgres } from '../dist/electron/core/store/test-support.js';

const ENTRIES = Number(process.env.LOUPE_BENCH_SHIP_ENTRIES ?? 500_000);
const AGENTS = 4;
const LATENCY_SAMPLES = 50;
/** `loupe search` processes per figure; the fastest counts (bench/README.md, Method). */
const SEARCH_RUNS = Number(process.env.LOUPE_BENCH_SHIP_SEARCH_RUNS ?? 10);
const LOUPE = fileURLToPath(new URL('../bin/loupe.js', import.meta.url));
const TASK = 'TASK-20261201-000000-0a1b2c3d';
const GOAL_ENTRIES_PER_S = 20_000;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-ship-bench-'));
ensureLogsDir(root, TASK);
const base = Date.UTC(2026, 11, 1) * 1000;
for (let a = 0; a < AGENTS; a++) {
  const agentId = `agent-${a}`;
  const w = new LogWriter(streamPath(root, TASK, agentId), { agentId });
  w.append({ type: 'system', content: '[loupe] started', metadata: { event: 'started', cols: 120, rows: 40, command: 'job' }, timeMicros: base });
  for (let i = 0; i < ENTRIES / AGENTS; i++) {
    w.append({ type: 'stdout', content: `\u001b[32mPASS\u001b[0m src/module${i % 977}/test_${i}.ts > case ${(i * 7919) % 100003} took ${i % 300} ms`, timeMicros: base + i * 1000 });
  }
  w.closeSync();
}
const logs = path.join(root, '.agent-workspace', TASK, 'logs');
const bytes = fs.readdirSync(logs).reduce((n, f) => n + fs.statSync(path.join(logs, f)).size, 0);
const indexer = new Indexer(root);
indexer.indexPending();
indexer.dispose();

const server = await startPostgres();
/** CPU seconds of the server's processes, exited backends included (the postmaster's cutime). */
function serverCpu() {
  let ticks = 0;
  for (const pid of server.pids()) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
try {
  header();
  const sink = new PostgresSink(server.url, 'bench');
  const follower = new LocalLogFollower([root], sink);
  await sink.position({ root, taskId: TASK, agentId: 'agent-0' }); // connection and schema, not counted
  const c0 = cpu();
  const s0 = serverCpu();
  const w0 = performance.now();
  const shipped = await follower.runOnce();
  const wall = (performance.now() - w0) / 1000;
  const shipperCpu = cpu() - c0;
  const storeCpu = serverCpu() - s0;
  follower.dispose();

  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const P = ['%PASS%', '%pass%'];
  const W = "l.text ILIKE $1 AND translate(l.text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE $2";
  const US = "(extract(epoch from l.ts) * 1000000)::bigint";
  for (const q of [
    `SELECT a.machine, l.text FROM loupe_lines l JOIN loupe_agents a ON a.id = l.agent WHERE ${W} ORDER BY l.sort_key DESC, l.agent DESC, l.n DESC LIMIT 100`,
    `SELECT l.type, l.level, (1 + ((${US} - 1) / 1000000) * 1000000) AS b, count(*) AS n FROM loupe_lines l JOIN loupe_agents a ON a.id = l.agent WHERE ${W} GROUP BY 1, 2, 3`,
    `SELECT count(*) FROM loupe_lines l WHERE ${W}`,
    `SELECT count(*) FROM loupe_lines l WHERE l.text ILIKE $1 AND $2 = $2`,
  ]) {
    const { rows } = await client.query('EXPLAIN (ANALYZE, BUFFERS) ' + q, P);
    console.log('=====', q.slice(0, 100));
    console.log(rows.map((r) => r['QUERY PLAN']).join('\n'));
  }
  await client.end();
  await sink.dispose();
} finally {
  server.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
}
