/**
 * Control through the store (control.ts) with everything real: PostgreSQL, a private tmux server,
 * `loupe ship --accept-control` as its own process, and the store backend of `serve --store`. An
 * operator starts an agent on the machine and answers its question; what the machine says comes
 * back; viewers, rows that are not calls, and calls nobody takes are refused, and a withdrawn call
 * never runs later. Needs `tsc -b` first (the shipper runs from dist).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_CHANNELS, type CaptureStarted, type Workspace } from '../../../shared/ipc.js';
import type { Backend, BackendClient } from '../api/backend.js';
import { createWorld, readEntries, waitFor, waitForCaptureDaemons, type TestWorld } from '../capture/test-support.js';
import { acceptControl } from './control.js';
import { startStoreBackend } from './storeBackend.js';
import { startPostgres, type TestPostgres } from './test-support.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));

let server: TestPostgres;
let db: pg.Client;
let world: TestWorld;
let shipper: ChildProcess;
let shipperLog = '';
let store: Backend;
const opened: BackendClient[] = [];

function connect(user: { name: string; role: 'viewer' | 'operator' }): BackendClient {
  const client = store.connect({ transport: 'websocket', allowedControl: user.role === 'operator' ? CONTROL_CHANNELS : [], user, send: () => {} });
  opened.push(client);
  return client;
}

const boxRoot = () => `box:${world.root}`;

beforeAll(async () => {
  server = await startPostgres();
  db = new pg.Client({ connectionString: server.url });
  db.on('error', () => {});
  await db.connect();
  world = createWorld();
  world.root = fs.realpathSync(world.root);
  fs.mkdirSync(path.join(world.root, '.agent-workspace'));
  // A question in the shape many CLIs ask it, and what the answer was.
  fs.writeFileSync(path.join(world.root, 'ask.py'), 'answer = input("Deploy to production? [y/N] ")\nprint("answer was: " + answer)\nimport time\ntime.sleep(60)\n');
  shipper = spawn(process.execPath, [BIN, 'ship', '--to', server.url, '--root', world.root, '--machine', 'box', '--accept-control', '--socket', world.socket], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOUPE_STATE_DIR: world.stateDir },
  });
  shipper.stderr!.on('data', (chunk: Buffer) => (shipperLog += chunk.toString()));
  // The shipper's acceptor creates the schema when it first connects.
  await waitFor(async () => (await db.query("SELECT to_regclass('loupe_control') AS t")).rows[0].t !== null, 20_000, 'the control table');
  store = await startStoreBackend({ url: server.url, version: 'test' });
}, 60_000);

afterAll(async () => {
  for (const c of opened) c.close();
  await store?.dispose();
  if (shipper && shipper.exitCode === null) {
    shipper.kill('SIGTERM');
    await new Promise((r) => shipper.once('exit', r));
  }
  world?.cleanup();
  if (world) await waitForCaptureDaemons(world.socket);
  await db?.end().catch(() => {});
  server?.cleanup();
});

describe('control through the store', () => {
  let started: CaptureStarted;

  it("starts an agent on the machine, sees it wait, and answers it; the machine's log names the operator", async () => {
    const alice = connect({ name: 'alice', role: 'operator' });
    started = (await alice.call('agent:run', { root: boxRoot(), command: `python3 ${path.join(world.root, 'ask.py')}`, name: 'deploy', socket: world.socket })) as CaptureStarted;
    expect(started).toMatchObject({ root: boxRoot(), agentId: 'deploy', paneId: expect.stringMatching(/^%\d+$/) });

    // The machine's index sees the question; its shipper sends the attention facts to the store.
    const waiting = await waitFor(async () => {
      const ws = (await alice.call('workspace:list', {})) as Workspace;
      const agent = ws.roots.flatMap((r) => r.tasks).flatMap((t) => t.agents).find((a) => a.agentId === 'deploy');
      return agent?.attention.state === 'waiting' ? agent : undefined;
    }, 30_000, 'the agent waiting in the store');
    expect(waiting.attention.prompt).toMatch(/Deploy to production\? \[y\/N\]/);

    expect(await alice.call('agent:reply', { root: boxRoot(), taskId: started.taskId, agentId: 'deploy', text: 'y', enter: true })).toBeNull();
    const entries = await waitFor(() => {
      const all = readEntries(started.file);
      return all.some((e) => e.content.includes('answer was: y')) && all.some((e) => e.type === 'control') ? all : undefined;
    }, 20_000, 'the answer in the pane and its control entry');
    const control = entries.find((e) => e.type === 'control');
    expect(control?.metadata).toMatchObject({ event: 'user_input', by: 'alice (loupe serve --store)' });

    const { rows } = await db.query('SELECT channel, user_name, claimed_at IS NOT NULL AS taken, error FROM loupe_control ORDER BY id');
    expect(rows).toEqual([
      { channel: 'agent:run', user_name: 'alice', taken: true, error: null },
      { channel: 'agent:reply', user_name: 'alice', taken: true, error: null },
    ]);
    expect(shipperLog).toMatch(/alice called agent:reply: done/);
  }, 90_000);

  it("hands back the machine's own error, and refuses what needs a root, detach and export:save", async () => {
    const alice = connect({ name: 'alice', role: 'operator' });
    await expect(alice.call('agent:reply', { root: boxRoot(), taskId: started.taskId, agentId: 'ghost', text: 'y', enter: true })).rejects.toThrow(/^box: no agent ghost in task/);
    await expect(alice.call('agent:run', { command: 'true' })).rejects.toThrow(/^agent:run over a store needs a root \(machine:path/);
    await expect(alice.call('capture:attach', { root: `box:/elsewhere`, target: '%0' })).rejects.toThrow(/^box: \/elsewhere is not one of the open roots/);
    await expect(alice.call('capture:detach', { target: '%0' })).rejects.toThrow(/^capture:detach is not available on a server that reads a store: it names a pane but not its machine/);
    await expect(alice.call('export:save', { root: boxRoot(), taskId: started.taskId, agentId: 'deploy', format: 'text' })).rejects.toThrow(/^export:save is not available on a server that reads a store/);
  }, 30_000);

  it('refuses a viewer before anything is written', async () => {
    const before = (await db.query('SELECT count(*)::int AS n FROM loupe_control')).rows[0].n;
    const bob = connect({ name: 'bob', role: 'viewer' });
    await expect(bob.call('agent:reply', { root: boxRoot(), taskId: started.taskId, agentId: 'deploy', text: 'y', enter: true })).rejects.toThrow(/not allowed for bob, a viewer/);
    expect((await db.query('SELECT count(*)::int AS n FROM loupe_control')).rows[0].n).toBe(before);
  });

  it("answers rows that are not the contract's calls with an error, and runs nothing", async () => {
    const marker = path.join(world.root, 'pwned');
    const { rows } = await db.query(
      `INSERT INTO loupe_control (machine, channel, args, user_name) VALUES
         ('box', 'shell:exec', $1, 'mallory'), ('box', 'capture:detach', '{"target": "%0"}', 'mallory'), ('box', 'agent:run', '{"command": 5}', 'mallory')
       RETURNING id`,
      [JSON.stringify({ cmd: `touch ${marker}` })],
    );
    await db.query("SELECT pg_notify('loupe_control', 'box')");
    const ids = rows.map((r: { id: string }) => r.id);
    const done = await waitFor(async () => {
      const r = await db.query('SELECT error FROM loupe_control WHERE id = ANY($1) AND done_at IS NOT NULL ORDER BY id', [ids]);
      return r.rows.length === 3 ? r.rows : undefined;
    }, 15_000, 'the answers');
    expect(done.map((r: { error: { message: string } }) => r.error.message)).toEqual([
      'shell:exec is not a call a machine takes from the store',
      'capture:detach is not a call a machine takes from the store',
      expect.stringMatching(/^agent:run: command: Invalid input/),
    ]);
    expect(fs.existsSync(marker)).toBe(false);
  }, 30_000);

  it('withdraws a call no machine takes, saying so, and it does not run when that machine comes', async () => {
    const alice = connect({ name: 'alice', role: 'operator' });
    const elsewhere = path.join(world.root, 'elsewhere');
    fs.mkdirSync(path.join(elsewhere, '.agent-workspace'), { recursive: true });
    await expect(alice.call('agent:run', { root: `laptop:${elsewhere}`, command: 'true' })).rejects.toThrow(
      /^laptop did not take the call within 10 s, so nothing was done; is `loupe ship --to URL --accept-control` running there\?/,
    );
    // The laptop's shipper starts after the call was withdrawn: it takes nothing.
    const stop = new AbortController();
    const accepting = acceptControl({ url: server.url, machine: 'laptop', roots: [elsewhere], sockets: [world.socket], version: 'test', log: () => {}, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 1500));
    stop.abort();
    await accepting;
    const { rows } = await db.query("SELECT claimed_at, error FROM loupe_control WHERE machine = 'laptop'");
    expect(rows).toEqual([{ claimed_at: null, error: { message: 'not taken in time' } }]);
  }, 30_000);
});
