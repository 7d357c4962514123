// Shared output format for benchmarks: one row per figure, beside its baseline and goal, and the
// machine's load before and after (SPEC §10: a figure counts only when the load average stayed
// below 1.5 on 2 cores; one taken under more load is marked NOT VALID in the output).
import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** The highest 1-minute load average at which a figure is still valid (SPEC §10, 2 cores). */
export const MAX_VALID_LOAD = 1.5;
/** The load `waitForQuiet` waits for before a bench's next step. */
const QUIET_LOAD = 1.0;

/** The 1-minute load average when `header()` ran: the "before" of every figure of this bench. */
let loadBefore = null;

/** Prints `uptime` (its load averages) with a label, and returns the 1-minute load. */
export function printUptime(when) {
  const r = spawnSync('uptime', { encoding: 'utf8' });
  const load = os.loadavg()[0];
  console.log(`uptime ${when}: ${r.status === 0 ? r.stdout.trim() : `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`}`);
  return load;
}

/** Whether the load is too high for a figure to count, before the bench and now. */
function underLoad() {
  return Math.max(loadBefore ?? 0, os.loadavg()[0]) > MAX_VALID_LOAD;
}

/**
 * Prints one figure. A figure taken while the load average is above MAX_VALID_LOAD (at the
 * header or now) is marked NOT VALID, with that load.
 * @param {string} what       e.g. "capture throughput"
 * @param {string} value      e.g. "33.1 MB/s"
 * @param {string} baseline   e.g. "cat: 35.0 MB/s" ("" when the figure has none)
 * @param {string} goal       e.g. ">= 90% of baseline"
 * @param {boolean|null} met  whether the goal is met (null: no goal)
 */
export function row(what, value, baseline = '', goal = '', met = null) {
  const mark = met === null ? '' : met ? 'MET ' : 'MISS';
  const validity = underLoad() ? ` NOT VALID (load ${Math.max(loadBefore ?? 0, os.loadavg()[0]).toFixed(1)})` : '';
  console.log(`${what.padEnd(44)} ${value.padStart(16)}   ${baseline.padEnd(30)} ${goal.padEnd(24)} ${mark}${validity}`);
}

/**
 * Waits until the 1-minute load average is back to QUIET_LOAD (at most `maxMs`), for a bench whose
 * own earlier step (a burst that keeps both cores busy) would otherwise leave the next figures
 * taken under its load. Prints how long it waited.
 */
export async function waitForQuiet(maxMs = 180_000) {
  const started = performance.now();
  while (os.loadavg()[0] > QUIET_LOAD && performance.now() - started < maxMs) await new Promise((r) => setTimeout(r, 2000));
  console.log(`(waited ${((performance.now() - started) / 1000).toFixed(0)} s for the load to fall to ${os.loadavg()[0].toFixed(2)})`);
}

/** The p-th percentile (0-100) of a list of numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Starts a bench's table: prints `uptime` now and, when the process exits, again, with a verdict
 * on whether its figures count.
 */
export function header() {
  if (loadBefore === null) {
    loadBefore = printUptime('before');
    process.once('exit', () => {
      const after = printUptime('after');
      const worst = Math.max(loadBefore, after);
      if (worst > MAX_VALID_LOAD) console.log(`NOT VALID: load average ${worst.toFixed(2)} > ${MAX_VALID_LOAD} on ${os.cpus().length} cores; re-run on a quiet machine`);
      else console.log(`valid: load average stayed <= ${MAX_VALID_LOAD} (before ${loadBefore.toFixed(2)}, after ${after.toFixed(2)})`);
    });
  }
  console.log(`${'figure'.padEnd(44)} ${'value'.padStart(16)}   ${'baseline (same run)'.padEnd(30)} ${'goal'.padEnd(24)}`);
}

/** Whether `perf stat` can count task-clock here (it needs perf and a kernel that allows it). */
let perfWorks = null;

/**
 * CPU milliseconds of one run of a command: perf's task-clock (all its threads and children), else
 * GNU time's user + sys (10 ms steps). Throws when it exits with a status not in `okStatus`.
 */
function cpuOfRun(command, args, env, okStatus) {
  perfWorks ??= spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', 'true'], { encoding: 'utf8' }).status === 0;
  const [tool, toolArgs] = perfWorks ? ['perf', ['stat', '-x,', '-e', 'task-clock']] : ['/usr/bin/time', ['-f', '%U %S']];
  const r = spawnSync(tool, [...toolArgs, command, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 28, stdio: ['ignore', 'ignore', 'pipe'] });
  const failed = () => new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim().slice(-500)}`);
  if (!okStatus.includes(r.status)) throw failed();
  if (perfWorks) {
    const line = r.stderr.split('\n').find((l) => l.includes(',task-clock'));
    if (line === undefined) throw failed();
    return Number(line.split(',')[0]);
  }
  const times = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  if (times.length !== 2 || times.some(Number.isNaN)) throw failed();
  return (times[0] + times[1]) * 1000;
}

/**
 * Runs a command and returns its fastest wall time and CPU time (user + sys of the process, its
 * threads and its children) over `runs` runs, in milliseconds. The minimum of several runs is
 * robust to other load; CPU time does not count waiting for a core. With `runs` > 1 the wall time
 * comes from separate runs without the CPU counter (perf adds 20-40 ms to a process start); with
 * one run, for long commands, it is the counted run's. Throws when the command exits with a
 * status not in `okStatus` (rg exits 1 when nothing matches).
 */
export function timeProcess(command, args, { runs = 1, env = process.env, okStatus = [0] } = {}) {
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    cpuMs = Math.min(cpuMs, cpuOfRun(command, args, env, okStatus));
    if (runs === 1) {
      wallMs = performance.now() - started;
      break;
    }
    const wallStarted = performance.now();
    const r = spawnSync(command, args, { env, stdio: 'ignore' });
    if (!okStatus.includes(r.status)) throw new Error(`${command} ${args.join(' ')} failed (${r.status})`);
    wallMs = Math.min(wallMs, performance.now() - wallStarted);
  }
  return { wallMs, cpuMs };
}
