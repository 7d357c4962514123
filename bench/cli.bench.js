// CLI start (issue 15: ≤ 70 ms for `search`, `tail` and `ls` on a small root; Node alone is about
// 50 ms): the fastest of LOUPE_BENCH_CLI_RUNS runs (default 20) of each command, wall and CPU
// time, beside `node -e 0` in the same run. The small root (3 agents, 2,000 entries) is indexed
// once first, so `search` measures start-up and a query, not indexing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { header, row, timeProcess } from './report.js';
import { generateArchive, TASK } from './synthetic-archive.js';

const RUNS = Number(process.env.LOUPE_BENCH_CLI_RUNS ?? 20);
const GOAL_MS = 70;
const loupe = fileURLToPath(new URL('../bin/loupe.js', import.meta.url));
const root = fileURLToPath(new URL('./out/cli-small/', import.meta.url));
generateArchive(root, 2000);
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-bench-cli-'));
// A private state folder and tmux socket: `ls` asks tmux, and must not ask the default server.
const env = { ...process.env, LOUPE_STATE_DIR: state };
const socket = ['--socket', `loupe-bench-cli-${process.pid}`];
timeProcess(process.execPath, [loupe, 'search', 'x', '--root', root], { env });

header();
const node = timeProcess(process.execPath, ['-e', '0'], { runs: RUNS, env });
row(`node -e 0 (fastest of ${RUNS})`, `${node.wallMs.toFixed(1)} ms`, `CPU ${node.cpuMs.toFixed(1)} ms`);
const commands = [
  { what: 'loupe --help', args: ['--help'] },
  { what: 'loupe search (rare term, indexed root)', args: ['search', 'ZebraQuuxFault', '--root', root], goal: true },
  { what: 'loupe tail -n 100', args: ['tail', '-n', '100', '--root', root, '--task', TASK, 'agent-0'], goal: true },
  { what: 'loupe ls', args: ['ls', '--root', root, ...socket], goal: true },
];
for (const c of commands) {
  const t = timeProcess(process.execPath, [loupe, ...c.args], { runs: RUNS, env });
  row(`${c.what}`, `${t.wallMs.toFixed(1)} ms`, `CPU ${t.cpuMs.toFixed(1)} ms; node ${node.wallMs.toFixed(0)} ms`, c.goal ? `<= ${GOAL_MS} ms` : '', c.goal ? t.wallMs <= GOAL_MS : null);
}
fs.rmSync(state, { recursive: true, force: true });
