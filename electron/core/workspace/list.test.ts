import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeEntry, type LogEntry } from '../../../shared/entry.js';
import { ensureLogsDir, streamPath } from '../log/paths.js';
import { listWorkspace, type Workspace } from './list.js';
import { killTmuxServer } from '../capture/test-support.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TASK = 'TASK-20260102-030405-0a1b2c3d';
const OLD_TASK = 'TASK-20250101-000000-ffffffff';

function entry(agent: string, sequence: number, type: LogEntry['type'], content: string, metadata?: LogEntry['metadata']): LogEntry {
  const second = String(sequence).padStart(2, '0');
  return { timestamp: `2026-01-02T03:04:${second}.000001+00:00`, agent_id: agent, type, sequence, content, ...(metadata && { metadata }) };
}

function writeLog(root: string, task: string, agent: string, entries: LogEntry[], tail = ''): string {
  ensureLogsDir(root, task);
  const file = streamPath(root, task, agent);
  fs.writeFileSync(file, entries.map(serializeEntry).join('') + tail);
  return file;
}

const started = (agent: string, command: string) => entry(agent, 1, 'system', 'started', { event: 'started', command, cols: 80, rows: 24 });
const terminated = (agent: string, seq: number, status: number) =>
  entry(agent, seq, 'system', `terminated (exit ${status})`, { event: 'terminated', exit_status: status });

