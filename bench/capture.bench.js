// Capture benchmarks (SPEC §10): throughput and lost lines against `tmux pipe-pane 'cat >> file'`
// in the same run, latency from a byte written in the pane to its entry on disk, and the memory
// and idle CPU of everything that captures N idle panes.
//
// Sizes: LOUPE_BENCH_CAPTURE_LINES (default 480000 lines), LOUPE_BENCH_CAPTURE_LATENCY_SAMPLES (200),
// LOUPE_BENCH_CAPTURE_PANES (100).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { header, percentile, row } from './report.js';

const LINES = Number(process.env.LOUPE_BENCH_CAPTURE_LINES ?? 480_000);
const LATENCY_SAMPLES = Number(process.env.LOUPE_BENCH_CAPTURE_LATENCY_SAMPLES ?? 200);
const PANES = Number(process.env.LOUPE_BENCH_CAPTURE_PANES ?? 100);

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-capture-'));
process.env.LOUPE_STATE_DIR = path.join(base, 'state');
const root = path.join(base, 'root');
fs.mkdirSync(root);
const socket = `loupe-bench-${randomBytes(4).toString('hex')}`;
const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });

const { CaptureHost } = await import('../dist/electron/core/capture/capture-host.js');
const { runAgent } = await import('../dist/electron/core/capture/session.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond, timeoutMs, everyMs = 5) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(everyMs);
  }
}
/** The last few KB of a file: cheap to poll without stealing the host's CPU (it runs in this process). */
function tailText(file, bytes = 4096) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(bytes, size));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
const readLines = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(0, -1) : []);
const terminated = (file) => {
  const lines = readLines(file);
  return lines.length > 0 && lines[lines.length - 1].includes('"event":"terminated"') ? lines : null;
};

tmux('new-session', '-d', '-s', 'keepalive', 'sleep 100000');
const host = new CaptureHost({ socketName: socket });
await host.start();
header();

try {
  // Baseline: the same burst through `pipe-pane 'cat >> file'`.
  const baselineFile = path.join(base, 'baseline.txt');
  const t0 = performance.now();
  tmux('new-window', '-d', '-n', 'baseline', `tmux wait-for bench-base; seq 1 ${LINES}; tmux wait-for -S bench-base-done`);
  tmux('pipe-pane', '-O', '-t', 'baseline', `cat >> ${baselineFile}`);
  tmux('wait-for', '-S', 'bench-base');
  const b0 = performance.now();
  tmux('wait-for', 'bench-base-done');
  await waitFor(() => tailText(baselineFile, 64).endsWith(`\n${LINES}\r\n`), 120_000);
  const baselineSecs = (performance.now() - b0) / 1000;
  const bytes = fs.statSync(baselineFile).size;
  void t0;

  // Loupe: helper + spool + host → JSONL, classified and timestamped.
  const started = await runAgent({ root, socket, name: 'throughput', command: ['sh', '-c', `seq 1 ${LINES}; sleep 0.5`], startHost: false });
  const l0 = performance.now();
  let doneAt = 0;
  await waitFor(() => {
    if (!tailText(started.logFile).includes(`"content":"${LINES}\\r"`)) return false;
    doneAt = performance.now();
    return true;
  }, 300_000);
  const loupeSecs = (doneAt - l0) / 1000;
  const entries = (await waitFor(() => terminated(started.logFile), 30_000), readLines(started.logFile));
  const stdout = entries.filter((l) => l.includes('"type":"stdout"')).length;
  const ratio = baselineSecs / loupeSecs;
  row('capture throughput', `${(bytes / loupeSecs / 1e6).toFixed(1)} MB/s`, `cat: ${(bytes / baselineSecs / 1e6).toFixed(1)} MB/s`, '>= 90% of baseline', ratio >= 0.9);
  row('capture lines/s', `${Math.round(LINES / loupeSecs)}`, `cat: ${Math.round(LINES / baselineSecs)}`, '>= 90% of baseline', ratio >= 0.9);
  row('lost lines', String(LINES - stdout), '', '0', LINES === stdout);

  // Latency: a line written in the pane → its entry on disk.
  const lat = await runAgent({ root, socket, name: 'latency', command: ['sh', '-c', 'while read n; do printf "tick %s\\n" "$n"; done'], startHost: false });
  const samples = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const before = fs.statSync(lat.logFile).size;
    const s0 = performance.now();
    tmux('send-keys', '-t', lat.paneId, '-l', `${i}\n`);
    // The echo of the typed line lands first; wait for the program's own output line.
    await waitFor(() => fs.statSync(lat.logFile).size > before && tailText(lat.logFile).includes(`"tick ${i}\\r"`), 10_000);
    samples.push(performance.now() - s0);
    await sleep(5);
  }
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  row('capture latency p50 (incl. tmux send-keys)', `${p50.toFixed(1)} ms`, '', '', null);
  row('capture latency p99 (incl. tmux send-keys)', `${p99.toFixed(1)} ms`, '', '<= 60 ms', p99 <= 60);
  tmux('kill-pane', '-t', lat.paneId);

  // Memory and idle CPU with N idle captured panes: the host (this process) + helpers (sh + cat).
  for (let i = 0; i < PANES; i++) {
    await runAgent({ root, socket, name: `idle-${i}`, command: ['sh', '-c', 'echo ready; sleep 100000'], startHost: false });
  }
  await host.superviseNow();
  await sleep(1000);
  const pids = [process.pid];
  for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes('loupe-pipe.sh') && cmd.includes(socket)) {
        pids.push(Number(p));
        const kids = fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
        if (kids) pids.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // gone
    }
  }
  const pssKb = (pid) => {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  const hostPss = pssKb(process.pid);
  const totalPss = pids.reduce((s, p) => s + pssKb(p), 0);
  const cpuTicks = (pid) => {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return 0;
    }
  };
  const c0 = pids.reduce((s, p) => s + cpuTicks(p), 0);
  const w0 = performance.now();
  await sleep(5000);
  const cpuPct = ((pids.reduce((s, p) => s + cpuTicks(p), 0) - c0) / 100 / ((performance.now() - w0) / 1000)) * 100;
  row(`PSS of capture, ${PANES} idle panes`, `${(totalPss / 1024).toFixed(0)} MB`, `host ${(hostPss / 1024).toFixed(0)} MB + ${pids.length - 1} helper procs`, '<= 1024 MB', totalPss / 1024 <= 1024);
  row(`idle CPU of capture, ${PANES} panes`, `${cpuPct.toFixed(2)} %`, 'one Node per pane: ~41 MB RSS each', '< 1 %', cpuPct < 1);
} finally {
  await host.dispose();
  try {
    tmux('kill-server');
  } catch {
    // gone
  }
  // Helpers of killed panes may still touch their EOF markers for a moment.
  await sleep(500);
  fs.rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
