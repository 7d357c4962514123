/**
 * Fidelity: real programs run in tmux under capture, and the screen replayed from the log equals
 * what tmux shows in that pane at the same moment (`capture-pane -p -e`): text, and colors after
 * both are read by the same terminal so SGR spellings compare equal.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenAnsi, screenText } from '../../../shared/terminal-state.js';
import { CaptureHost } from '../capture/capture-host.js';
import { runAgent } from '../capture/session.js';
import { createWorld, readEntries, waitFor, type TestWorld } from '../capture/test-support.js';
import { findAgentLog } from '../log/paths.js';
import { createReplayTerminal, feedTerminal } from './terminal.js';

const run = promisify(execFile);
const LOUPE = path.resolve('bin/loupe.js');

let world: TestWorld;
let host: CaptureHost;

beforeAll(async () => {
  world = createWorld();
  world.tmux('new-session', '-d', '-s', 'keepalive', 'sleep 600');
  host = new CaptureHost({ socketName: world.socket });
  expect(await host.start()).toBe(true);
});

afterAll(async () => {
  await host.dispose();
  world.cleanup();
});

/** The last line a script prints; once it is in the log, all output before it is too. */
const DONE = 'FIDELITY-DONE';

/** Runs `script` (sh) in a pane of `cols` × `rows` under capture; the pane stays open afterwards. */
async function startScript(name: string, script: string, cols = 80, rows = 24) {
  const file = path.join(world.root, `${name}.sh`);
  fs.writeFileSync(file, `${script}\nprintf '%s' '${DONE}'\nexec sleep 600\n`);
  return runAgent({ root: world.root, socket: world.socket, command: ['sh', file], name, cols, rows, startHost: false, cwd: world.root });
}

function logText(file: string): string {
  return readEntries(file).map((e) => e.content).join('\n');
}

async function waitForLog(file: string, needle: string): Promise<void> {
  await waitFor(() => logText(file).includes(needle), 30_000, `${JSON.stringify(needle)} in ${file}`);
}

/** tmux's view of the pane: text rows, and rows with colors as tmux writes them. */
function tmuxScreen(paneId: string): { text: string[]; ansi: string } {
  const text = world.tmux('capture-pane', '-p', '-t', paneId).split('\n');
  const ansi = world.tmux('capture-pane', '-p', '-e', '-t', paneId);
  return { text, ansi };
}

/** Reads `capture-pane -e` rows through a terminal of the pane's size, so SGR forms normalise. */
function normaliseTmuxColors(ansi: string, cols: number, rows: number): string[] {
  const t = createReplayTerminal(cols, rows);
  try {
    const lines = ansi.replace(/\n$/, '').split('\n');
    // tmux carries the pen over line ends (it writes SGR only where attributes change).
    feedTerminal(t.term, lines.join('\r\n'));
    return screenAnsi(t.term);
  } finally {
    t.dispose();
  }
}

const trimRows = (rows: string[]) => {
  const out = rows.map((r) => r.trimEnd());
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
};

/** `loupe screen` at the end of the run equals tmux's pane now, in text and in colors. */
async function expectScreenMatchesTmux(started: { agentId: string; taskId: string; paneId: string }, cols: number, rows: number) {
  const { stdout: text } = await run(process.execPath, [LOUPE, 'screen', started.agentId, '--root', world.root, '--task', started.taskId]);
  const { stdout: ansi } = await run(process.execPath, [LOUPE, 'screen', started.agentId, '--root', world.root, '--task', started.taskId, '--format', 'ansi']);
  const tmux = tmuxScreen(started.paneId);
  expect(trimRows(text.split('\n'))).toEqual(trimRows(tmux.text));
  expect(trimRows(normaliseTmuxColors(ansi, cols, rows))).toEqual(trimRows(normaliseTmuxColors(tmux.ansi, cols, rows)));
}

