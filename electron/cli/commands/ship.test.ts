/**
 * `loupe ship` against a real PostgreSQL (electron/core/store/test-support.ts): totals equal to
 * the local index, idempotent re-shipping, a shipper killed mid-burst, the database going away
 * and coming back, live output, and the errors a user can make (RELIABILITY S1, S2).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, waitFor, waitForCaptureDaemons } from '../../core/capture/test-support.js';
import { Indexer } from '../../core/index/indexer.js';
import { ensureLogsDir, streamPath } from '../../core/log/paths.js';
import { LogWriter } from '../../core/log/writer.js';
import { dropStore, startPostgres, type TestPostgres } from '../../core/store/test-support.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const TASK = 'TASK-20261202-040000-0a1b2c3d';
const BASE_US = Date.UTC(2026, 11, 2, 4) * 1000;

let server: TestPostgres;
let db: pg.Client;
let base: string;
const children: ChildProcess[] = [];

/** The test's own connection; the server's stops cut it, and `reconnect` opens a new one. */
async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: server.url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

beforeAll(async () => {
  server = await startPostgres();
  db = await connect();
});
afterAll(async () => {
  await db?.end().catch(() => {});
  server?.cleanup();
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
  server.start();
  await reconnect();
  await dropStore(db);
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

async function reconnect(): Promise<void> {
  try {
    await db.query('SELECT 1');
  } catch {
    await db.end().catch(() => {});
    db = await connect();
  }
}

function newRoot(name: string): string {
  base ??= fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-ship-'));
  if (!fs.existsSync(base)) fs.mkdirSync(base);
  const root = path.join(base, name);
  fs.mkdirSync(root, { recursive: true });
  return root;
}

function loupe(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function startShipper(...args: string[]): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'ship', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8');
  let stderr = '';
  child.stderr!.on('data', (d: string) => (stderr += d));
  Object.defineProperty(child, 'log', { get: () => stderr });
  children.push(child);
  return child;
}

/** Writes `count` lines of output for an agent with the real log writer, after a started entry. */
function writeAgent(root: string, agentId: string, count: number, from = 0, writer?: LogWriter): LogWriter {
  ensureLogsDir(root, TASK);
  const w = writer ?? new LogWriter(streamPath(root, TASK, agentId), { agentId });
  if (writer === undefined && from === 0) {
    w.append({ type: 'system', content: '[loupe] started', metadata: { event: 'started', cols: 80, rows: 24, command: 'job' }, timeMicros: BASE_US });
  }
  for (let i = from; i < from + count; i++) {
    const error = i % 50 === 7;
    w.append({
      type: error ? 'stderr' : 'stdout',
      content: error ? `Traceback: step ${i} failed` : `\u001b[32mok\u001b[0m step ${i} of ${agentId}`,
      ...(error ? { metadata: { level: 'error' } } : {}),
      timeMicros: BASE_US + (i + 1) * 1000,
    });
  }
  w.flush();
  return w;
}

/** Entries and screen lines the local index holds for a root, per agent. */
function localTotals(root: string): Map<string, { entries: number; lines: number }> {
  const indexer = new Indexer(root);
  try {
    indexer.indexPending();
    const rows = indexer.db
      .prepare(
        `SELECT a.agent_id AS agent, (SELECT count(*) FROM entries e WHERE e.agent = a.id) AS entries,
           (SELECT count(*) FROM lines l WHERE l.agent = a.id) AS lines FROM agents a`,
      )
      .all() as { agent: string; entries: number; lines: number }[];
    return new Map(rows.map((r) => [r.agent, { entries: r.entries, lines: r.lines }]));
  } finally {
    indexer.dispose();
  }
}

async function storeTotals(machine: string): Promise<Map<string, { entries: number; lines: number }>> {
  const { rows } = await db.query<{ agent: string; entries: string; lines: string }>(
    `SELECT a.agent_id AS agent, (SELECT count(*) FROM loupe_entries e WHERE e.agent = a.id) AS entries,
       (SELECT count(*) FROM loupe_lines l WHERE l.agent = a.id) AS lines
     FROM loupe_agents a WHERE a.machine = $1`,
    [machine],
  );
  return new Map(rows.map((r) => [r.agent, { entries: Number(r.entries), lines: Number(r.lines) }]));
}

/** Sequences in the store for one agent: count, distinct count, min, max. */
async function sequences(machine: string, agentId: string) {
  const { rows } = await db.query<{ n: string; d: string; lo: string | null; hi: string | null }>(
    `SELECT count(*) AS n, count(DISTINCT e.seq) AS d, min(e.seq) AS lo, max(e.seq) AS hi
     FROM loupe_entries e JOIN loupe_agents a ON a.id = e.agent WHERE a.machine = $1 AND a.agent_id = $2`,
    [machine, agentId],
  );
  const r = rows[0]!;
  return { count: Number(r.n), distinct: Number(r.d), min: Number(r.lo ?? 0), max: Number(r.hi ?? 0) };
}

async function tableExists(): Promise<boolean> {
  const { rows } = await db.query("SELECT to_regclass('loupe_entries') IS NOT NULL AS ok");
  return rows[0].ok as boolean;
}

describe('loupe ship --once', () => {
  it('ships two roots as two machines with the same totals as the local index, screen lines included', async () => {
    const a = newRoot('a');
    const b = newRoot('b');
    writeAgent(a, 'builder', 300).closeSync();
    writeAgent(a, 'tester', 120).closeSync();
    writeAgent(b, 'builder', 80).closeSync();
    const ra = loupe('ship', '--to', server.url, '--root', a, '--machine', 'laptop', '--once');
    expect(ra.stderr).toBe('');
    expect(ra.status).toBe(0);
    expect(ra.stdout).toMatch(/^shipped 422 entries and \d+ screen lines to postgres:\/\/loupe:\*\*\*@127\.0\.0\.1:\d+\/postgres as machine laptop\n$/);
    expect(ra.stdout).not.toContain(server.password);
    const rb = loupe('ship', '--to', server.url, '--root', b, '--machine', 'buildbox', '--once');
    expect(rb.status).toBe(0);
    expect(await storeTotals('laptop')).toEqual(localTotals(a));
    expect(await storeTotals('buildbox')).toEqual(localTotals(b));
    expect((await storeTotals('laptop')).get('builder')!.lines).toBeGreaterThan(300);
    // The raw line is kept exactly; the screen lines are what search reads, found by pg_trgm.
    const raw = fs.readFileSync(streamPath(a, TASK, 'builder'), 'utf8').split('\n')[5];
    const { rows } = await db.query(
      `SELECT e.line FROM loupe_entries e JOIN loupe_agents g ON g.id = e.agent WHERE g.machine = 'laptop' AND g.agent_id = 'builder' AND e.seq = 6`,
    );
    expect(rows[0].line).toBe(raw);
    const hits = await db.query(`SELECT count(*) AS n FROM loupe_lines WHERE text ILIKE '%traceback: step 57 %'`);
    expect(Number(hits.rows[0].n)).toBe(3); // laptop's builder and tester, buildbox's builder
  });

  it('adds nothing when the same logs are shipped again', async () => {
    const a = newRoot('a');
    writeAgent(a, 'builder', 200).closeSync();
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').status).toBe(0);
    const before = await storeTotals('m1');
    const again = loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^shipped 0 entries and 0 screen lines/);
    expect(await storeTotals('m1')).toEqual(before);
    // More output later ships only the new entries.
    const w = new LogWriter(streamPath(a, TASK, 'builder'), { agentId: 'builder' });
    writeAgent(a, 'builder', 10, 200, w).closeSync();
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').stdout).toMatch(/^shipped 10 entries/);
    expect(await sequences('m1', 'builder')).toEqual({ count: 211, distinct: 211, min: 1, max: 211 });
  });

  it('keeps NUL bytes, escapes and any Unicode exactly (PostgreSQL text cannot hold NUL)', async () => {
    const a = newRoot('a');
    ensureLogsDir(a, TASK);
    const w = new LogWriter(streamPath(a, TASK, 'odd'), { agentId: 'odd' });
    w.append({ type: 'system', content: '[loupe] started', metadata: { event: 'started', cols: 80, rows: 24, command: 'odd' }, timeMicros: BASE_US });
    w.append({ type: 'stdout', content: 'nul\u0000byte \u001b[1m日本語 😀\r', timeMicros: BASE_US + 1000 });
    w.append({ type: 'stdout', content: 'after', timeMicros: BASE_US + 2000 });
    w.closeSync();
    const r = loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const raw = fs.readFileSync(streamPath(a, TASK, 'odd'), 'utf8').split('\n').slice(0, 3);
    const { rows } = await db.query('SELECT line FROM loupe_entries ORDER BY seq');
    expect(rows.map((x) => x.line)).toEqual(raw);
    expect(JSON.parse(rows[1].line).content).toBe('nul\u0000byte \u001b[1m日本語 😀\r');
  });

  it('creates month partitions on demand', async () => {
    const a = newRoot('a');
    writeAgent(a, 'builder', 5).closeSync();
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').status).toBe(0);
    const { rows } = await db.query(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relname = 'loupe_entries' ORDER BY 1`,
    );
    expect(rows.map((r) => r.relname)).toEqual(['loupe_entries_202612']);
  });

  it('refuses a malformed URL with status 2 and a bad password with status 1, without retrying', async () => {
    const a = newRoot('a');
    const bad = loupe('ship', '--to', 'http://example.com/db', '--root', a, '--once');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('loupe: "http://example.com/db" is not a PostgreSQL URL (it must start with postgres:// or postgresql://)\n');
    expect(loupe('ship', '--to', 'not a url', '--root', a, '--once').status).toBe(2);
    const machine = loupe('ship', '--to', server.url, '--root', a, '--machine', 'my laptop', '--once');
    expect(machine.status).toBe(2);
    expect(machine.stderr).toBe(`loupe: --machine "my laptop" is not a valid name: use letters, digits, '.', '_' and '-' (up to 128)\n`);
    expect(loupe('ship', '--to', server.url, '--root', a, '--once', '--retries', '0').stderr).toBe('loupe: --retries "0" is not a whole number of at least 1\n');
    expect(loupe('daemon', '--ship', 'mysql://x/y', '--root', a).status).toBe(2);
    const empty = newRoot('empty');
    const noWorkspace = loupe('ship', '--to', server.url, '--root', empty, '--once');
    expect(noWorkspace.status).toBe(2);
    expect(noWorkspace.stderr).toBe(`loupe: ${empty} has no .agent-workspace/ folder: run agents with \`loupe run\` there first, or pass --root\n`);
    expect(fs.existsSync(path.join(empty, '.agent-workspace'))).toBe(false);
    writeAgent(a, 'builder', 3).closeSync();
    const wrong = server.url.replace(server.password, 'wrong-password');
    const denied = loupe('ship', '--to', wrong, '--root', a, '--once');
    expect(denied.status).toBe(1);
    expect(denied.stderr).toMatch(/^loupe: shipping to postgres:\/\/loupe:\*\*\*@.* failed: PostgreSQL at 127\.0\.0\.1:\d+\/postgres refused the login: password authentication failed for user "loupe"\n$/);
    expect(denied.stderr).not.toContain('retrying');
  });

  it('gives up with status 1 after its retries when nothing listens', async () => {
    const a = newRoot('a');
    writeAgent(a, 'builder', 3).closeSync();
    server.stop();
    const r = loupe('ship', '--to', server.url, '--root', a, '--once', '--retries', '2');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/connection refused \(is the server running\?\); retrying in 0\.3 s\n/);
    expect(r.stderr).toMatch(/loupe: shipping to .* failed: cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/postgres: connection refused \(is the server running\?\)\n$/);
  });
});

