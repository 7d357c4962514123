/**
 * Screen lines of real programs run in tmux under capture (SPEC §12): a curses program that
 * streams a reply into a fixed row, an Ink program that streams a reply under a spinner, vim,
 * less, `top -b`, `git log --graph`, CJK and emoji and a resize. What the screen showed is what
 * search, levels and the text tail find, once; the index built live equals a rebuild.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureHost } from '../capture/capture-host.js';
import { runAgent } from '../capture/session.js';
import { createWorld, readEntries, waitFor, type TestWorld } from '../capture/test-support.js';
import { Indexer, rebuildIndex } from '../index/indexer.js';
import { SETTLE_US } from './screenLines.js';
import { tailLines } from './tailLines.js';

const run = promisify(execFile);
const LOUPE = path.resolve('bin/loupe.js');
const FIXTURES = path.resolve('electron/core/screen/fixtures');
/** The last thing a script prints; once it is in the log, all output before it is too. */
const DONE = 'SCREEN-LINES-DONE';

let world: TestWorld;
let host: CaptureHost;
/** Indexes live while the programs run, as the daemon, `loupe serve` and the app do. */
let live: Indexer;

type Started = Awaited<ReturnType<typeof runAgent>>;
const started: Record<string, Started> = {};
/** What tmux showed in a pane at a moment the test chose (for programs that leave the screen). */
const panes: Record<string, string[]> = {};

beforeAll(async () => {
  world = createWorld();
  world.tmux('new-session', '-d', '-s', 'keepalive', 'sleep 600');
  host = new CaptureHost({ socketName: world.socket });
  expect(await host.start()).toBe(true);
  live = new Indexer(world.root);
  live.watch({ pollMs: 200 });

  const start = (name: string, command: string[], cols = 120, rows = 32) =>
    runAgent({ root: world.root, socket: world.socket, command, name, cols, rows, startHost: false, cwd: world.root }).then((s) => {
      started[name] = s;
      return s;
    });
  /** A shell script whose pane stays open after it printed DONE. */
  const script = (name: string, body: string, cols = 80, rows = 24) => {
    const file = path.join(world.root, `${name}.sh`);
    fs.writeFileSync(file, `${body}\nprintf '%s\\n' '${DONE}'\nexec sleep 600\n`);
    return start(name, ['sh', file], cols, rows);
  };

  const page = path.join(world.root, 'page.txt');
  fs.writeFileSync(page, Array.from({ length: 80 }, (_, i) => `page line ${i} of the file`).join('\n') + '\n');
  const repo = path.join(world.root, 'repo');
  fs.mkdirSync(repo);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  for (let i = 0; i < 3; i++) git('commit', '-q', '--allow-empty', '-m', `main ${i}`);
  git('checkout', '-q', '-b', 'feature');
  git('commit', '-q', '--allow-empty', '-m', 'feature work');
  git('checkout', '-q', 'main');
  git('merge', '-q', '--no-ff', '-m', 'merge feature', 'feature');
  const go = path.join(world.root, 'resize-go');

  await Promise.all([
    start('curses', ['python3', path.join(FIXTURES, 'curses-reply.py')]),
    start('ink', [process.execPath, path.join(FIXTURES, 'ink-reply.mjs')]),
    script('vim', `vim -u NONE -N -n ${page}`),
    script('less', `printf 'before less\\n'; LESS= less ${page}; printf 'after less\\n'`),
    script('top', 'top -b -n 1 -w 80 | head -n 12'),
    script('gitlog', `cd ${repo} && git --no-pager log --graph --oneline --all`),
    script('cjk', `printf '日本語のテキスト 中文 한국어\\n'; printf 'emoji: 🎉 ✅ 🚀 done\\n'; printf '\\033[31m红色\\033[0m|\\n'`),
    script(
      'resize',
      `for i in $(seq 1 30); do printf 'before resize line %d\\n' $i; done; while [ ! -e ${go} ]; do sleep 0.05; done; for i in $(seq 1 5); do printf 'after resize %d\\n' $i; done`,
    ),
    script('anchor', 'echo alpha end'),
  ]);

  const logText = (name: string) => readEntries(started[name].logFile).map((e) => e.content).join('\n');
  const waitForLog = (name: string, needle: string) => waitFor(() => logText(name).includes(needle), 30_000, `${needle} in ${name}`);
  const screen = (name: string) => world.tmux('capture-pane', '-p', '-J', '-t', started[name].paneId).split('\n');

  await waitForLog('vim', 'page line 20');
  await waitFor(() => screen('vim').some((l) => l.includes('page.txt')), 10_000, 'vim status line');
  panes.vim = screen('vim');
  await standStill();
  world.tmux('send-keys', '-t', started.vim.paneId, ':q', 'Enter');
  await waitForLog('less', 'page line 20');
  await waitFor(() => screen('less').some((l) => l.includes('page line 22')), 10_000, 'less page');
  panes.less = screen('less');
  await standStill();
  world.tmux('send-keys', '-t', started.less.paneId, 'q');
  await waitForLog('resize', 'before resize line 30');
  world.tmux('resize-window', '-t', started.resize.session, '-x', '100', '-y', '30');
  await waitFor(() => readEntries(started.resize.logFile).some((e) => e.metadata?.event === 'resized'), 30_000, 'the resized entry');
  fs.writeFileSync(go, '');
  for (const name of ['vim', 'less', 'top', 'gitlog', 'cjk', 'resize', 'anchor']) await waitForLog(name, DONE);
  for (const name of ['top', 'gitlog', 'cjk', 'resize', 'anchor']) panes[name] = screen(name);
  for (const name of ['curses', 'ink']) {
    await waitFor(() => readEntries(started[name].logFile).some((e) => e.metadata?.event === 'terminated'), 60_000, `${name} to end`);
  }
}, 120_000);