describe('listWorkspace', () => {
  const socket = `loupe-test-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).trim();
  let root: string;
  let liveFile: string;
  let livePane: string;
  let plainPane: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-ls-'));
    writeLog(root, OLD_TASK, 'old', [started('old', 'echo old'), terminated('old', 2, 0)]);
    writeLog(root, TASK, 'passed', [started('passed', 'npm test'), entry('passed', 2, 'stdout', 'ok'), terminated('passed', 3, 0)]);
    writeLog(root, TASK, 'failed', [started('failed', 'pytest'), entry('failed', 2, 'stderr', 'Error: x'), terminated('failed', 3, 1)]);
    // A torn last line (a capture killed mid-write) must not hide the entries before it.
    writeLog(root, TASK, 'stopped', [started('stopped', 'make'), entry('stopped', 2, 'stdout', 'building')], '{"timestamp":"2026-');
    liveFile = writeLog(root, TASK, 'live', [started('live', 'sleep'), ...[2, 3, 4, 5].map((n) => entry('live', n, 'stdout', `line ${n}`))]);

    tmux('new-session', '-d', '-s', 'agents', '-x', '100', '-y', '30', 'sleep 300');
    livePane = tmux('display-message', '-p', '-t', 'agents', '#{pane_id}');
    tmux('set-option', '-p', '-t', livePane, '@loupe_log', liveFile);
    tmux('set-option', '-p', '-t', livePane, '@loupe_root', root);
    plainPane = tmux('split-window', '-P', '-F', '#{pane_id}', '-t', 'agents', 'sleep 300');
  });

  afterAll(() => {
    killTmuxServer(socket);
    fs.rmSync(root, { recursive: true, force: true });
  });

  const agents = (w: Workspace) => Object.fromEntries(w.roots[0].tasks.flatMap((t) => t.agents).map((a) => [a.agentId, a]));

  it('lists tasks oldest first with their agents', async () => {
    const w = await listWorkspace({ roots: [root], sockets: [socket] });
    expect(w.roots.map((r) => r.root)).toEqual([root]);
    expect(w.roots[0].tasks.map((t) => [t.taskId, t.agents.map((a) => a.agentId)])).toEqual([
      [OLD_TASK, ['old']],
      [TASK, ['failed', 'live', 'passed', 'stopped']],
    ]);
  });

  it('tells live, ended and stopped agents apart, with exit status, entries and last activity', async () => {
    const a = agents(await listWorkspace({ roots: [root], sockets: [socket] }));
    expect(a.live).toMatchObject({
      state: 'live',
      entries: 5,
      lastActivity: '2026-01-02T03:04:05.000001+00:00',
      pane: { socket, paneId: livePane, target: 'agents:0.0' },
    });
    expect(a.passed).toMatchObject({ state: 'ended', exitStatus: 0, entries: 3, command: 'npm test', pane: null });
    expect(a.failed).toMatchObject({ state: 'ended', exitStatus: 1, entries: 3 });
    expect(a.stopped).toMatchObject({ state: 'stopped', exitStatus: null, entries: 2, lastActivity: '2026-01-02T03:04:02.000001+00:00' });
    expect(a.stopped.startedAt).toBe('2026-01-02T03:04:01.000001+00:00');
  });

  it('counts the entries of a log that was just rotated from its newest rotated file', async () => {
    const file = writeLog(root, TASK, 'rotated', []);
    fs.writeFileSync(`${file}.20260102T030405123`, [1, 2, 3, 4, 5, 6, 7].map((n) => serializeEntry(entry('rotated', n, 'stdout', 'x'))).join(''));
    try {
      const a = agents(await listWorkspace({ roots: [root], sockets: [socket] }));
      expect(a.rotated).toMatchObject({ entries: 7, lastActivity: '2026-01-02T03:04:07.000001+00:00', state: 'stopped' });
    } finally {
      fs.rmSync(file);
      fs.rmSync(`${file}.20260102T030405123`);
    }
  });

  it('lists the panes nothing captures, with the command that captures them', async () => {
    const w = await listWorkspace({ roots: [root], sockets: [socket] });
    expect(w.panes).toEqual([
      {
        socket,
        paneId: plainPane,
        target: 'agents:0.1',
        session: 'agents',
        command: 'sleep',
        cols: expect.any(Number),
        rows: expect.any(Number),
        attachCommand: `loupe attach ${plainPane} --socket ${socket} --root ${root}`,
      },
    ]);
    expect(w.tmux).toEqual([{ socket, running: true, error: null }]);
  });

  it('adds the roots that live panes capture into, when asked', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-ls-other-'));
    try {
      const w = await listWorkspace({ roots: [elsewhere], sockets: [socket], includePaneRoots: true });
      expect(w.roots.map((r) => [r.root, r.fromTmux])).toEqual([
        [elsewhere, false],
        [root, true],
      ]);
      expect(agents({ ...w, roots: [w.roots[1]] }).live.state).toBe('live');
    } finally {
      fs.rmSync(elsewhere, { recursive: true });
    }
  });

  it('asks the sockets Loupe holds capture records for when no socket is named', async () => {
    const saved = process.env.LOUPE_STATE_DIR;
    process.env.LOUPE_STATE_DIR = path.join(root, 'state');
    try {
      fs.mkdirSync(path.join(root, 'state', 'sockets', socket), { recursive: true });
      fs.writeFileSync(path.join(root, 'state', 'sockets', socket, 'live-0a1b2c3d4e5f.json'), '{}');
      const w = await listWorkspace({ roots: [root] });
      expect(w.tmux.map((t) => t.socket)).toEqual(['default', socket]);
      expect(agents(w).live.state).toBe('live');
    } finally {
      if (saved === undefined) delete process.env.LOUPE_STATE_DIR;
      else process.env.LOUPE_STATE_DIR = saved;
    }
  });

  it('reports a bad config file of a root, in the listing and in loupe ls', async () => {
    const file = path.join(root, 'loupe.config.json');
    fs.writeFileSync(file, '{"classify": {"rules": [{"pattern": "("}]}}');
    try {
      const w = await listWorkspace({ roots: [root], sockets: [socket] });
      expect(w.roots[0].configFile).toBe(file);
      expect(w.roots[0].configError).toMatch(/key classify\.rules\[0\]\.pattern: invalid regex/);
      const r = spawnSync(process.execPath, [path.join(REPO, 'bin/loupe.js'), 'ls', '--root', root, '--socket', socket], { encoding: 'utf8' });
      expect(r.stdout.split('\n')[1]).toMatch(/^ {2}warning: config file .*loupe\.config\.json: key classify\.rules\[0\]\.pattern: invalid regex/);
    } finally {
      fs.rmSync(file);
    }
  });

  it('says the state is unknown, not stopped, when tmux cannot be asked', async () => {
    const saved = process.env.LOUPE_TMUX;
    process.env.LOUPE_TMUX = path.join(root, 'no-such-tmux');
    try {
      const w = await listWorkspace({ roots: [root], sockets: [socket] });
      expect(agents(w).live.state).toBe('unknown');
      expect(agents(w).failed.state).toBe('ended');
      expect(w.tmux[0].error).toMatch(/tmux is not installed/);
    } finally {
      if (saved === undefined) delete process.env.LOUPE_TMUX;
      else process.env.LOUPE_TMUX = saved;
    }
  });

  it('reports a tmux server that is not running without failing', async () => {
    const w = await listWorkspace({ roots: [root], sockets: [`${socket}-none`] });
    expect(w.tmux).toEqual([{ socket: `${socket}-none`, running: false, error: null }]);
    expect(agents(w).live.state).toBe('stopped');
  });

  describe('loupe ls', () => {
    const loupe = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(REPO, 'bin/loupe.js'), 'ls', ...args], { encoding: 'utf8', cwd: root });

    it('prints a table of agents and uncaptured panes', () => {
      const r = loupe('--root', root, '--socket', socket);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toBe(root);
      expect(r.stdout).toContain(`  ${TASK}  (4 agents)`);
      expect(lines.find((l) => l.includes(' failed '))).toMatch(/^ {4}failed +ended \(exit 1\) +3 +\S/);
      expect(lines.find((l) => l.includes(' live '))).toMatch(new RegExp(`^ {4}live +idle \\d+d +5 .*${livePane} agents:0\\.0$`)); // quiet for days: idle
      expect(lines.find((l) => l.includes(' stopped '))).toMatch(/^ {4}stopped +stopped +2 /);
      expect(r.stdout).toContain(`tmux panes not captured (socket ${socket}):`);
      expect(lines.find((l) => l.includes(plainPane))).toMatch(
        new RegExp(`^  ${plainPane} +agents:0\\.1 +sleep +\\d+x\\d+ +loupe attach ${plainPane} --socket ${socket}$`),
      );
    });

    it('lists a root of ended runs from the ends of its logs, without indexing it', () => {
      const archive = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-archive-'));
      try {
        writeLog(archive, TASK, 'old', [started('old', 'make'), entry('old', 2, 'stdout', 'built'), terminated('old', 3, 0)]);
        const r = loupe('--root', archive, '--socket', socket);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/old +ended \(exit 0\) +3/);
        expect(fs.existsSync(path.join(archive, '.agent-workspace', 'index.sqlite'))).toBe(false);
      } finally {
        fs.rmSync(archive, { recursive: true, force: true });
      }
    });

    it('prints the same listing as JSON with --json', () => {
      const r = loupe('--root', root, '--socket', socket, '--json');
      expect(r.status).toBe(0);
      const w = JSON.parse(r.stdout) as Workspace;
      expect(agents(w).failed).toMatchObject({ state: 'ended', exitStatus: 1 });
      expect(w.panes.map((p) => p.paneId)).toEqual([plainPane]);
    });

    it('refuses a bad socket name with a one-line error and status 2', () => {
      const r = loupe('--socket', '../x');
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^loupe: invalid tmux socket name "\.\.\/x"/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  });
});
