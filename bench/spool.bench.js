// The spool → JSONL converter alone (SpoolCapture, the capture host's per-pane work), on one core:
// a spool of realistic pane output (CRLF lines as a tty writes them, colors, warnings, tool calls,
// an error now and then) converted to classified, timestamped JSONL. The baseline, measured in the
// same run, is the least any converter must do: read the spool and append its bytes to a file.
// CPU time is reported beside wall time because the machines we bench on are shared.
// LOUPE_BENCH_SPOOL_MB sets the spool size (default 64 MB); LOUPE_BENCH_SPOOL_RUNS the repeats (3);
// LOUPE_BENCH_SPOOL_KIND=seq converts `seq` output (short lines) instead of the mix.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { header, row } from './report.js';

const MB = Number(process.env.LOUPE_BENCH_SPOOL_MB ?? 64);
const RUNS = Number(process.env.LOUPE_BENCH_SPOOL_RUNS ?? 3);
/** The converter must stay well above the SPEC §10 baseline (480k lines/s through tmux). */
const GOAL_LINES_PER_S = 1_000_000;
const GOAL_MB_PER_S = 50;

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-spool-'));
process.env.LOUPE_STATE_DIR = path.join(base, 'state');
const { SpoolCapture } = await import('../dist/electron/core/capture/spool-capture.js');
const { createClassifier } = await import('../dist/electron/core/capture/classify.js');

/** One line of a realistic mix, as the pane's tty writes it (`\r\n`); or `seq` output, as capture.bench.js writes. */
const line = process.env.LOUPE_BENCH_SPOOL_KIND === 'seq' ? (i) => `${i + 1}\r\n` : mixedLine;
function mixedLine(i) {
  if (i % 997 === 0) return `\u001b[31mError:\u001b[0m request ${i} failed with status 500\r\n`;
  if (i % 101 === 0) return `src/mod${i % 300}.c:${i % 900}:9: \u001b[35mwarning:\u001b[0m unused variable 'tmp${i}'\r\n`;
  if (i % 53 === 0) return `⏺ Bash(npm test -- --grep case${i})\r\n`;
  if (i % 7 === 0) return `${i}\r\n`;
  if (i % 2 === 0) return `[${String(i % 100).padStart(3)}%] \u001b[32mBuilding C object\u001b[0m src/core/file_${i}.c.o\r\n`;
  return `  compiling module_${i % 5000}.ts ... ok (${i % 97} ms) — 日本\r\n`;
}

function writeSpool(file, bytes) {
  const fd = fs.openSync(file, 'w');
  let lines = 0;
  let size = 0;
  let batch = [];
  while (size < bytes) {
    const l = line(lines++);
    batch.push(l);
    size += Buffer.byteLength(l);
    if (batch.length === 10_000) {
      fs.writeSync(fd, batch.join(''));
      batch = [];
    }
  }
  fs.writeSync(fd, batch.join(''));
  fs.closeSync(fd);
  return { lines, size };
}

function record(n, logFile) {
  return {
    captureId: `bench-${n}`,
    socketName: 'bench',
    paneId: '%0',
    session: 'bench',
    agentId: 'bench',
    taskId: 'TASK-20260101-000000-00000000',
    root: base,
    logFile,
    method: 'pipe-pane',
    command: 'bench',
    phase: 'capturing',
    createdAt: Date.now(),
    cols: 80,
    rows: 24,
    killDeadPane: false,
    offset: 0,
    sequence: 0,
  };
}

function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

try {
  const spool = path.join(base, 'pane.spool');
  const { lines, size } = writeSpool(spool, MB * 2 ** 20);
  const dir = path.join(base, 'state');
  fs.mkdirSync(dir, { recursive: true });
  const convert = [];
  const copy = [];
  for (let r = 0; r < RUNS; r++) {
    const logFile = path.join(base, `run${r}_stream.jsonl`);
    // A copy per run: the capture frees the spool blocks it has converted (punch-hole).
    const runSpool = path.join(base, `run${r}.spool`);
    fs.copyFileSync(spool, runSpool);
    const capture = new SpoolCapture(dir, runSpool, record(r, logFile), createClassifier(), { rotateBytes: 2 ** 40 });
    convert.push(timed(() => capture.drain()));
    capture.dispose();
    const entries = fs.readFileSync(logFile, 'utf8').split('\n').length - 1;
    if (entries !== lines) throw new Error(`converter wrote ${entries} entries for ${lines} lines`);
    fs.rmSync(logFile);
    fs.rmSync(runSpool);
    // Baseline: read the spool in 1 MiB chunks and append each chunk to a file.
    const copyFile = path.join(base, `copy${r}`);
    copy.push(
      timed(() => {
        const src = fs.openSync(spool, 'r');
        const dst = fs.openSync(copyFile, 'a');
        const buf = Buffer.allocUnsafe(2 ** 20);
        for (let n; (n = fs.readSync(src, buf, 0, buf.length, null)) > 0; ) fs.writeSync(dst, buf, 0, n);
        fs.closeSync(src);
        fs.closeSync(dst);
      }),
    );
    fs.rmSync(copyFile);
  }
  const best = (runs, key) => Math.min(...runs.map((r) => r[key]));
  const spread = (runs, key, f) => runs.map((r) => f(r[key])).join(' / ');
  const mbs = (s) => (size / 2 ** 20 / s).toFixed(0);
  const klps = (s) => Math.round(lines / s / 1000).toLocaleString('en');
  header();
  const cpuBest = best(convert, 'cpu');
  row(`spool→JSONL, ${MB} MB (CPU time)`, `${mbs(cpuBest)} MB/s`, `read+append: ${mbs(best(copy, 'cpu'))} MB/s`, `>= ${GOAL_MB_PER_S} MB/s`, size / 2 ** 20 / cpuBest >= GOAL_MB_PER_S);
  row(`spool→JSONL lines/s (CPU time)`, `${klps(cpuBest)}k/s`, `${lines.toLocaleString('en')} lines`, `>= ${GOAL_LINES_PER_S / 1000}k/s`, lines / cpuBest >= GOAL_LINES_PER_S);
  row(`  runs, CPU MB/s`, spread(convert, 'cpu', mbs), `read+append: ${spread(copy, 'cpu', mbs)}`, '', null);
  row(`  runs, wall MB/s`, spread(convert, 'wall', mbs), `read+append: ${spread(copy, 'wall', mbs)}`, '', null);
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
