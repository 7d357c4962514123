import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEntryLine, type LogEntry } from '../../../shared/entry.js';
import type { Workspace } from '../workspace/list.js';
import { DEMO_AGENTS } from './demo.js';
import { outsideAsar } from './resources.js';
import { killTmuxServer } from './test-support.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The fast demo takes a second or two; a loaded shared machine gets plenty more. */
const DEMO_DEADLINE_MS = 45_000;

describe('outsideAsar', () => {
  it('points into app.asar.unpacked, where the packaged app keeps the scripts sh can read', () => {
    expect(outsideAsar('/opt/Loupe/resources/app.asar/resources/demo')).toBe('/opt/Loupe/resources/app.asar.unpacked/resources/demo');
    expect(outsideAsar('/home/me/loupe/resources/demo')).toBe('/home/me/loupe/resources/demo');
  });
});

describe('loupe demo', () => {
  const socket = `loupe-test-${randomBytes(4).toString('hex')}`;
  let dir: string;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let stdout: string;
  let logs: Record<string, LogEntry[]>;

  const loupe = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(REPO, 'bin/loupe.js'), ...args], { encoding: 'utf8', cwd: root, env });

  function readLogs(): Record<string, LogEntry[]> {
    const ws = path.join(root, '.agent-workspace');
    const tasks = fs.existsSync(ws) ? fs.readdirSync(ws) : [];
    const result: Record<string, LogEntry[]> = {};
    for (const task of tasks) {
      for (const name of fs.readdirSync(path.join(ws, task, 'logs'))) {
        const text = fs.readFileSync(path.join(ws, task, 'logs', name), 'utf8');
        const lines = text.split('\n').slice(0, -1); // a torn last line is still being written
        result[name.replace('_stream.jsonl', '')] = lines.map(parseEntryLine).flatMap((p) => (p.ok ? [p.entry] : []));
      }
    }
    return result;
  }

  const ended = (entries: LogEntry[] | undefined) => entries?.at(-1)?.metadata?.event === 'terminated';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-demo-'));
    root = path.join(dir, 'root');
    fs.mkdirSync(root);
    env = { ...process.env, LOUPE_STATE_DIR: path.join(dir, 'state'), HOME: path.join(dir, 'home') };
    delete env.XDG_CONFIG_HOME;
    const r = loupe('demo', '--fast', '--socket', socket);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    stdout = r.stdout;
    const deadline = Date.now() + DEMO_DEADLINE_MS;
    logs = readLogs();
    while (!DEMO_AGENTS.every((a) => ended(logs[a.name])) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      logs = readLogs();
    }
  });

  afterAll(() => {
    killTmuxServer(socket);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const terminal = (agent: string) => logs[agent].filter((e) => e.type !== 'system').map((e) => e.content).join('\n');

  it('starts four agents in one task and says what to try next', () => {
    expect(Object.keys(logs).sort()).toEqual(DEMO_AGENTS.map((a) => a.name).sort());
    expect(fs.readdirSync(path.join(root, '.agent-workspace'))).toHaveLength(1);
    expect(stdout).toMatch(/^Started 4 demo agents in task TASK-\d{8}-\d{6}-[0-9a-f]{8}\n/);
    // Commands that ask tmux keep the --socket the demo was given; the others read the logs.
    for (const command of [`loupe ls --socket ${socket}`, 'loupe tail -f claude-refactor', 'loupe search Traceback', `loupe serve --socket ${socket}`, `tmux -L ${socket} attach`]) {
      expect(stdout).toContain(`  ${command} `);
    }
  });

  it('runs every agent to its end, one of them with status 1', () => {
    const statuses = Object.fromEntries(DEMO_AGENTS.map((a) => [a.name, logs[a.name].at(-1)?.metadata?.exit_status]));
    expect(statuses).toEqual({ 'claude-refactor': 0, build: 0, migrate: 1, 'codex-review': 0 });
  });

  it('captures a Python traceback, classified as errors from its first line to the exception', () => {
    const entries = logs.migrate;
    const start = entries.findIndex((e) => e.content.startsWith('Traceback (most recent call last):'));
    const end = entries.findIndex((e) => e.content.startsWith("KeyError: 'user_id'"));
    expect(start).toBeGreaterThan(0);
    expect(end - start).toBe(8);
    for (const e of entries.slice(start, end + 1)) expect([e.type, e.metadata?.level]).toEqual(['stderr', 'error']);
  });

  it('captures tool-call lines as control entries naming the tool', () => {
    const tools = (agent: string) => logs[agent].filter((e) => e.type === 'control').map((e) => e.metadata?.tool_call);
    expect(tools('claude-refactor')).toEqual(expect.arrayContaining(['Read', 'Grep', 'Update', 'Bash']));
    expect(tools('codex-review')).toEqual(expect.arrayContaining(['explore', 'shell', 'apply_patch', 'read_file']));
  });

  it('captures a colored diff, spinners and progress bars byte for byte', () => {
    expect(terminal('claude-refactor')).toContain('\x1b[31m-    if (ch === QUOTE) {\x1b[0m');
    expect(terminal('claude-refactor')).toContain('\x1b[32m+      let end = pos + 1;\x1b[0m');
    expect(terminal('claude-refactor')).toMatch(/\r\x1b\[36m⠋\x1b\[0m Thinking…\r\x1b\[36m⠙/);
    expect(terminal('migrate')).toMatch(/\rMigrating users {5}\[\x1b\[32m#{30}\x1b\[0m\] 100%/);
  });

  it('captures a long build log with its warnings', () => {
    const build = logs.build.filter((e) => e.type !== 'system');
    expect(build.length).toBeGreaterThan(300);
    expect(build.filter((e) => e.metadata?.level === 'warn').length).toBeGreaterThanOrEqual(10);
    expect(terminal('build')).toContain('Build finished in');
  });

  it('shows in loupe ls as one task of four ended agents', () => {
    const r = loupe('ls', '--socket', socket, '--json');
    expect(r.status).toBe(0);
    const w = JSON.parse(r.stdout) as Workspace;
    const agents = w.roots[0].tasks[0].agents.map((a) => [a.agentId, a.state, a.exitStatus, a.entries > 0]);
    expect(agents).toEqual([
      ['build', 'ended', 0, true],
      ['claude-refactor', 'ended', 0, true],
      ['codex-review', 'ended', 0, true],
      ['migrate', 'ended', 1, true],
    ]);
  });
});
