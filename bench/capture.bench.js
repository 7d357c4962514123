// Capture benchmarks (SPEC §10), against the real capture daemon (`loupe daemon`, a separate
// process, as `loupe run` starts it) on a private tmux server:
// - throughput and lost lines of a `seq` burst, beside `tmux pipe-pane 'cat >> file'` measured in
//   the same run (both started alike: a pane blocked on `read`, the pipe or capture attached, then
//   one keystroke), RUNS times each (the machines we bench on are shared: the spread is printed),
//   and the CPU time the daemon spent on a burst beside the tmux server's for the same burst: when
//   the daemon needs less CPU than tmux, capture keeps up with tmux wherever a second core is free;
//   when it gets no core of its own (a loaded machine), the wall-clock ratio shows that instead;
// - latency from a line written in the pane to its entry on disk: a program in the pane stamps
//   each line with the time it writes it, and this process notes when the entry appears in the
//   log (inotify, with a 2 ms poll as a fallback), so tmux client start-up is not in the figure;
//   the same program piped to `cat >> file` at the same time is the baseline (tmux's own share);
// - PSS and idle CPU of everything that captures N idle panes: the daemon plus every helper
//   process (sh + cat); tmux itself is not counted.
//
// Sizes: LOUPE_BENCH_CAPTURE_LINES (default 1,000,000 lines per burst), LOUPE_BENCH_CAPTURE_RUNS (3),
// LOUPE_BENCH_CAPTURE_LATENCY_SAMPLES (300), LOUPE_BENCH_CAPTURE_PANES (100),
// LOUPE_BENCH_CAPTURE_IDLE_SECONDS (10).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { header, percentile, row } from './report.js';
import { killTmuxServer } from './live-harness.js';

const LINES = Number(process.env.LOUPE_BENCH_CAPTURE_LINES ?? 1_000_000);
const RUNS = Number(process.env.LOUPE_BENCH_CAPTURE_RUNS ?? 3);
const LATENCY_SAMPLES = Number(process.env.LOUPE_BENCH_CAPTURE_LATENCY_SAMPLES ?? 300);
const PANES = Number(process.env.LOUPE_BENCH_CAPTURE_PANES ?? 100);
const IDLE_SECONDS = Number(process.env.LOUPE_BENCH_CAPTURE_IDLE_SECONDS ?? 10);
/** Pause between latency samples: output that trickles, as an agent's does. */
const LATENCY_GAP_MS = 25;

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-capture-'));
process.env.LOUPE_STATE_DIR = path.join(base, 'state');
const root = path.join(base, 'root');
fs.mkdirSync(root);
// No rotation mid-burst: lost lines are counted from the live log alone.
fs.writeFileSync(path.join(root, 'loupe.config.json'), JSON.stringify({ rotateBytes: 2 ** 40 }));
const socket = `loupe-bench-${randomBytes(4).toString('hex')}`;
const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const loupeBin = fileURLToPath(new URL('../bin/loupe.js', import.meta.url));

const { runAgent } = await import('../dist/electron/core/capture/session.js');
const { isHostRunning } = await import('../dist/electron/core/capture/host-lock.js');
const { entryTerminalText, parseTimestamp } = await import('../dist/shared/entry.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond, timeoutMs, everyMs = 5) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await cond();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(everyMs);
  }
}
const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
/** The last few KB of a file: cheap to poll. */
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
const readEntries = (file) => fs.readFileSync(file, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l));
const median = (values) => percentile(values, 50);
const spread = (values, digits = 1) => values.map((v) => v.toFixed(digits)).join(' / ');

/** /proc/<pid>/stat CPU ticks of a process, and with `children` of those it has waited for (the daemon's tmux calls). */
function cpuTicks(pid, children = true) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return 0;
  }
}
function pssKb(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
/** The helper processes of this socket's pipes: each loupe-pipe.sh and its children (cat). */
function helperPids() {
  const pids = [];
  for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.includes('loupe-pipe.sh') || !cmd.includes(socket)) continue;
      pids.push(Number(p));
      const kids = fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      if (kids) pids.push(...kids.split(/\s+/).map(Number));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

tmux('new-session', '-d', '-s', 'keepalive', 'sleep 100000');
const tmuxServerPid = Number(tmux('display-message', '-p', '#{pid}').trim());
const daemon = spawn(process.execPath, [loupeBin, 'daemon', '--socket', socket], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
});
const daemonCpu = () => cpuTicks(daemon.pid);
const daemonOwnCpu = () => cpuTicks(daemon.pid, false);
await waitFor(() => isHostRunning(socket), 30_000, 50);
header();

