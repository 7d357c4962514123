// Index throughput (SPEC §10): MB/s and entries/s of JSONL into the SQLite index (FTS5 trigram),
// on a generated log set (LOUPE_BENCH_INDEX_MB, default 1024 MB), and index size against JSONL size.
// Baseline in the same run: reading + splitting + JSON.parse of the same files, the floor any indexer pays.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { row, header } from './report.js';
import { Indexer } from '../dist/electron/core/index/indexer.js';
import { indexPath } from '../dist/electron/core/index/schema.js';

const TARGET_MB = Number(process.env.LOUPE_BENCH_INDEX_MB ?? 1024);
const AGENTS = 8;
const TASK = 'TASK-20260101-120000-0a1b2c3d';
const out = fileURLToPath(new URL(`./out/index-${TARGET_MB}mb/`, import.meta.url));
const logs = path.join(out, '.agent-workspace', TASK, 'logs');

/** Realistic agent output: build steps, test results, tracebacks, ANSI colour, some long lines. */
const WORDS = ['compiling', 'src/index.ts', 'error', 'warning:', 'PASS', 'FAIL', 'test', 'collected', '12 items', 'GET /api/v1/users', '200 OK', 'took', 'ms', 'npm', 'install', 'Traceback', 'assert', 'expected', 'received', 'function', 'at Object.<anonymous>', 'node_modules/.bin/tsc', '✓', '日本語'];
function generate() {
  if (fs.existsSync(path.join(out, 'complete'))) return;
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(logs, { recursive: true });
  const perAgent = (TARGET_MB * 1024 * 1024) / AGENTS;
  let seed = 1;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let a = 0; a < AGENTS; a++) {
    const agent = `agent-${a}`;
    const fd = fs.openSync(path.join(logs, `${agent}_stream.jsonl`), 'w');
    let bytes = 0;
    let seq = 0;
    let ts = Date.UTC(2026, 0, 1) * 1000 + a * 1000;
    while (bytes < perAgent) {
      let chunk = '';
      for (let i = 0; i < 2000; i++) {
        seq++;
        ts += Math.floor(rnd() * 5000);
        const n = 3 + Math.floor(rnd() * 14);
        let content = rnd() < 0.1 ? '\u001b[32m' : '';
        for (let j = 0; j < n; j++) content += WORDS[Math.floor(rnd() * WORDS.length)] + ' ';
        content += Math.floor(rnd() * 1e9).toString(36);
        const type = rnd() < 0.1 ? 'stderr' : 'stdout';
        const millis = Math.floor(ts / 1000);
        const stamp = new Date(millis).toISOString().slice(0, 23) + String(ts % 1000).padStart(3, '0') + '+00:00';
        chunk += JSON.stringify({ timestamp: stamp, agent_id: agent, type, sequence: seq, content }) + '\n';
      }
      fs.writeSync(fd, chunk);
      bytes += Buffer.byteLength(chunk);
    }
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(out, 'complete'), '');
}

function parseOnly() {
  let bytes = 0;
  let entries = 0;
  const started = performance.now();
  for (const name of fs.readdirSync(logs)) {
    const fd = fs.openSync(path.join(logs, name), 'r');
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      const end = buf.subarray(0, n).lastIndexOf(0x0a) + 1;
      let start = 0;
      while (start < end) {
        const nl = buf.indexOf(0x0a, start);
        JSON.parse(buf.toString('utf8', start, nl));
        entries++;
        start = nl + 1;
      }
      pos += end;
      bytes += end;
    }
    fs.closeSync(fd);
  }
  return { bytes, entries, seconds: (performance.now() - started) / 1000 };
}

generate();
header();
const base = parseOnly();
const baseMBs = base.bytes / 1e6 / base.seconds;
for (const f of [indexPath(out), `${indexPath(out)}-wal`, `${indexPath(out)}-shm`]) fs.rmSync(f, { force: true });
const started = performance.now();
const cpuStarted = process.cpuUsage();
const indexer = new Indexer(out);
const stats = indexer.indexPending();
indexer.db.pragma('wal_checkpoint(TRUNCATE)');
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStarted);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
indexer.dispose();
const mbs = stats.bytes / 1e6 / seconds;
const indexBytes = fs.statSync(indexPath(out)).size;
row(`index throughput (${(stats.bytes / 1e6).toFixed(0)} MB JSONL)`, `${mbs.toFixed(1)} MB/s`, `read+JSON.parse: ${baseMBs.toFixed(0)} MB/s`, '>= 100 MB/s', mbs >= 100);
row('index throughput, entries', `${Math.round(stats.entries / seconds)}/s`, `read+JSON.parse: ${Math.round(base.entries / base.seconds)}/s`);
// On a shared machine wall time depends on the load; CPU time shows what one free core would do.
row('index throughput per CPU second', `${(stats.bytes / 1e6 / cpuSeconds).toFixed(1)} MB/s`, `${Math.round(stats.entries / cpuSeconds)} entries/s`, '', null);
row('load average during the run', os.loadavg().map((l) => l.toFixed(1)).join(' '), `${os.cpus().length} CPUs`);
row('index size / JSONL size', `${(indexBytes / stats.bytes).toFixed(2)}x`, `${(indexBytes / 1e6).toFixed(0)} MB for ${(stats.bytes / 1e6).toFixed(0)} MB`);