describe('loupe ship (following)', () => {
  it('has new output in the store within seconds', async () => {
    const a = newRoot('a');
    const w = writeAgent(a, 'live', 5);
    startShipper('--to', server.url, '--root', a, '--machine', 'm1');
    await waitFor(async () => (await tableExists()) && (await sequences('m1', 'live')).max === 6, 30_000, 'the first entries');
    writeAgent(a, 'live', 1, 5, w);
    const written = Date.now();
    await waitFor(async () => (await sequences('m1', 'live')).max === 7, 10_000, 'the new entry');
    expect(Date.now() - written).toBeLessThan(5000);
    w.closeSync();
  });

  it('loses and duplicates nothing when it is killed with SIGKILL mid-burst and started again', async () => {
    const a = newRoot('a');
    writeAgent(a, 'burst', 60_000).closeSync();
    const first = startShipper('--to', server.url, '--root', a, '--machine', 'm1');
    await waitFor(async () => (await tableExists()) && (await sequences('m1', 'burst')).count > 0, 60_000, 'a first batch');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const partial = await sequences('m1', 'burst');
    expect(partial.count).toBeLessThan(60_001);
    expect(partial).toEqual({ count: partial.max, distinct: partial.max, min: 1, max: partial.max });
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').status).toBe(0);
    expect(await sequences('m1', 'burst')).toEqual({ count: 60_001, distinct: 60_001, min: 1, max: 60_001 });
    expect(await storeTotals('m1')).toEqual(localTotals(a));
  });

  it('retries while the database is down and ends with every entry exactly once', async () => {
    const a = newRoot('a');
    const w = writeAgent(a, 'steady', 100);
    const shipper = startShipper('--to', server.url, '--root', a, '--machine', 'm1');
    await waitFor(async () => (await tableExists()) && (await sequences('m1', 'steady')).max === 101, 30_000, 'the first entries');
    server.stop();
    writeAgent(a, 'steady', 400, 100, w);
    await waitFor(() => (shipper as unknown as { log: string }).log.includes('retrying'), 30_000, 'a retry');
    writeAgent(a, 'steady', 100, 500, w);
    server.start();
    await reconnect();
    await waitFor(async () => (await sequences('m1', 'steady')).max === 601, 60_000, 'the catch-up');
    expect(await sequences('m1', 'steady')).toEqual({ count: 601, distinct: 601, min: 1, max: 601 });
    w.closeSync();
    await waitFor(async () => {
      const local = localTotals(a).get('steady')!;
      const store = (await storeTotals('m1')).get('steady')!;
      return local.lines === store.lines && local.entries === store.entries;
    }, 30_000, 'the screen lines to match');
  });
});