/**
 * Lets a screen stand as a user would read it: longer than SETTLE_US, the time a line must stand
 * to be final. (Quitting erases the status line first: standing is what makes it final.)
 */
function standStill(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_US / 1000 + 500));
}

afterAll(async () => {
  live?.dispose();
  await host?.dispose();
  world?.cleanup();
});

async function loupe(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [LOUPE, ...args, '--root', world.root]);
  return stdout;
}

async function searchTotal(text: string, ...options: string[]): Promise<number> {
  return (JSON.parse(await loupe('search', text, '--json', ...options)) as { total: number }).total;
}

/** The agent's screen lines as `tail --format text` reads them (terminal lines only). */
async function screenLines(name: string): Promise<string[]> {
  const tail = await tailLines(started[name].logFile, { n: 100_000, filter: { types: ['stdout', 'stderr', 'control'] } });
  tail.dispose();
  return tail.lines.map((l) => l.text);
}

const nonBlank = (rows: string[]) => rows.map((r) => r.trimEnd()).filter((r) => r.trim() !== '');

/** `rows` appear in `lines` one after another, in order. */
function expectContiguous(lines: string[], rows: string[]) {
  const at = lines.indexOf(rows[0]);
  expect(at, `${JSON.stringify(rows[0])} among the screen lines`).toBeGreaterThanOrEqual(0);
  expect(lines.slice(at, at + rows.length)).toEqual(rows);
}

describe('screen lines of a curses program (alternate screen, a reply streamed into a fixed row)', () => {
  it('find each phrase of the reply once or twice, and the reply is one line', async () => {
    for (const phrase of ['quantum widget', 'bounds check', 'deploy failed because']) {
      const n = await searchTotal(phrase, '--agent', 'curses');
      expect(n, phrase).toBeGreaterThanOrEqual(1);
      expect(n, phrase).toBeLessThanOrEqual(2);
    }
    const lines = await screenLines('curses');
    expect(lines).toContain('  The quantum widget passed the bounds check but deploy failed because the cache was stale');
    expect(lines.filter((l) => l.startsWith('status: tick')).length).toBeLessThanOrEqual(3);
  });

  it('find the error line drawn on the screen with --level error', async () => {
    const hits = JSON.parse(await loupe('search', '', '--level', 'error', '--agent', 'curses', '--json')) as { hits: { text: string }[] };
    expect(hits.hits.map((h) => h.text)).toContain('Error: deploy failed because the cache was stale');
  });
});

