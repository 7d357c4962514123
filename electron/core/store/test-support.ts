/**
 * A real, private PostgreSQL for tests: `initdb` on a temp folder and `pg_ctl` on a free loopback
 * port, run as the `postgres` user when the tests run as root (PostgreSQL refuses to run as root;
 * CI runs as root). Every PG test uses this one helper. Used only by *.test.ts files.
 * And agents' logs for the store's tests, written with the real log writer and shipped once.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureLogsDir, streamPath } from '../log/paths.js';
import { LogWriter } from '../log/writer.js';
import { LocalLogFollower } from '../ship/follow.js';
import { PostgresSink } from './shipSink.js';

/** Debian's server binaries, when they are not on the PATH. */
const PG_BIN_DIRS = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];

export interface TestPostgres {
  /** `postgres://loupe:PASSWORD@127.0.0.1:PORT/postgres`. */
  url: string;
  port: number;
  password: string;
  /** Stops the server (fast shutdown: open connections are cut, as when a database goes down). */
  stop(): void;
  /** Starts it again on the same port and folder. */
  start(): void;
  /** Stops it and removes its folder. */
  cleanup(): void;
  /** The server's processes: the postmaster, then its children (for CPU-time measurements). */
  pids(): number[];
}

function pgBinary(name: string): string {
  for (const dir of PG_BIN_DIRS) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return name;
}

/** Runs a server binary as `postgres` when we are root, else as ourselves; throws with its output on failure. */
function runAsServerUser(args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [cmd, ...rest] = asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args;
  const result = spawnSync(cmd!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout || result.error?.message}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Creates and starts a private PostgreSQL with password (scram) authentication for the user `loupe`. */
export async function startPostgres(): Promise<TestPostgres> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-pg-'));
  const data = path.join(base, 'data');
  const password = randomBytes(12).toString('hex');
  const pwFile = path.join(base, 'pw');
  fs.writeFileSync(pwFile, password);
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const uid = id('-u');
    const gid = id('-g');
    fs.chownSync(base, uid, gid);
    fs.chownSync(pwFile, uid, gid);
  }
  const port = await freePort();
  const ctl = (action: 'start' | 'stop') =>
    action === 'start'
      ? runAsServerUser([
          pgBinary('pg_ctl'), '-D', data, '-l', path.join(base, 'server.log'), '-w', '-t', '60',
          '-o', `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`, 'start',
        ])
      : runAsServerUser([pgBinary('pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']);
  runAsServerUser([pgBinary('initdb'), '-D', data, '-U', 'loupe', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C.UTF-8']);
  ctl('start');
  let running = true;
  return {
    url: `postgres://loupe:${password}@127.0.0.1:${port}/postgres`,
    port,
    password,
    stop() {
      if (running) ctl('stop');
      running = false;
    },
    start() {
      if (!running) ctl('start');
      running = true;
    },
    pids() {
      const postmaster = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '').map(Number);
      return [postmaster, ...children];
    },
    cleanup() {
      try {
        if (running) ctl('stop');
      } finally {
        running = false;
        fs.rmSync(base, { recursive: true, force: true });
      }
    },
  };
}

/** One agent of a test workspace, written with the real log writer (`writeTestAgent`). */
export interface TestAgent {
  root: string;
  taskId: string;
  agentId: string;
  writer: LogWriter;
  /** Lines of output written so far. */
  lines: number;
}

/**
 * Writes an agent's log: a `started` entry (80×24), `lines` lines of output from `baseUs` on, a
 * millisecond apart, each ending in `\r` as captured lines do (every 10th, from the 4th, a
 * `Traceback` error on stderr), and a `terminated` entry with `exitStatus` unless `live`.
 */
export function writeTestAgent(root: string, taskId: string, agentId: string, o: { lines: number; baseUs: number; live?: boolean; exitStatus?: number }): TestAgent {
  ensureLogsDir(root, taskId);
  const writer = new LogWriter(streamPath(root, taskId, agentId), { agentId });
  writer.append({ type: 'system', content: '[loupe] started', metadata: { event: 'started', cols: 80, rows: 24, command: 'job' }, timeMicros: o.baseUs });
  const agent: TestAgent = { root, taskId, agentId, writer, lines: 0 };
  appendTestLines(agent, o.lines, o.baseUs);
  if (o.live !== true) {
    const status = o.exitStatus ?? 0;
    writer.append({ type: 'system', content: '[loupe] terminated', metadata: { event: 'terminated', exit_status: status }, timeMicros: o.baseUs + (o.lines + 1) * 1000 });
    writer.closeSync();
  }
  return agent;
}

/** Appends `count` more lines of output to a live test agent (`text` names them: `TEXT n of AGENT`), and flushes them. */
export function appendTestLines(agent: TestAgent, count: number, baseUs: number, text = 'step'): void {
  for (let i = agent.lines + 1; i <= agent.lines + count; i++) {
    const error = i % 10 === 4;
    agent.writer.append({
      type: error ? 'stderr' : 'stdout',
      content: error ? `Traceback: ${text} ${i} of ${agent.agentId} failed\r` : `\u001b[32mok\u001b[0m ${text} ${i} of ${agent.agentId}\r`,
      ...(error ? { metadata: { level: 'error' as const } } : {}),
      timeMicros: baseUs + i * 1000,
    });
  }
  agent.lines += count;
  agent.writer.flush();
}

/** Ships what the logs under `root` hold now into the store at `url`, as `machine` (what `loupe ship --once` does). */
export async function shipOnce(url: string, root: string, machine: string): Promise<void> {
  const sink = new PostgresSink(url, machine);
  const follower = new LocalLogFollower([root], sink);
  try {
    await follower.runOnce();
  } finally {
    follower.dispose();
    await sink.dispose();
  }
}

/** Drops every table of the store (its month partitions go with them), so the next test starts from an empty database. */
export async function dropStore(client: { query(sql: string): Promise<unknown> }): Promise<void> {
  await client.query('DROP TABLE IF EXISTS loupe_entries, loupe_lines, loupe_runs, loupe_agents, loupe_meta, loupe_users, loupe_control CASCADE');
}