describe('loupe daemon --ship', () => {
  it('captures an agent and ships its output while it runs', async () => {
    const world = createWorld();
    try {
      const daemon = spawn(process.execPath, [BIN, 'daemon', '--socket', world.socket, '--ship', server.url, '--root', world.root, '--machine', 'devbox'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(daemon);
      let log = '';
      daemon.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      await waitFor(() => log.includes('capturing on socket'), 20_000, 'the daemon');
      const run = loupe('run', '--socket', world.socket, '--root', world.root, '--name', 'shipped', '--', 'sh', '-c', 'echo hello from the daemon; sleep 30');
      expect(run.status).toBe(0);
      await waitFor(async () => {
        if (!(await tableExists())) return false;
        const { rows } = await db.query(
          `SELECT count(*) AS n FROM loupe_lines l JOIN loupe_agents a ON a.id = l.agent WHERE a.machine = 'devbox' AND a.agent_id = 'shipped' AND l.text = 'hello from the daemon'`,
        );
        return Number(rows[0].n) === 1;
      }, 30_000, 'the line in the store');
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      expect(log).toContain('shipping');
      expect(log).not.toMatch(/shipper exited/);
    } finally {
      world.cleanup();
      await waitForCaptureDaemons(world.socket);
    }
  });
});

describe('reading from the store: ls, search and tail with --store', () => {
  async function shipTwoMachines(): Promise<{ a: string; b: string }> {
    const a = newRoot('a');
    const b = newRoot('b');
    writeAgent(a, 'builder', 120).closeSync();
    writeAgent(b, 'tester', 60).closeSync();
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'laptop', '--once').status).toBe(0);
    expect(loupe('ship', '--to', server.url, '--root', b, '--machine', 'buildbox', '--once').status).toBe(0);
    return { a, b };
  }

  it('ls --store lists every machine, root, task and agent', async () => {
    const { a, b } = await shipTwoMachines();
    const r = loupe('ls', '--store', server.url, '--json');
    expect(r.status).toBe(0);
    const listing = JSON.parse(r.stdout);
    expect(listing.machines.map((m: { machine: string }) => m.machine)).toEqual(['buildbox', 'laptop']);
    expect(listing.machines[1].roots[0].root).toBe(a);
    expect(listing.machines[0].roots[0].root).toBe(b);
    expect(listing.machines[1].roots[0].tasks[0]).toMatchObject({ taskId: TASK, agents: [{ agentId: 'builder', state: 'live', entries: 121 }] });
    const text = loupe('ls', '--store', server.url, '--machine', 'laptop');
    expect(text.stdout).toMatch(new RegExp(`^laptop\\n  ${a}\\n    ${TASK}  \\(1 agent\\)\\n      AGENT +STATE +ENTRIES +LAST ACTIVITY +SHIPPED\\n      builder +live +121 `));
    expect(text.stdout).not.toContain('buildbox');
  });

  it('search --store finds what local search finds, on every machine', async () => {
    const { a, b } = await shipTwoMachines();
    const local = [a, b].map((root) => JSON.parse(loupe('search', 'traceback: step 5', '--root', root, '--json').stdout));
    const store = JSON.parse(loupe('search', 'traceback: step 5', '--store', server.url, '--json').stdout);
    expect(store.total).toBe(local[0].total + local[1].total);
    expect(store.total).toBe(2); // step 57 of builder; tester stops at 59 and holds 57 too
    expect(store.byLevel).toEqual({ error: 2 });
    const hits = loupe('search', 'Traceback', '--regex', '--store', server.url, '--machine', 'buildbox', '--limit', '1');
    expect(hits.status).toBe(0);
    expect(hits.stdout).toMatch(/^\S+ buildbox\/tester #\d+ Traceback: step 57 failed\n$/);
    expect(hits.stderr).toBe('1 of 2 hits (use --limit/--offset for more)\n');
  });

  it('stats --store gives the run summaries local stats gives, with the machine', async () => {
    const { a, b } = await shipTwoMachines();
    // By task, then agent: laptop's builder before buildbox's tester.
    const local = [...JSON.parse(loupe('stats', '--root', a, '--json').stdout), ...JSON.parse(loupe('stats', '--root', b, '--json').stdout)];
    const store = loupe('stats', '--store', server.url, '--json');
    expect(store.status).toBe(0);
    expect(JSON.parse(store.stdout)).toEqual(local.map((r, i) => ({ ...r, machine: i === 0 ? 'laptop' : 'buildbox' })));
    expect(local.map((r) => [r.agentId, r.entries, r.errors])).toEqual([['builder', 121, 3], ['tester', 61, 2]]);
    const table = loupe('stats', 'builder', '--store', server.url);
    expect(table.stdout).toMatch(/^MACHINE +TASK +AGENT +RUN +STATUS .*\nlaptop +TASK-\S+ +builder +1 +live /);
    expect(loupe('stats', 'nobody', '--store', server.url).status).toBe(2);
  });

  it('tail --store prints what a local tail prints, as screen lines and as raw JSONL', async () => {
    const { a } = await shipTwoMachines();
    for (const args of [['-n', '5'], ['-n', '3', '--format', 'jsonl'], ['-n', '2', '--level', 'error'], ['-n', '4', '--format', 'ansi', '--grep', 'step 1\\d']]) {
      const local = loupe('tail', ...args, '--root', a, 'builder');
      const store = loupe('tail', ...args, '--store', server.url, 'builder');
      expect(local.status).toBe(0);
      expect(store.stderr, args.join(' ')).toBe('');
      expect(store.stdout, args.join(' ')).toBe(local.stdout);
    }
  });

  it('tail -f --store prints newly shipped lines, also after its connection was cut', async () => {
    const a = newRoot('a');
    const w = writeAgent(a, 'live', 3);
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').status).toBe(0);
    const tail = spawn(process.execPath, [BIN, 'tail', '-f', '-n', '1', '--format', 'jsonl', '--store', server.url, 'live'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(tail);
    let out = '';
    let err = '';
    tail.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    tail.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(() => out.includes('"sequence":4'), 20_000, 'the last entry');
    writeAgent(a, 'live', 2, 3, w);
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').status).toBe(0);
    await waitFor(() => out.includes('"sequence":6'), 10_000, 'the shipped entries');
    // Cut the follower's connection: it reconnects and reads on from its last sequence.
    await waitFor(async () => {
      const { rows } = await db.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'loupe' AND query LIKE '%loupe_entries%'");
      return rows.length > 0;
    }, 10_000, 'the follower connection');
    writeAgent(a, 'live', 2, 5, w);
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').status).toBe(0);
    await waitFor(() => out.includes('"sequence":8'), 20_000, 'the entries after the reconnect');
    expect(err).toMatch(/reconnecting to the store/);
    const seqs = out.trim().split('\n').map((l) => JSON.parse(l).sequence);
    expect(seqs).toEqual([4, 5, 6, 7, 8]);
    w.closeSync();
  });

  it('says what is wrong: an unknown agent (2), a malformed URL (2), an unreachable store (1)', async () => {
    await shipTwoMachines();
    const unknown = loupe('tail', '--store', server.url, 'nobody');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe('loupe: no agent "nobody" in the store; run `loupe ls --store URL` to list agents\n');
    expect(loupe('search', 'x', '--store', 'mysql://h/db').status).toBe(2);
    expect(loupe('ls', '--machine', 'laptop').status).toBe(2);
    server.stop();
    const down = loupe('ls', '--store', server.url);
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^loupe: cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/postgres: connection refused \(is the server running\?\)\n$/);
  });
});

describe('loupe store prune', () => {
  it('moves old months into gzipped JSONL archives that tail reads, drops them, and shipping never sends them again', async () => {
    const a = newRoot('a');
    ensureLogsDir(a, TASK);
    const file = streamPath(a, TASK, 'old');
    const w = new LogWriter(file, { agentId: 'old' });
    const sept = Date.UTC(2026, 8, 15) * 1000;
    w.append({ type: 'system', content: '[loupe] started', metadata: { event: 'started', cols: 80, rows: 24, command: 'job' }, timeMicros: sept });
    for (let i = 1; i <= 30; i++) w.append({ type: 'stdout', content: `september line ${i}`, timeMicros: sept + i * 1000 });
    const now = Date.now() * 1000;
    for (let i = 1; i <= 5; i++) w.append({ type: 'stdout', content: `recent line ${i}`, timeMicros: now - 60_000_000 + i * 1000 });
    w.closeSync();
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').status).toBe(0);
    const archive = path.join(base, 'archive');
    const r = loupe('store', 'prune', '--store', server.url, '--older-than', '30d', '--archive', archive);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`archived 2026-09: 31 entries of 1 agents into ${archive}; dropped it from the store\n`);
    const gz = path.join(archive, 'm1', a.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_'), TASK, 'old_stream.jsonl.20260901T000000.gz');
    const tail = loupe('tail', '-n', '100', '--format', 'jsonl', gz);
    expect(tail.status).toBe(0);
    expect(tail.stdout).toBe(fs.readFileSync(file, 'utf8').split('\n').slice(0, 31).join('\n') + '\n');
    expect(await sequences('m1', 'old')).toEqual({ count: 5, distinct: 5, min: 32, max: 36 });
    const { rows } = await db.query("SELECT count(*) AS n FROM pg_class WHERE relname IN ('loupe_entries_202609', 'loupe_lines_202609')");
    expect(Number(rows[0].n)).toBe(0);
    expect(loupe('ship', '--to', server.url, '--root', a, '--machine', 'm1', '--once').stdout).toMatch(/^shipped 0 entries/);
    expect(loupe('store', 'prune', '--store', server.url, '--older-than', '30d', '--archive', archive).stdout).toBe('nothing to prune: no month of the store ended before that\n');
    expect(loupe('store', 'prune', '--store', server.url, '--older-than', 'soon', '--archive', archive).status).toBe(2);
  });
});
