// Live latency (SPEC §10, issue 4): a line written by a program in tmux → the line visible in its
// pane in Chromium through `loupe serve`. Beside it, from the same run, where the time goes: the
// capture's read timestamp (the entry's `timestamp`), the moment the entry is on disk in the JSONL and
// the moment its WebSocket message reaches the page.
//
// The agent program writes `LAT <n> <Date.now()>` lines spaced apart so they are not batched
// artificially; the page runs a requestAnimationFrame loop that scans the pane's screen through
// `window.loupeDebug` and notes when each marker first shows, i.e. in the frame that paints it.
//
// Sizes: LOUPE_BENCH_LIVE_LINES (default 200), LOUPE_BENCH_LIVE_INTERVAL_MS (default 50).
import fs from 'node:fs';
import path from 'node:path';
import { header, percentile, row } from './report.js';
import { loadNote, startLive, waitFor } from './live-harness.js';

const LINES = Number(process.env.LOUPE_BENCH_LIVE_LINES ?? 200);
const INTERVAL_MS = Number(process.env.LOUPE_BENCH_LIVE_INTERVAL_MS ?? 50);
/** The markers are found by this pattern in the pane, on disk and in the writer. */
const MARKER = /LAT (\d+) (\d+)/g;

/** The agent program: waits for the go file, then writes one marker line every INTERVAL_MS. */
const WRITER = `
const fs = require('node:fs');
const [go, lines, interval] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
console.log('ready');
const wait = setInterval(() => {
  if (!fs.existsSync(go)) return;
  clearInterval(wait);
  let n = 0;
  const tick = () => {
    n++;
    process.stdout.write('LAT ' + n + ' ' + Date.now() + '\\n');
    if (n < lines) setTimeout(tick, interval);
    else setTimeout(() => {}, 3600e3);
  };
  tick();
}, 10);
`;

const live = await startLive();
try {
  const writerFile = path.join(live.root, 'latency-writer.cjs');
  const goFile = path.join(live.root, 'latency-go');
  fs.writeFileSync(writerFile, WRITER);
  const { agentId, logFile } = await live.runAgent('latency', [process.execPath, writerFile, goFile, String(LINES), String(INTERVAL_MS)]);
  // In the page: note when each marker first arrives over the WebSocket, before the pane gets it.
  await live.page.addInitScript(() => {
    const arrived = {};
    window.__loupeBenchArrived = arrived;
    const NativeWebSocket = window.WebSocket;
    window.WebSocket = class extends NativeWebSocket {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (event) => {
          const now = Date.now();
          for (const m of String(event.data).matchAll(/LAT (\d+) (\d+)/g)) if (!(m[1] in arrived)) arrived[m[1]] = now;
        });
      }
    };
  });
  await live.openApp();
  await live.openAgent(agentId);
  await live.page.waitForFunction((id) => /ready/.test(window.loupeDebug?.paneText(id, 'screen') ?? ''), agentId, { timeout: 60_000 });

  // In the page: note the wall-clock time each marker first appears on the pane's screen.
  await live.page.evaluate((id) => {
    const seen = {};
    window.__loupeBenchSeen = seen;
    const scan = () => {
      const now = Date.now();
      const text = window.loupeDebug?.paneText(id, 'screen') ?? '';
      for (const m of text.matchAll(/LAT (\d+) (\d+)/g)) if (!(m[1] in seen)) seen[m[1]] = { sent: Number(m[2]), shown: now };
      requestAnimationFrame(scan);
    };
    requestAnimationFrame(scan);
  }, agentId);

  // Here: note when each marker's entry is on disk (polling new bytes of the JSONL), and its capture stamp.
  const onDisk = new Map();
  let offset = fs.statSync(logFile).size;
  let pending = '';
  const readNew = () => {
    const fd = fs.openSync(logFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= offset) return;
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      const now = Date.now();
      const lines = (pending + buf.toString('utf8')).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const entry = JSON.parse(line);
        for (const m of entry.content.matchAll(MARKER)) {
          if (!onDisk.has(m[1])) onDisk.set(m[1], { sent: Number(m[2]), disk: now, captured: Date.parse(entry.timestamp) });
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  const poller = setInterval(readNew, 2);
  fs.writeFileSync(goFile, '');
  await waitFor('every marker on disk', () => onDisk.size >= LINES, 60_000 + LINES * INTERVAL_MS * 4);
  clearInterval(poller);
  const seen = await waitFor(
    'every marker in the pane',
    () => live.page.evaluate((n) => (Object.keys(window.__loupeBenchSeen).length >= n ? window.__loupeBenchSeen : null), LINES),
    30_000,
    200,
  ).catch(() => live.page.evaluate(() => window.__loupeBenchSeen));

  const arrived = await live.page.evaluate(() => window.__loupeBenchArrived);
  const shown = Object.values(seen).map((s) => s.shown - s.sent);
  const disk = [...onDisk.values()].map((s) => s.disk - s.sent);
  const captured = [...onDisk.values()].map((s) => s.captured - s.sent);
  const fmt = (v) => `${v.toFixed(0)} ms`;
  console.log(`${LINES} lines, one every ${INTERVAL_MS} ms; ${loadNote()}`);
  header();
  row('live latency p50 (tmux → pane)', fmt(percentile(shown, 50)), `on disk ${fmt(percentile(disk, 50))}`, '<= 30 ms', percentile(shown, 50) <= 30);
  row('live latency p99 (tmux → pane)', fmt(percentile(shown, 99)), `on disk ${fmt(percentile(disk, 99))}`, '<= 100 ms', percentile(shown, 99) <= 100);
  row('  write → capture read p50/p99', `${fmt(percentile(captured, 50))} / ${fmt(percentile(captured, 99))}`, '', '', null);
  const both = Object.entries(seen).filter(([n]) => onDisk.has(n) && n in arrived);
  const stage = (what, values) => row(`  ${what} p50/p99`, `${fmt(percentile(values, 50))} / ${fmt(percentile(values, 99))}`, '', '', null);
  stage('disk → WebSocket', both.map(([n]) => arrived[n] - onDisk.get(n).disk));
  stage('WebSocket → pane', both.map(([n, s]) => s.shown - arrived[n]));
  row('markers missing from the pane', String(LINES - shown.length), `on disk: ${LINES - disk.length} missing`, '0', shown.length === LINES);
} finally {
  await live.stop();
}