describe('loupe screen matches tmux at the end of a run', () => {
  it('ls --color=always', async () => {
    const dir = path.join(world.root, 'lsdir');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'run.sh'), '', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'notes.txt'), '');
    fs.symlinkSync('notes.txt', path.join(dir, 'link'));
    const s = await startScript('ls', `cd ${dir} && ls -la --color=always`);
    await waitForLog(s.logFile, DONE);
    await expectScreenMatchesTmux(s, 80, 24);
  });

  it('git log --graph --color on a generated repo', async () => {
    const repo = path.join(world.root, 'repo');
    fs.mkdirSync(repo);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd: repo, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    for (let i = 0; i < 3; i++) git('commit', '-q', '--allow-empty', '-m', `main ${i}`);
    git('checkout', '-q', '-b', 'feature');
    for (let i = 0; i < 2; i++) git('commit', '-q', '--allow-empty', '-m', `feature ${i}`);
    git('checkout', '-q', 'main');
    git('commit', '-q', '--allow-empty', '-m', 'main 3');
    git('merge', '-q', '--no-ff', '-m', 'merge feature', 'feature');
    const s = await startScript('gitlog', `cd ${repo} && git --no-pager log --graph --color=always --oneline --decorate=short --all`);
    await waitForLog(s.logFile, DONE);
    await expectScreenMatchesTmux(s, 80, 24);
  });

  it('a \\r progress bar', async () => {
    const s = await startScript(
      'progress',
      `for i in 0 10 20 30 40 50 60 70 80 90 100; do printf '\\r\\033[32m[%-20s]\\033[0m %3d%%' "$(printf '%*s' $((i/5)) '' | tr ' ' '#')" $i; done; printf '\\n'`,
    );
    await waitForLog(s.logFile, DONE);
    await expectScreenMatchesTmux(s, 80, 24);
  });

  it('a Python traceback', async () => {
    const py = path.join(world.root, 'boom.py');
    fs.writeFileSync(py, 'def f(x):\n    return 1 / x\n\nprint("\\x1b[1mstarting\\x1b[0m")\nf(0)\n');
    const s = await startScript('python', `python3 ${py}`);
    await waitForLog(s.logFile, DONE);
    expect(logText(s.logFile)).toContain('ZeroDivisionError');
    await expectScreenMatchesTmux(s, 80, 24);
  });

  it('less opening a file, then quitting (the alternate screen)', async () => {
    const text = path.join(world.root, 'page.txt');
    fs.writeFileSync(text, Array.from({ length: 60 }, (_, i) => `line ${i} of the file`).join('\n') + '\n');
    const s = await startScript('less', `printf 'before less\\n'; LESS= less -R ${text}; printf 'after less\\n'`);
    await waitForLog(s.logFile, 'line 10 of the file');
    world.tmux('send-keys', '-t', s.paneId, 'q');
    await waitForLog(s.logFile, DONE);
    await expectScreenMatchesTmux(s, 80, 24);
  });

  it('CJK text and emoji', async () => {
    const s = await startScript('cjk', `printf '日本語のテキスト 中文 한국어\\n'; printf 'emoji: 🎉 ✅ 🚀 done\\n'; printf '\\033[31m红色\\033[0m|\\n'`);
    await waitForLog(s.logFile, DONE);
    await expectScreenMatchesTmux(s, 80, 24);
  });

  it('a resize in the middle of the run', async () => {
    const go = path.join(world.root, 'resize-go');
    const s = await startScript(
      'resize',
      `for i in $(seq 1 30); do printf 'before resize line %d\\n' $i; done; while [ ! -e ${go} ]; do sleep 0.05; done; for i in $(seq 1 5); do printf '\\033[34mafter resize %d\\033[0m\\n' $i; done`,
      80,
      24,
    );
    await waitForLog(s.logFile, 'before resize line 30');
    world.tmux('resize-window', '-t', s.session, '-x', '100', '-y', '30');
    await waitFor(() => readEntries(s.logFile).some((e) => e.metadata?.event === 'resized' && e.metadata.cols === 100), 30_000, 'the resized entry');
    fs.writeFileSync(go, '');
    await waitForLog(s.logFile, DONE);
    await expectScreenMatchesTmux(s, 100, 30);
    expect(findAgentLog(world.root, s.agentId, s.taskId)).not.toBeNull();
  });
});

describe('loupe screen errors', () => {
  it('refuses an unknown agent with one line and status 2', async () => {
    const err = await run(process.execPath, [LOUPE, 'screen', 'no-such-agent', '--root', world.root]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^loupe: no agent "no-such-agent" in .*loupe ls/);
    expect(err.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a bad --at with one line and status 2', async () => {
    const err = await run(process.execPath, [LOUPE, 'screen', 'ls', '--root', world.root, '--at', 'yesterday']).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/^loupe: --at "yesterday" is not an ISO 8601 time/);
    expect(err.stderr.trim().split('\n')).toHaveLength(1);
  });
});
