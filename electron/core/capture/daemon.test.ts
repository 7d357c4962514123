/**
 * The capture host as a separate process (`loupe daemon`, from the built CLI): crash recovery
 * (RELIABILITY D1), a killed tmux server (T9), and the CLI's answers to bad input.
 * Needs `tsc -b` first (`npm test` does it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHostRunning } from './host-lock.js';
import { runAgent } from './session.js';
import { createWorld, eventOf, readEntries, waitFor, waitForTermination, type TestWorld } from './test-support.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/loupe.js');
let world: TestWorld;
const daemons = new Set<ChildProcess>();

function startDaemon(): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'daemon', '--socket', world.socket], { stdio: 'ignore', env: process.env });
  daemons.add(child);
  child.once('exit', () => daemons.delete(child));
  return child;
}

function loupe(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: world.root, env: process.env, timeout: 30_000 });
}

beforeAll(() => {
  world = createWorld();
  world.tmux('new-session', '-d', '-s', 'keepalive', 'sleep 600');
});

afterAll(() => {
  for (const d of daemons) d.kill('SIGKILL');
  world.cleanup();
});

describe('loupe daemon', () => {
  it('writes every line exactly once, with a continuing sequence, when killed -9 again and again mid-burst (D1)', async () => {
    const total = 60_000;
    const started = await runAgent({
      root: world.root,
      socket: world.socket,
      name: 'burst',
      startHost: false,
      // A 3 s burst, so the kills land in the middle of it.
      command: ['sh', '-c', `tmux wait-for d1-gate; i=0; while [ $i -lt ${total / 1000} ]; do seq $((i*1000+1)) $((i*1000+1000)); sleep 0.05; i=$((i+1)); done`],
    });
    let daemon = startDaemon();
    await waitFor(() => isHostRunning(world.socket), 10_000, 'the daemon');
    world.tmux('wait-for', '-S', 'd1-gate');
    const lastLineWritten = () => readEntries(started.logFile).some((e) => e.content === `${total}\r`);
    let kills = 0;
    for (; kills < 6 && !lastLineWritten(); kills++) {
      const before = readEntries(started.logFile).length;
      await waitFor(() => readEntries(started.logFile).length > before || lastLineWritten(), 10_000, 'progress');
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon.once('exit', r));
      daemon = startDaemon();
      await waitFor(() => isHostRunning(world.socket), 10_000, 'the restarted daemon');
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    const entries = await waitForTermination(started.logFile, 60_000).finally(() => daemon.kill('SIGTERM'));
    expect(entries.map((e) => e.sequence)).toEqual(entries.map((_, i) => i + 1));
    const lines = entries.filter((e) => e.type === 'stdout');
    // Rebuild the text: partial chunks join their continuation.
    const text = lines.map((e) => e.content + (e.metadata?.partial ? '' : '\n')).join('');
    const expected = Array.from({ length: total }, (_, i) => `${i + 1}\r\n`).join('');
    expect(text).toBe(expected);
  });

  it('ends every capture with a terminated entry when the tmux server is killed (T9)', async () => {
    const a = await runAgent({ root: world.root, socket: world.socket, name: 't9-a', startHost: false, command: ['sh', '-c', 'echo a-alive; sleep 600'] });
    const b = await runAgent({ root: world.root, socket: world.socket, name: 't9-b', startHost: false, command: ['sh', '-c', 'echo b-alive; sleep 600'] });
    const daemon = startDaemon();
    await waitFor(() => readEntries(a.logFile).some((e) => e.content === 'a-alive\r') && readEntries(b.logFile).some((e) => e.content === 'b-alive\r'), 10_000, 'both agents');
    world.tmux('kill-server');
    for (const log of [a.logFile, b.logFile]) {
      const entries = await waitForTermination(log);
      expect(entries.at(-1)?.metadata).toMatchObject({ event: 'terminated', exit_status: null, reason: 'the tmux server ended' });
      expect(entries.filter((e) => eventOf(e) === 'terminated')).toHaveLength(1);
    }
    daemon.kill('SIGTERM');
    const code = await new Promise((r) => daemon.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });

  it('drops a capture whose log folder was deleted and whose server is gone, then exits when idle', async () => {
    const socket = `${world.socket}-gone`;
    const dir = path.join(world.stateDir, 'sockets', socket);
    fs.mkdirSync(dir, { recursive: true });
    const record = { captureId: 'lost-000000000000', socketName: socket, paneId: '%9', session: 's', agentId: 'lost', taskId: 'TASK-20260101-000000-00000000', root: '/nonexistent', logFile: '/nonexistent/.agent-workspace/x/logs/lost_stream.jsonl', method: 'pipe-pane', command: 'x', phase: 'capturing', createdAt: Date.now(), cols: 80, rows: 24, killDeadPane: true, offset: 0, sequence: 0 };
    fs.writeFileSync(path.join(dir, 'lost-000000000000.json'), JSON.stringify(record));
    const r = spawnSync(process.execPath, [BIN, 'daemon', '--socket', socket, '--exit-when-idle'], { encoding: 'utf8', env: process.env, timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/dropping capture lost-000000000000/);
    expect(fs.existsSync(path.join(dir, 'lost-000000000000.json'))).toBe(false);
  });
});

describe('loupe run (CLI)', () => {
  it('prints the agent id and log path, starts a daemon that captures and then exits on its own', async () => {
    const r = loupe('run', '--socket', world.socket, '--name', 'cli-agent', '--', 'sh', '-c', 'echo from-cli; exit 3');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [agentId, logFile, extra] = r.stdout.split('\n');
    expect(agentId).toBe('cli-agent');
    expect(logFile).toMatch(/\.agent-workspace\/TASK-\d{8}-\d{6}-[0-9a-f]{8}\/logs\/cli-agent_stream\.jsonl$/);
    expect(extra).toBe('');
    const entries = await waitForTermination(logFile);
    expect(entries.some((e) => e.content === 'from-cli\r')).toBe(true);
    expect(entries.at(-1)?.metadata).toMatchObject({ exit_status: 3 });
    await waitFor(async () => !(await isHostRunning(world.socket)), 10_000, 'the idle daemon to exit');
  });

  it('refuses a bad --name, a bad --socket, a root that is a file and a disk-full root with exit 2 and one line', () => {
    const badName = loupe('run', '--socket', world.socket, '--name', 'a;b', '--', 'true');
    expect(badName.status).toBe(2);
    expect(badName.stderr).toMatch(/^loupe: invalid agent id "a;b": use 1-128 characters/);
    const badSocket = loupe('run', '--socket', '../x', '--', 'true');
    expect(badSocket.status).toBe(2);
    expect(badSocket.stderr).toMatch(/invalid tmux socket name "..\/x"/);
    const file = path.join(world.root, 'a-file');
    fs.writeFileSync(file, '');
    const fileRoot = loupe('run', '--socket', world.socket, '--root', file, '--', 'true');
    expect(fileRoot.status).toBe(2);
    expect(fileRoot.stderr).toMatch(/^loupe: cannot create .*a part of that path is a file, not a folder; pass --root with a folder\n$/);
    const full = loupe('run', '--socket', world.socket, '--root', '/dev/full', '--', 'true');
    expect(full.status).toBe(2);
    expect(full.stderr).toMatch(/^loupe: cannot create \/dev\/full\/.agent-workspace/);
    const noCommand = loupe('run', '--socket', world.socket);
    expect(noCommand.status).toBe(2);
    const noServer = loupe('detach', '%0', '--socket', 'loupe-test-nonexistent');
    expect(noServer.status).toBe(2);
    expect(noServer.stderr).toMatch(/^loupe: tmux server "loupe-test-nonexistent" \(-L loupe-test-nonexistent\) is not running/);
  });

  it('refuses to attach or detach a pane that does not exist, with exit 2 and one line (tmux itself says nothing)', () => {
    world.tmux('new-session', '-d', '-s', 'no-such-pane', 'sleep 60');
    try {
      for (const command of ['attach', 'detach']) {
        const r = loupe(command, '%999', '--socket', world.socket);
        expect(r.status, r.stdout).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(`loupe: tmux server "${world.socket}" (-L ${world.socket}): can't find pane: %999; list panes with \`tmux -L ${world.socket} list-panes -a\`\n`);
      }
    } finally {
      world.tmux('kill-session', '-t', 'no-such-pane');
    }
  });
});