describe('screen lines of an Ink program (a reply streamed under a spinner, then a boxed prompt)', () => {
  it('find the reply 1-3 times and hold a handful of spinner states at most', async () => {
    const n = await searchTotal('public API stable', '--agent', 'ink');
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(3);
    const lines = await screenLines('ink');
    expect(lines.filter((l) => l.includes('Thinking…')).length).toBeLessThanOrEqual(5);
    expect(lines).toContain('The refactor keeps the public API stable and moves parsing into its own module');
  });

  it('keep the tool lines and the box', async () => {
    const lines = await screenLines('ink');
    expect(lines).toContain('⏺ Bash(npm test)');
    expect(lines).toContain('  ⎿  42 passed, 0 failed');
    expect(lines.some((l) => l.includes('Do you want to proceed?'))).toBe(true);
    expect(lines.some((l) => l.includes('❯ 1. Yes'))).toBe(true);
    const text = await loupe('tail', 'ink', '-n', '200');
    expect(text).toContain('⏺ Bash(npm test)');
  });
});

describe('screen lines match what tmux showed', () => {
  it.each(['vim', 'less'])('%s: the full screen it showed, in order', async (name) => {
    const rows = nonBlank(panes[name]).filter((r) => !/^~\s*$/.test(r));
    expect(rows.length).toBeGreaterThan(10);
    expectContiguous(await screenLines(name), rows);
  });

  it.each(['top', 'gitlog', 'cjk', 'resize'])('%s: the lines on the screen at the end are the last screen lines', async (name) => {
    const rows = nonBlank(panes[name]);
    const lines = await screenLines(name);
    expect(lines.slice(-rows.length)).toEqual(rows);
  });

  it('plain lines are exactly the lines printed, in order', async () => {
    const lines = await screenLines('resize');
    const printed = [...Array.from({ length: 30 }, (_, i) => `before resize line ${i + 1}`), ...Array.from({ length: 5 }, (_, i) => `after resize ${i + 1}`)];
    expect(lines.filter((l) => l.includes('resize'))).toEqual(printed);
  });
});

describe('a line ending is never content', () => {
  it('search --regex and tail --grep match `end$` on `echo alpha end`', async () => {
    // The line is still on a live screen: it is searchable once it has stood still (SETTLE_US, plus the indexer's margin).
    await waitFor(async () => (await searchTotal('end$', '--regex', '--agent', 'anchor')) >= 1, 15_000, 'a hit for end$');
    expect(await loupe('tail', 'anchor', '--grep', 'end$')).toMatch(/alpha end\n$/);
    expect(await loupe('tail', 'anchor', '--grep', 'end$', '--format', 'jsonl')).toContain('alpha end');
  });
});

describe('rebuilding the index', () => {
  it('gives the same screen lines as live indexing', async () => {
    const dump = (ix: Indexer) =>
      (
        ix.db
          .prepare(
            `SELECT a.agent_id AS agent, l.seq, l.first_seq AS firstSeq, l.type, l.level, f.text FROM lines l
             JOIN lines_fts f ON f.rowid = l.id JOIN agents a ON a.id = l.agent`,
          )
          .all() as Record<string, unknown>[]
      )
        .map((r) => JSON.stringify(r))
        .sort();
    // Compare once the logs stopped growing and the live index settled their last lines: a pass
    // that finds no new output settles lines older than 3 s. (Comparing at once raced the last
    // entries: the rebuild read lines the live index had not indexed yet.)
    let before: string[] = [];
    await waitFor(async () => {
      live.indexPending();
      const now = dump(live);
      const settled = JSON.stringify(now) === JSON.stringify(before);
      before = now;
      if (!settled) await new Promise((r) => setTimeout(r, 3500));
      return settled;
    }, 40_000, 'the live index to settle');
    const copy = path.join(world.root, 'rebuilt.sqlite');
    const { indexer } = rebuildIndex(world.root, { dbFile: copy });
    try {
      expect(dump(indexer)).toEqual(before);
    } finally {
      indexer.dispose();
    }
  });
});
