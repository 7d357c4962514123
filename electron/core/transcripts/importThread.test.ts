/**
 * Background import in the process that captures (`loupe daemon`, started by `loupe run`), with
 * HOME and CODEX_HOME in temp folders. Needs `npm run build` first (`npm test` does it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, readEntries, waitFor, waitForCaptureDaemons, type TestWorld } from '../capture/test-support.js';
import { listAgentLogs } from '../log/paths.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

let world: TestWorld;
let home: string;
let codexHome: string;
let env: NodeJS.ProcessEnv;

function loupe(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** Lines of a fixture with its working folder replaced by `cwd`. */
function fixtureLines(name: string, cwd: string): string[] {
  const fixtureCwd = name.startsWith('codex') ? '/home/dev/api' : '/home/dev/proj';
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8').replaceAll(fixtureCwd, cwd).trim().split('\n');
}

function write(file: string, lines: string[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

function agentLog(root: string, prefix: string): string | undefined {
  return listAgentLogs(root).find((l) => l.agentId.startsWith(prefix))?.file;
}

beforeAll(() => {
  world = createWorld();
  home = path.join(world.stateDir, '..', 'home');
  codexHome = path.join(world.stateDir, '..', 'codex');
  // Passes every 100 ms, so the test does not wait for the default 5 s.
  env = { ...process.env, HOME: home, CODEX_HOME: codexHome, LOUPE_IMPORT_INTERVAL_MS: '100' };
});

afterAll(async () => {
  world.cleanup();
  await waitForCaptureDaemons(world.socket);
});

describe('background import in loupe daemon', () => {
  it('imports a session written after it started, continues it as it grows, and leaves a root that turned it off alone', async () => {
    const off = path.join(world.stateDir, '..', 'off');
    fs.mkdirSync(off);
    fs.writeFileSync(path.join(off, 'loupe.config.json'), JSON.stringify({ importTranscripts: false }));
    loupe('run', '--root', world.root, '--socket', world.socket, '--name', 'shell', '--', 'sleep', '600');
    loupe('run', '--root', off, '--socket', world.socket, '--name', 'shell', '--', 'sleep', '600');

    const claude = fixtureLines('claude-session.jsonl', path.join(world.root, 'app'));
    const transcript = path.join(home, '.claude', 'projects', '-root-app', '7f3c2a10.jsonl');
    write(transcript, claude.slice(0, 4));
    const log = await waitFor(() => agentLog(world.root, 'claude-'), 20_000, 'the transcript in the root');
    const first = await waitFor(() => readEntries(log).length, 5000, 'its entries');
    write(transcript, claude);
    await waitFor(() => readEntries(log).length > first, 20_000, 'the grown transcript');
    expect(readEntries(log).map((e) => e.sequence)).toEqual(readEntries(log).map((_, i) => i + 1));

    // Claude's home is looked at before Codex's in every pass: once the rollout is in, the pass
    // that brought it has seen the transcript of the root that turned import off.
    write(path.join(home, '.claude', 'projects', '-off', 'off.jsonl'), fixtureLines('claude-stream.jsonl', off));
    write(path.join(codexHome, 'sessions', '2025', '11', '02', 'rollout-x.jsonl'), fixtureLines('codex-rollout.jsonl', world.root));
    await waitFor(() => agentLog(world.root, 'codex-'), 20_000, 'the rollout in the root');
    expect(listAgentLogs(off).map((l) => l.agentId)).toEqual(['shell']);
  });

  it.runIf(process.platform === 'linux')('imports in a thread niced below the one that converts captures', async () => {
    const pid = await waitFor(() => spawnSync('pgrep', ['-f', `daemon --socket ${world.socket}( |$)`], { encoding: 'utf8' }).stdout.trim().split('\n')[0], 10_000, 'the daemon');
    const nice = (task: string) => {
      const stat = fs.readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const threads = await waitFor(() => {
      const tasks = fs.readdirSync(`/proc/${pid}/task`);
      return tasks.some((t) => nice(t) === 10) && tasks;
    }, 10_000, 'a niced thread');
    expect(nice(pid)).toBeLessThan(10);
    expect(threads.filter((t) => nice(t) === 10).length).toBeGreaterThan(0);
  });
});
