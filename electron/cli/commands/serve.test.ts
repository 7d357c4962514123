/**
 * `loupe serve` is a client of capture, never its host (SPEC §4, RELIABILITY W8): `kill -9` of
 * the server during a burst leaves capture untouched, and the whole burst reaches the log.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorld, readEntries, waitFor, type TestWorld } from '../../core/capture/test-support.js';

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

/** Starts `loupe serve` and resolves once it printed its URL. */
async function startServe(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [LOUPE, 'serve', '--port', '0', '--root', world.root, '--socket', world.socket, '--allow-control'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('http://'), 30_000, 'loupe serve to print its URL');
  return child;
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
