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
import { header, percentile, row, timeProcess, waitForQuiet } from './report.js';
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
  await waitForQuiet(); // writing and indexing the entries loads the machine (11 min for 10 M)
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
  await client.query(`CREATE TABLE c_entries (LIKE loupe_entries, PRIMARY KEY (agent, seq, ts));
    CREATE TABLE c_lines (LIKE loupe_lines, PRIMARY KEY (agent, n, ts));
    CREATE INDEX ON c_lines USING gin (text gin_trgm_ops); CREATE INDEX ON c_lines (sort_key)`);
  const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-ship-copy-'));
  fs.chmodSync(copyDir, 0o777);
  await client.query(`COPY (SELECT * FROM loupe_entries) TO '${copyDir}/e'; COPY (SELECT * FROM loupe_lines) TO '${copyDir}/l'`);
  const s1 = serverCpu();
  const w1 = performance.now();
  await client.query(`BEGIN; COPY c_entries FROM '${copyDir}/e'; COPY c_lines FROM '${copyDir}/l'; COMMIT`);
  const copyWall = (performance.now() - w1) / 1000;
  const copyCpu = serverCpu() - s1;
  fs.rmSync(copyDir, { recursive: true, force: true });

  const rate = shipped.entries / wall;
  row('ship into PostgreSQL (text index included)', `${Math.round(rate)} entries/s`, `COPY: ${Math.round(shipped.entries / copyWall)} entries/s`, `>= ${GOAL_ENTRIES_PER_S} entries/s`, rate >= GOAL_ENTRIES_PER_S);
  row('  JSONL shipped', `${(bytes / 1e6 / wall).toFixed(1)} MB/s`, `${(bytes / 1e6).toFixed(0)} MB, ${shipped.lines} lines`);
  row('  shipper CPU', `${shipperCpu.toFixed(2)} s`);
  row('  server CPU', `${storeCpu.toFixed(2)} s`, `COPY: ${copyCpu.toFixed(2)} s`);

  // Live: one entry appended to a followed log, until its row is in the store.
  await waitForQuiet();
  const live = new LogWriter(streamPath(root, TASK, 'agent-0'), { agentId: 'agent-0' });
  const stop = new AbortController();
  const following = new LocalLogFollower([root], sink, { pollMs: 1000 });
  const run = following.follow(stop.signal);
  const latencies = [];
  let seq = ENTRIES / AGENTS + 1;
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const started = performance.now();
    live.append({ type: 'stdout', content: `live ${i}`, timeMicros: Date.now() * 1000 });
    live.flush();
    seq++;
    for (;;) {
      const { rows } = await client.query("SELECT shipped_seq FROM loupe_agents WHERE agent_id = 'agent-0'");
      if (Number(rows[0].shipped_seq) >= seq) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    latencies.push(performance.now() - started);
  }
  stop.abort();
  await run;
  following.dispose();
  live.closeSync();
  row('live: entry written -> in the store', `p50 ${percentile(latencies, 50).toFixed(0)} ms`, `p99 ${percentile(latencies, 99).toFixed(0)} ms`);

  await benchSearch(client);
  await benchTailFollow(sink);
  await client.end();
  await sink.dispose();
} finally {
  server.cleanup();
  fs.rmSync(root, { recursive: true, force: true });
}

/** Search for a rare term, a common term and a regex: the store beside local SQLite, at the CLI and in process. */
async function benchSearch(client) {
  const rare = `test_${Math.floor(ENTRIES / AGENTS / 2)}.ts`; // once per agent
  const cases = [
    { what: 'rare term', query: { text: rare }, args: [rare] },
    { what: 'common term', query: { text: 'PASS' }, args: ['PASS'] },
    { what: 'regex', query: { text: 'case 4\\d{4} took 29\\d ms', regex: true }, args: ['case 4\\d{4} took 29\\d ms', '--regex'] },
  ];
  const indexer = new Indexer(root);
  try {
    for (const c of cases) {
      await waitForQuiet();
      const cli = (where) => timeProcess(process.execPath, [LOUPE, 'search', ...c.args, ...where], { runs: SEARCH_RUNS }).wallMs;
      const storeCli = cli(['--store', server.url]);
      const localCli = cli(['--root', root]);
      row(`search --store, ${c.what} (${ENTRIES / 1e3}k entries)`, `${storeCli.toFixed(0)} ms`, `local SQLite: ${localCli.toFixed(0)} ms`, `fastest of ${SEARCH_RUNS}`);
      // In process: the second query counts (the first warms up the JIT and the connection's plans).
      let store = Infinity;
      let local = Infinity;
      let total = 0;
      for (let i = 0; i < 3; i++) {
        const s0 = performance.now();
        total = (await searchStore(client, c.query)).total;
        store = Math.min(store, performance.now() - s0);
        const l0 = performance.now();
        searchIndex(indexer.db, c.query);
        local = Math.min(local, performance.now() - l0);
      }
      row(`  in process (${total} hits, 100 shown)`, `${store.toFixed(1)} ms`, `local SQLite: ${local.toFixed(1)} ms`);
    }
  } finally {
    indexer.dispose();
  }
}

/** One entry appended to the local JSONL while `loupe ship` follows → printed by `loupe tail -f --store`. */
async function benchTailFollow(sink) {
  await waitForQuiet();
  const agentId = 'agent-1';
  const live = new LogWriter(streamPath(root, TASK, agentId), { agentId });
  const stop = new AbortController();
  const following = new LocalLogFollower([root], sink, { pollMs: 1000 });
  const shipping = following.follow(stop.signal);
  const tail = spawn(process.execPath, [LOUPE, 'tail', '-f', '-n', '0', '--format', 'jsonl', '--store', server.url, agentId], { stdio: ['ignore', 'pipe', 'inherit'] });
  let printed = '';
  let arrived = null;
  tail.stdout.setEncoding('utf8');
  tail.stdout.on('data', (d) => {
    printed += d;
    arrived?.();
  });
  const waitFor = (marker) =>
    new Promise((resolve) => {
      arrived = () => {
        if (printed.includes(marker)) resolve();
      };
      arrived();
    });
  try {
    // The tail is ready once an entry comes through; one shipped before it read its start is
    // never printed (-n 0), so warm-up entries go on until one is.
    const warmUp = setInterval(() => {
      live.append({ type: 'stdout', content: 'tail warm-up', timeMicros: Date.now() * 1000 });
      live.flush();
    }, 500);
    await waitFor('tail warm-up');
    clearInterval(warmUp);
    const latencies = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const marker = `tail sample ${i} `;
      const started = performance.now();
      live.append({ type: 'stdout', content: marker, timeMicros: Date.now() * 1000 });
      live.flush();
      await waitFor(marker);
      latencies.push(performance.now() - started);
    }
    row('live: entry written -> tail -f --store', `p50 ${percentile(latencies, 50).toFixed(0)} ms`, `p99 ${percentile(latencies, 99).toFixed(0)} ms`);
  } finally {
    tail.kill();
    stop.abort();
    await shipping;
    following.dispose();
    live.closeSync();
  }
}
