/**
 * A real, private PostgreSQL for tests: `initdb` on a temp folder and `pg_ctl` on a free loopback
 * port, run as the `postgres` user when the tests run as root (PostgreSQL refuses to run as root;
 * CI runs as root). Every PG test uses this one helper. Used only by *.test.ts files.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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
