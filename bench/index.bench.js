// Index throughput (SPEC §10): MB/s and entries/s of JSONL into the SQLite index (FTS5 trigram),
// on a generated log set (LOUPE_BENCH_INDEX_MB, default 1024 MB), and index size against JSONL size.
// Baselines in the same run: reading + splitting + JSON.parse of the same files, the floor any
// indexer pays; and the same indexer with one line per entry instead of screen lines (SPEC §12),
// on the plain-line set and on a redraw-heavy set (an Ink-style spinner and a streamed reply,
// LOUPE_BENCH_REDRAW_MB, default a quarter of the plain set).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { row, header } from './report.js';
import { Indexer } from '../dist/electron/core/index/indexer.js';
import { indexPath } from '../dist/electron/core/index/schema.js';

const TARGET_MB = Number(process.env.LOUPE_BENCH_INDEX_MB ?? 1024);
const AGENTS = 8;
const TASK = 'TASK-20260101-120000-0a1b2c3d';
const REDRAW_MB = Number(process.env.LOUPE_BENCH_REDRAW_MB ?? Math.max(1, Math.round(TARGET_MB / 4)));
const out = fileURLToPath(new URL(`./out/index-${TARGET_MB}mb/`, import.meta.url));
const logs = path.join(out, '.agent-workspace', TASK, 'logs');
const redrawOut = fileURLToPath(new URL(`./out/index-redraw-${REDRAW_MB}mb/`, import.meta.url));

/** Entries as a pty writes them for an Ink UI: each frame erases the live area and redraws it. */
function generateRedraw() {
  if (fs.existsSync(path.join(redrawOut, 'complete'))) return;
  fs.rmSync(redrawOut, { recursive: true, force: true });
  const dir = path.join(redrawOut, '.agent-workspace', TASK, 'logs');
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(path.join(dir, 'ink_stream.jsonl'), 'w');
  const spinner = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
  let seq = 0;
  let ts = Date.UTC(2026, 0, 1) * 1000;
  let bytes = 0;
  let chunk = '';
  const stamp = () => new Date(Math.floor(ts / 1000)).toISOString().slice(0, 23) + String(ts % 1000).padStart(3, '0') + '+00:00';
  const put = (content, partial) => {
    seq++;
    const e = { timestamp: stamp(), agent_id: 'ink', type: 'stdout', sequence: seq, content };
    if (partial) e.metadata = { partial: true };
    chunk += JSON.stringify(e) + '\n';
  };
  put('[loupe] started: ink (120x32, pipe-pane)', false);
  chunk = chunk.replace('"type":"stdout"', '"type":"system"').replace('}\n', ',"metadata":{"event":"started","cols":120,"rows":32}}\n');
  for (let reply = 0; bytes < REDRAW_MB * 1024 * 1024; reply++) {
    put(`⏺ Bash(npm test ${reply})\r`, false);
    put(`  ⎿  ${reply} passed, 0 failed\r`, false);
    const words = `reply ${reply}: the refactor keeps the public API stable and moves parsing into its own module`.split(' ');
    for (let w = 1; w <= words.length; w++) {
      ts += 80_000;
      // Erase the two live lines, redraw the reply so far and the spinner: one read, two entries.
      put(`\x1b[2K\x1b[1A\x1b[2K\x1b[G${words.slice(0, w).join(' ')}\r`, false);
      put(`\x1b[36m${spinner[w % spinner.length]}\x1b[39m Thinking… (${Math.floor(w / 12)}s)`, true);
    }
    ts += 3_000_000;
    put('\x1b[2K\x1b[1A\x1b[2K\x1b[G' + words.join(' ') + '\r', false);
    put('', false);
    fs.writeSync(fd, chunk);
    bytes += Buffer.byteLength(chunk);
    chunk = '';
  }
  fs.closeSync(fd);
  fs.writeFileSync(path.join(redrawOut, 'complete'), '');
}

/** Builds the index of `root` from scratch; returns bytes, entries, wall and CPU seconds, index size. */
function indexOnce(root, options = {}) {
  for (const f of [indexPath(root), `${indexPath(root)}-wal`, `${indexPath(root)}-shm`]) fs.rmSync(f, { force: true });
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const indexer = new Indexer(root, options);
  const stats = indexer.indexPending();
  indexer.db.pragma('wal_checkpoint(TRUNCATE)');
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const lines = indexer.db.prepare('SELECT count(*) AS n FROM lines').get().n;
  indexer.dispose();
  return { ...stats, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, lines, indexBytes: fs.statSync(indexPath(root)).size };
}

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
generateRedraw();
header();
const base = parseOnly();
const baseMBs = base.bytes / 1e6 / base.seconds;
const plain = indexOnce(out);
const plainNoScreen = indexOnce(out, { screenLines: false });
const mbs = plain.bytes / 1e6 / plain.seconds;
row(`index throughput (${(plain.bytes / 1e6).toFixed(0)} MB plain-line JSONL)`, `${mbs.toFixed(1)} MB/s`, `read+JSON.parse: ${baseMBs.toFixed(0)} MB/s`, '>= 100 MB/s', mbs >= 100);
row('  without screen lines (one line per entry)', `${(plainNoScreen.bytes / 1e6 / plainNoScreen.seconds).toFixed(1)} MB/s`, `screen lines cost ${((plain.seconds / plainNoScreen.seconds - 1) * 100).toFixed(0)}%`);
row('index throughput, entries', `${Math.round(plain.entries / plain.seconds)}/s`, `read+JSON.parse: ${Math.round(base.entries / base.seconds)}/s`);
// On a shared machine wall time depends on the load; CPU time shows what one free core would do.
row('index throughput per CPU second', `${(plain.bytes / 1e6 / plain.cpuSeconds).toFixed(1)} MB/s`, `${Math.round(plain.entries / plain.cpuSeconds)} entries/s`, '', null);
row('index size / JSONL size', `${(plain.indexBytes / plain.bytes).toFixed(2)}x`, `${(plain.indexBytes / 1e6).toFixed(0)} MB for ${(plain.bytes / 1e6).toFixed(0)} MB`);
const redraw = indexOnce(redrawOut);
const redrawNoScreen = indexOnce(redrawOut, { screenLines: false });
row(`index throughput (${(redraw.bytes / 1e6).toFixed(0)} MB redraw-heavy JSONL)`, `${(redraw.bytes / 1e6 / redraw.seconds).toFixed(1)} MB/s`, `one line per entry: ${(redrawNoScreen.bytes / 1e6 / redrawNoScreen.seconds).toFixed(1)} MB/s`);
row('  lines kept (redraw-heavy)', `${redraw.lines} screen lines`, `${redrawNoScreen.lines} lines, one per entry`);
