/**
 * `loupe serve` is a client of capture, never its host (SPEC §4, RELIABILITY W8): `kill -9` of
 * the server during a burst leaves capture untouched, and the whole burst reaches the log.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWorld, readEntries, waitFor, type TestWorld } from '../../core/capture/test-support.js';
import { listAgentLogs } from '../../core/log/paths.js';

const LOUPE = path.resolve('bin/loupe.js');

let world: TestWorld;
let server: ChildProcess | null = null;

beforeEach(() => {
  world = createWorld();
});

afterEach(() => {
  if (server?.exitCode === null) server.kill('SIGKILL');
  server = null;
  world.cleanup();
});

/** `loupe run` on this test's root and tmux socket. */
function loupeRun(name: string, command: string[]): string {
  return execFileSync(process.execPath, [LOUPE, 'run', '--name', name, '--root', world.root, '--socket', world.socket, '--', ...command], {
    encoding: 'utf8',
    env: process.env,
  });
}

/** Starts `loupe serve` (under `ulimit -n` when given) and resolves once it printed its URL; its stderr goes to `serveStderr`. */
async function startServe(openFiles?: number, env: NodeJS.ProcessEnv = process.env, extraArgs: string[] = []): Promise<ChildProcess> {
  const serve = [process.execPath, LOUPE, 'serve', '--port', '0', '--root', world.root, '--socket', world.socket, '--allow-control', ...extraArgs];
  const child =
    openFiles === undefined
      ? spawn(serve[0], serve.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn('sh', ['-c', `ulimit -n ${openFiles} && exec "$@"`, 'sh', ...serve], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  serveStderr = '';
  child.stderr!.on('data', (d: Buffer) => (serveStderr += d.toString()));
  await waitFor(() => out.includes('http://'), 30_000, 'loupe serve to print its URL');
  serveUrl = new URL(out.trim().split('\n').find((l) => l.startsWith('http://'))!);
  return child;
}

let serveUrl: URL;
let serveStderr = '';

/** A WebSocket to the server, and a way to call the contract over it. */
async function connect(): Promise<{ ws: WebSocket; call: (channel: string, args: unknown) => Promise<{ ok: boolean; result?: unknown; error?: { message: string } }> }> {
  const token = serveUrl.searchParams.get('token')!;
  const ws = new WebSocket(`ws://${serveUrl.host}/ws`, { headers: { Authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const waiting = new Map<number, (reply: never) => void>();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.kind === 'result') waiting.get(m.id)?.(m as never);
  });
  let id = 0;
  return {
    ws,
    call: (channel, args) =>
      new Promise((resolve) => {
        const n = ++id;
        waiting.set(n, resolve as never);
        ws.send(JSON.stringify({ kind: 'invoke', id: n, channel, args }));
      }),
  };
}

describe('loupe serve and capture (W8)', () => {
  it('a kill -9 of the server during a burst leaves capture untouched: every line reaches the log', async () => {
    const lines = 20_000;
    const go = path.join(world.root, 'go');
    // The tmux server runs before `loupe serve` starts, as it does for a user with agents.
    world.tmux('new-session', '-d', '-s', 'keepalive', 'sleep 600');
    server = await startServe();
    const [agentId, file] = loupeRun('burst', ['sh', '-c', `while [ ! -e ${go} ]; do sleep 0.05; done; seq 1 ${lines}; sleep 30`]).split('\n');
    expect(agentId).toBe('burst');
    expect(file.startsWith(world.root)).toBe(true);
    await waitFor(() => fs.existsSync(file) && readEntries(file).length > 0, 20_000, 'the started entry');
    // Capture runs in a daemon of its own, not in the server's process.
    const daemons = execFileSync('pgrep', ['-f', `loupe.js daemon --socket ${world.socket}`], { encoding: 'utf8' }).trim().split('\n');
    expect(daemons).toHaveLength(1);
    expect(Number(daemons[0])).not.toBe(server.pid);
    fs.writeFileSync(go, '');
    await waitFor(() => readEntries(file).some((e) => e.content.startsWith('1\r')), 20_000, 'the burst to begin');
    server.kill('SIGKILL');
    await new Promise((resolve) => server!.once('exit', resolve));
    // Nobody restarts anything: the capture daemon goes on and the rest of the burst lands.
    await waitFor(() => readEntries(file).some((e) => e.content === `${lines}\r`), 30_000, 'the end of the burst in the log');
    expect(execFileSync('pgrep', ['-f', `loupe.js daemon --socket ${world.socket}`], { encoding: 'utf8' }).trim()).toBe(daemons[0]);
    const numbers = readEntries(file)
      .filter((e) => e.type === 'stdout' && /^\d+\r$/.test(e.content))
      .map((e) => Number(e.content.slice(0, -1)));
    expect(numbers).toEqual(Array.from({ length: lines }, (_, i) => i + 1));
  }, 90_000);
});

describe('loupe serve under descriptor exhaustion (W6)', () => {
  it('works again once the clients that held the descriptors leave: no failure is kept', async () => {
    world.tmux('new-session', '-d', '-s', 'keepalive', 'sleep 600');
    const [, file] = loupeRun('quiet', ['sh', '-c', 'echo ready; sleep 60']).split('\n');
    await waitFor(() => fs.existsSync(file) && readEntries(file).some((e) => e.content.startsWith('ready')), 20_000, 'the agent output');
    const taskId = path.basename(path.dirname(path.dirname(file)));
    server = await startServe(120);
    const reader = await connect();
    const hog = await connect();
    // The hog holds every descriptor it can get: one per live subscription.
    for (let i = 0; i < 250; i++) await hog.call('live:subscribe', { root: world.root, taskId, agentId: 'quiet', fromSequence: 1 });
    // Meanwhile the first call of its kind (whose module loads lazily) runs out of descriptors.
    await reader.call('workspace:list', {});
    hog.ws.close();
    await new Promise((r) => setTimeout(r, 300));
    await waitFor(
      async () => {
        const list = await reader.call("workspace:list", {});
        const tasks = (list.result as { roots: { tasks: unknown[] }[] } | undefined)?.roots?.[0]?.tasks ?? [];
        return list.ok && tasks.length === 1;
      },
      10_000,
      'workspace:list to list the task again',
    );
    const tail = await reader.call('agent:tail', { root: world.root, taskId, agentId: 'quiet', lines: 5, format: 'text' });
    expect(tail.ok, JSON.stringify(tail)).toBe(true);
    const found = await reader.call('index:search', { text: 'ready' });
    expect(found.ok).toBe(true);
    const page = await fetch(`http://${serveUrl.host}/`, { headers: { Authorization: `Bearer ${serveUrl.searchParams.get('token')}` } });
    expect(page.status).toBe(200);
    reader.ws.close();
    expect(server.exitCode).toBeNull();
  }, 90_000);
});

describe('loupe serve and background import', () => {
  it("imports a Codex session run in its root that is written while it serves", async () => {
    const codexHome = path.join(world.stateDir, '..', 'codex');
    server = await startServe(undefined, { ...process.env, HOME: path.join(world.stateDir, '..', 'home'), CODEX_HOME: codexHome, LOUPE_IMPORT_INTERVAL_MS: '100' });
    const rollout = path.join(codexHome, 'sessions', '2025', '11', '02', 'rollout-2025-11-02T10-00-00-x.jsonl');
    fs.mkdirSync(path.dirname(rollout), { recursive: true });
    const fixture = fs.readFileSync(path.resolve('electron/core/transcripts/fixtures/codex-rollout.jsonl'), 'utf8');
    fs.writeFileSync(rollout, fixture.replaceAll('/home/dev/api', world.root));
    const agents = await waitFor(() => listAgentLogs(world.root).map((l) => l.agentId).join(' '), 20_000, 'the rollout in the root');
    expect(agents).toBe('codex-019a4b2c-1d2e-7f30-8a4b-5c6d7e8f9a0b');
  });
});

describe('loupe serve off loopback', () => {
  it('warns that tokens travel in clear text over plain HTTP unless a TLS proxy is in front', async () => {
    server = await startServe(undefined, process.env, ['--host', '0.0.0.0']);
    await waitFor(() => serveStderr.includes('plain HTTP'), 10_000, 'the warning');
    expect(serveStderr).toContain(
      'loupe: warning: this is plain HTTP: tokens and output travel in clear text unless a TLS-terminating reverse proxy is in front (serve on 127.0.0.1 behind it; see "Team access" in the README)\n',
    );
  });
});
