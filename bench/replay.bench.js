// Replay seek latency on a big run (SPEC §10: ≤ 100 ms to a rendered screen, any point of a 1 GB
// run), in Node with @xterm/headless: restore the nearest keyframe + replay the delta, then render
// the screen rows. Baseline in the same run: replaying from the start to the same points.
// Also: keyframe build time while indexing (one pass over the run), keyframe storage as % of the
// log size, and the first seek once they are made.
// LOUPE_BENCH_REPLAY_MB sets the log size (default 1024 MB, as the issue asks);
// LOUPE_BENCH_REPLAY_SEEKS the random seeks (default 30); LOUPE_BENCH_REPLAY_BASELINE the
// from-start replays (default 3: each reads half the run on average).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { header, percentile, row } from './report.js';
import { screenText } from '../dist/shared/terminal-state.js';
import { seekReplay, updateKeyframes } from '../dist/electron/core/replay/seek.js';
import { KeyframeStore, KEYFRAME_INTERVAL_BYTES } from '../dist/electron/core/replay/keyframes.js';
import { random } from '../dist/electron/core/replay/test-support.js';
import { writeSyntheticRun } from './synthetic-run.js';

const MB = Number(process.env.LOUPE_BENCH_REPLAY_MB ?? 1024);
const SEEKS = Number(process.env.LOUPE_BENCH_REPLAY_SEEKS ?? 30);
const BASELINE = Number(process.env.LOUPE_BENCH_REPLAY_BASELINE ?? 3);
const GOAL_MS = 100;
const here = fileURLToPath(new URL('.', import.meta.url));
const root = path.join(here, 'out', `replay-${MB}mb`);
const taskId = 'TASK-20260101-000000-0a1b2c3d';
const agentId = 'bench-agent';
const log = { root, taskId, agentId, file: path.join(root, '.agent-workspace', taskId, 'logs', `${agentId}_stream.jsonl`) };

async function timeSeek(seq, keyframes) {
  const t0 = performance.now();
  const screen = await seekReplay(log, { seq }, { keyframes });
  screenText(screen.replayer.terminal.term);
  const ms = performance.now() - t0;
  screen.dispose();
  return ms;
}

const lastSeq = writeSyntheticRun(log, { megabytes: MB, seed: 1, resizes: true });
const logBytes = fs.statSync(log.file).size;
console.log(`run: ${(logBytes / 2 ** 20).toFixed(0)} MB of JSONL, ${lastSeq} entries; keyframe every ${KEYFRAME_INTERVAL_BYTES / 1024} KiB of output`);
header();

// Keyframes are a cache, made while indexing (`loupe reindex` and the backends' index worker call
// updateKeyframes for every agent with new output): build them from scratch, in one pass.
const store = KeyframeStore.forLog(log);
store.clear();
const t0 = performance.now();
await updateKeyframes(log);
const buildSeconds = (performance.now() - t0) / 1000;
const frames = KeyframeStore.forLog(log).list().length;
const stored = KeyframeStore.forLog(log).sizeOnDisk();
row('keyframe build while indexing (one pass)', `${buildSeconds.toFixed(1)} s`, `${(logBytes / 2 ** 20 / buildSeconds).toFixed(1)} MB/s of JSONL`, '', null);
row('keyframe storage', `${((100 * stored) / logBytes).toFixed(2)} %`, `${frames} keyframes, ${(stored / 2 ** 20).toFixed(1)} MB`, '', null);
// The first seek after indexing: a fresh process would read the stored keyframes the same way.
const firstSeekMs = await timeSeek(Math.max(1, Math.floor(lastSeq / 2)), true);
row('first seek into the indexed run (middle)', `${firstSeekMs.toFixed(1)} ms`, `lazy build before: ${buildSeconds.toFixed(1)} s`, `<= ${GOAL_MS} ms`, firstSeekMs <= GOAL_MS);

const r = random(42);
const targets = Array.from({ length: SEEKS }, () => 1 + Math.floor(r() * lastSeq));
const seekMs = [];
for (const seq of targets) seekMs.push(await timeSeek(seq, true));
const baselineMs = [];
for (const seq of targets.slice(0, BASELINE)) baselineMs.push(await timeSeek(seq, false));
const p50 = percentile(seekMs, 50);
const p99 = percentile(seekMs, 99);
const base = `from start: p50 ${percentile(baselineMs, 50).toFixed(0)} ms (${baselineMs.length} seeks)`;
row('seek to a rendered screen, p50 (Node)', `${p50.toFixed(1)} ms`, base, `<= ${GOAL_MS} ms`, p50 <= GOAL_MS);
row('seek to a rendered screen, p99 (Node)', `${p99.toFixed(1)} ms`, base, `<= ${GOAL_MS} ms`, p99 <= GOAL_MS);