try {
  // Throughput: the same `seq` burst through `pipe-pane 'cat >> file'` and through Loupe.
  const baseline = { mbs: [], lps: [], tmuxCpu: [] };
  const loupe = { mbs: [], lps: [], lost: [], cpu: [], ownCpu: [] };
  // Both sides start the same way: the pane blocks on `read`; once the pipe or the capture is
  // attached, a first keystroke makes it print `ready` and block again; once `ready` is on disk
  // (the output flows), a second keystroke releases the burst, and the clock runs from that
  // keystroke to the burst's last line on disk.
  const burst = (tail) => `read attached; echo ready; read go; seq 1 ${LINES}; ${tail}`;
  const release = (target) => tmux('send-keys', '-t', target, 'Enter');
  for (let run = 0; run < RUNS; run++) {
    const baselineFile = path.join(base, `baseline-${run}.txt`);
    const pane = tmux('new-window', '-d', '-P', '-F', '#{pane_id}', '-n', `baseline-${run}`, 'sh', '-c', burst('sleep 100000')).trim();
    tmux('pipe-pane', '-O', '-t', pane, `cat >> ${baselineFile}`);
    release(pane);
    await waitFor(() => tailText(baselineFile, 64).includes('ready'), 60_000);
    const tmuxCpu0 = cpuTicks(tmuxServerPid, false);
    const b0 = performance.now();
    release(pane);
    await waitFor(() => tailText(baselineFile, 64).endsWith(`\n${LINES}\r\n`), 300_000);
    const baselineSecs = (performance.now() - b0) / 1000;
    baseline.tmuxCpu.push((cpuTicks(tmuxServerPid, false) - tmuxCpu0) / 100);
    const bytes = fs.statSync(baselineFile).size;
    tmux('kill-window', '-t', `baseline-${run}`);
    fs.rmSync(baselineFile);
    baseline.mbs.push(bytes / baselineSecs / 1e6);
    baseline.lps.push(LINES / baselineSecs);

    const started = await runAgent({ root, socket, name: `throughput-${run}`, command: ['sh', '-c', burst('sleep 0.5')], startHost: false });
    release(started.paneId);
    await waitFor(() => tailText(started.logFile).includes('"content":"ready\\r"'), 60_000);
    const cpu0 = daemonCpu();
    const ownCpu0 = daemonOwnCpu();
    const l0 = performance.now();
    release(started.paneId);
    await waitFor(() => tailText(started.logFile).includes(`"content":"${LINES}\\r"`), 600_000);
    const loupeSecs = (performance.now() - l0) / 1000;
    loupe.cpu.push((daemonCpu() - cpu0) / 100);
    loupe.ownCpu.push((daemonOwnCpu() - ownCpu0) / 100);
    loupe.mbs.push(bytes / loupeSecs / 1e6);
    loupe.lps.push(LINES / loupeSecs);
    // Lost: any of 1..LINES missing from the stdout entries, in order, once the capture has ended.
    await waitFor(() => tailText(started.logFile).includes('"event":"terminated"'), 60_000, 50);
    // The byte stream is rebuilt first: under load tmux may pause mid-line, and an idle line is
    // flushed as `partial` chunks (SPEC §3).
    const stream = readEntries(started.logFile).map(entryTerminalText).join('');
    let expected = 1;
    for (const line of stream.split('\n')) if (line === `${expected}\r`) expected++;
    loupe.lost.push(LINES - (expected - 1));
    fs.rmSync(started.logFile);
  }
  const ratio = median(loupe.mbs) / median(baseline.mbs);
  row(`capture throughput (median of ${RUNS})`, `${median(loupe.mbs).toFixed(1)} MB/s`, `cat: ${median(baseline.mbs).toFixed(1)} MB/s`, '>= 90% of baseline', ratio >= 0.9);
  row('capture lines/s (median)', `${Math.round(median(loupe.lps) / 1000)}k`, `cat: ${Math.round(median(baseline.lps) / 1000)}k`, '>= 90% of baseline', ratio >= 0.9);
  row('  runs, MB/s', spread(loupe.mbs), `cat: ${spread(baseline.mbs)}`, '', null);
  row('  CPU s per burst: Loupe daemon', spread(loupe.cpu, 2), `tmux server: ${spread(baseline.tmuxCpu, 2)}`, 'below tmux: keeps up', median(loupe.cpu) < median(baseline.tmuxCpu));
  row('  of which the daemon itself (no tmux calls)', spread(loupe.ownCpu, 2), '', '', null);
  row('lost lines (all runs)', String(loupe.lost.reduce((a, b) => a + b, 0)), '', '0', loupe.lost.every((n) => n === 0));

  // Latency: a program in the pane stamps each line as it writes it; we note when its entry lands.
  const script = path.join(base, 'ticks.mjs');
  fs.writeFileSync(
    script,
    `import fs from 'node:fs';
const now = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
pause(500);
for (let i = 0; i < ${LATENCY_SAMPLES}; i++) {
  fs.writeSync(1, 'tick ' + i + ' ' + now() + '\\n');
  pause(${LATENCY_GAP_MS} * (0.5 + Math.random()));
}
`,
  );
  // The same program at the same time in a pane piped to `cat >> file`: the latency of tmux and
  // its pipe alone, under the same load, as the baseline.
  const baselineTicks = path.join(base, 'baseline-ticks.txt');
  fs.writeFileSync(baselineTicks, '');
  tmux('new-window', '-d', '-n', 'latency-baseline', `tmux wait-for bench-ticks; exec ${process.execPath} ${script}`);
  tmux('pipe-pane', '-O', '-t', 'latency-baseline', `cat >> ${baselineTicks}`);
  tmux('wait-for', '-S', 'bench-ticks');
  const lat = await runAgent({ root, socket, name: 'latency', command: [process.execPath, script], startHost: false });
  const onDisk = [];
  const atRead = [];
  const viaCat = [];
  /** Follows a growing file; calls `onLine(line, seenMicros)` for each complete line. */
  const follow = (file, onLine) => {
    let offset = 0;
    let rest = '';
    const scan = () => {
      const fd = fs.openSync(file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size <= offset) return;
        const buf = Buffer.alloc(size - offset);
        fs.readSync(fd, buf, 0, buf.length, offset);
        offset = size;
        const seen = nowMicros();
        const lines = (rest + buf.toString('utf8')).split('\n');
        rest = lines.pop();
        for (const line of lines) onLine(line, seen);
      } finally {
        fs.closeSync(fd);
      }
    };
    const watcher = fs.watch(file, scan);
    const poll = setInterval(scan, 2);
    return () => {
      clearInterval(poll);
      watcher.close();
    };
  };
  const stopLoupe = follow(lat.logFile, (line, seen) => {
    const m = /"timestamp":"([^"]+)".*"content":"tick \d+ (\d+)\\r"/.exec(line);
    if (!m) return;
    onDisk.push((seen - Number(m[2])) / 1000);
    atRead.push((parseTimestamp(m[1]) - Number(m[2])) / 1000);
  });
  const stopCat = follow(baselineTicks, (line, seen) => {
    const m = /^tick \d+ (\d+)\r$/.exec(line);
    if (m) viaCat.push((seen - Number(m[1])) / 1000);
  });
  await waitFor(() => onDisk.length >= LATENCY_SAMPLES && viaCat.length >= LATENCY_SAMPLES, 120_000, 20);
  stopLoupe();
  stopCat();
  try {
    tmux('kill-window', '-t', 'latency-baseline');
  } catch {
    // the program ended and its window closed
  }
  row('capture latency p50: written → entry on disk', `${percentile(onDisk, 50).toFixed(1)} ms`, `cat: ${percentile(viaCat, 50).toFixed(1)} ms`, '', null);
  row('capture latency p99: written → entry on disk', `${percentile(onDisk, 99).toFixed(1)} ms`, `cat: ${percentile(viaCat, 99).toFixed(1)} ms`, '<= 60 ms', percentile(onDisk, 99) <= 60);
  row('  written → read by capture p50 / p99', `${percentile(atRead, 50).toFixed(1)} / ${percentile(atRead, 99).toFixed(1)} ms`, `${onDisk.length} samples, ${LATENCY_GAP_MS} ms apart`, '', null);

  // Memory and idle CPU with N idle captured panes: the daemon + every helper (sh + cat).
  for (let i = 0; i < PANES; i++) {
    await runAgent({ root, socket, name: `idle-${i}`, command: ['sh', '-c', 'echo ready; exec sleep 100000'], startHost: false });
  }
  await waitFor(() => helperPids().length >= 2 * PANES, 60_000, 100);
  await sleep(2000); // the daemon settles: every capture opened, start-up garbage collected
  const helpers = helperPids();
  const daemonPss = pssKb(daemon.pid);
  const helperPss = helpers.reduce((s, p) => s + pssKb(p), 0);
  const all = [daemon.pid, ...helpers];
  const c0 = all.reduce((s, p) => s + cpuTicks(p), 0);
  const w0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const idleCpu = ((all.reduce((s, p) => s + cpuTicks(p), 0) - c0) / 100 / ((performance.now() - w0) / 1000)) * 100;
  const totalMb = (daemonPss + helperPss) / 1024;
  row(`PSS of capture, ${PANES} idle panes`, `${totalMb.toFixed(0)} MB`, `daemon ${(daemonPss / 1024).toFixed(0)} MB + ${helpers.length} helpers ${(helperPss / 1024).toFixed(0)} MB`, '<= 1024 MB', totalMb <= 1024);
  row(`idle CPU of capture, ${PANES} panes, ${IDLE_SECONDS} s`, `${idleCpu.toFixed(2)} %`, 'one Node per pane: ~41 MB RSS each', '< 1 %', idleCpu < 1);
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => (daemon.exitCode !== null ? r() : daemon.once('exit', r)));
  killTmuxServer(socket);
  // Helpers of killed panes may still touch their EOF markers for a moment.
  await sleep(500);
  try {
    fs.rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch {
    await sleep(2000); // a helper of a killed pane was still finishing its spool
    fs.rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}
