/**
 * The store backend (`loupe serve --store`, `loupe mcp --store`) against a real PostgreSQL: two
 * roots shipped as two machines answer every read channel as the local backend over the same
 * roots does; live subscriptions follow what is shipped after they begin, through a dropped
 * listening connection without losing or repeating an entry; control needs an operator.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../shared/entry.js';
import type { AgentRef, LiveBatch, Push, PushChannel, SearchHit, Workspace, WorkspaceAgent } from '../../../shared/ipc.js';
import { startBackend, type Backend, type BackendClient } from '../api/backend.js';
import { waitFor } from '../capture/test-support.js';
import { listenStore } from './listen.js';
import { startStoreBackend } from './storeBackend.js';
import { appendTestLines, shipOnce, startPostgres, writeTestAgent, type TestAgent, type TestPostgres } from './test-support.js';

const TASK = 'TASK-20261202-050000-0a1b2c3d';
const OTHER_TASK = 'TASK-20261202-060000-1b2c3d4e';
const BASE_US = Date.UTC(2026, 11, 2, 5) * 1000;

let server: TestPostgres;
let base: string;
let laptop: string;
let buildbox: string;
let live: TestAgent;
let local: Backend;
let store: Backend;
const storeLog: string[] = [];
const opened: BackendClient[] = [];

/** A client of `backend` that keeps every push it gets and acks live batches as a renderer does. */
function connect(backend: Backend): BackendClient & { pushes: { channel: PushChannel; payload: unknown }[]; liveEntries: (subscriptionId: string) => LogEntry[] } {
  const pushes: { channel: PushChannel; payload: unknown }[] = [];
  const client: BackendClient = backend.connect({
    transport: 'websocket',
    allowedControl: [],
    send: <C extends PushChannel>(channel: C, payload: Push[C]) => {
      pushes.push({ channel, payload });
      if (channel === 'live:entries') {
        for (const b of (payload as Push['live:entries']).batches) void client.call('live:ack', { subscriptionId: b.subscriptionId, sequence: b.entries.at(-1)!.sequence });
      }
    },
  });
  opened.push(client);
  return Object.assign(client, {
    pushes,
    liveEntries: (id: string) =>
      pushes.flatMap((p) => (p.channel === 'live:entries' ? (p.payload as { batches: LiveBatch[] }).batches.filter((b) => b.subscriptionId === id).flatMap((b) => b.entries) : [])),
  });
}

/** The store's id of a local root shipped as `machine`. */
const storeRoot = (machine: string, root: string) => `${machine}:${root}`;

beforeAll(async () => {
  server = await startPostgres();
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-store-backend-')));
  laptop = path.join(base, 'laptop', 'app');
  buildbox = path.join(base, 'buildbox', 'app');
  // The same task and agent ids on both machines, as two clones of one repository would have.
  writeTestAgent(laptop, TASK, 'worker', { lines: 60, baseUs: BASE_US });
  writeTestAgent(laptop, TASK, 'tests', { lines: 25, baseUs: BASE_US + 5000, exitStatus: 2 });
  writeTestAgent(buildbox, TASK, 'worker', { lines: 40, baseUs: BASE_US + 200_000 });
  live = writeTestAgent(buildbox, OTHER_TASK, 'deploy', { lines: 5, baseUs: BASE_US + 3_600_000_000, live: true });
  await shipOnce(server.url, laptop, 'laptop');
  await shipOnce(server.url, buildbox, 'buildbox');
  // A tmux socket nobody runs: the listing looks at no tmux server (never the default one).
  local = startBackend({ roots: [laptop, buildbox], sockets: [`loupe-test-none-${process.pid}`], version: 'test' });
  store = await startStoreBackend({ url: server.url, version: 'test', log: (m) => storeLog.push(m) });
}, 120_000);

afterAll(async () => {
  for (const c of opened) c.close();
  live?.writer.closeSync();
  await store?.dispose();
  await local?.dispose();
  server?.cleanup();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

/** Every agent of both machines, as the local backend names them and as the store does. */
function agentPairs(): { local: AgentRef; store: AgentRef }[] {
  const pairs = [
    ['laptop', laptop, TASK, 'worker'],
    ['laptop', laptop, TASK, 'tests'],
    ['buildbox', buildbox, TASK, 'worker'],
    ['buildbox', buildbox, OTHER_TASK, 'deploy'],
  ] as const;
  return pairs.map(([machine, root, taskId, agentId]) => ({ local: { root, taskId, agentId }, store: { root: storeRoot(machine, root), taskId, agentId } }));
}

describe('the store backend, against the local backend over the same two roots', () => {
  it('lists machines → roots → tasks → agents with the local states, entries, exit statuses and times', async () => {
    const c = connect(store);
    const l = connect(local);
    const fromStore = (await c.call('workspace:list', {})) as Workspace;
    const fromLocal = (await l.call('workspace:list', {})) as Workspace;
    expect(fromStore.roots.map((r) => [r.machine, r.path, r.root])).toEqual([
      ['buildbox', buildbox, storeRoot('buildbox', buildbox)],
      ['laptop', laptop, storeRoot('laptop', laptop)],
    ]);
    expect(fromStore.panes).toEqual([]);
    for (const root of fromLocal.roots) {
      const machine = root.root === laptop ? 'laptop' : 'buildbox';
      const shipped = fromStore.roots.find((r) => r.root === storeRoot(machine, root.root))!;
      // Locally a log without a terminated entry is live only while its pane is captured; the
      // store cannot see panes, so such an agent is live there until its end is shipped.
      const state = (a: WorkspaceAgent) => (a.agentId === 'deploy' ? 'live' : a.state);
      const shape = (ws: typeof root) =>
        ws.tasks.map((t) => ({ taskId: t.taskId, agents: t.agents.map((a) => ({ agentId: a.agentId, state: state(a), entries: a.entries, exitStatus: a.exitStatus, lastActivity: a.lastActivity })) }));
      expect(shape(shipped)).toEqual(shape(root));
      for (const t of shipped.tasks) for (const a of t.agents) expect(a.root).toBe(shipped.root);
    }
    const tests = fromStore.roots[1]!.tasks[0]!.agents.find((a) => a.agentId === 'tests')!;
    expect(tests).toMatchObject({ state: 'error', exitStatus: 2, attention: { state: 'ended' } });
    // Its last output was long ago: alive and quiet.
    expect(fromStore.roots[0]!.tasks[1]!.agents[0]).toMatchObject({ agentId: 'deploy', state: 'live', attention: { state: 'idle' } });
  });

  it('answers agent:tail in every format, and agent:entries, exactly as the local backend does', async () => {
    const c = connect(store);
    const l = connect(local);
    for (const pair of agentPairs()) {
      for (const format of ['text', 'jsonl', 'json', 'ansi'] as const) {
        for (const filter of [{}, { minLevel: 'error' as const }, { grep: 'step [0-9]*5 ', types: ['stdout' as const] }]) {
          const args = { lines: 7, format, ...filter };
          expect(await c.call('agent:tail', { ...pair.store, ...args }), `${pair.store.root} ${pair.store.agentId} ${format}`).toEqual(await l.call('agent:tail', { ...pair.local, ...args }));
        }
      }
      for (const page of [{ fromSequence: 0 }, { fromSequence: 5, limit: 10 }, { fromSequence: 10_000 }]) {
        expect(await c.call('agent:entries', { ...pair.store, ...page })).toEqual(await l.call('agent:entries', { ...pair.local, ...page }));
      }
    }
  });

  it('finds in index:search the hits the local indexes find, naming each by its machine', async () => {
    const c = connect(store);
    const l = connect(local);
    const key = (h: SearchHit) => JSON.stringify([h.taskId, h.agentId, h.sequence, h.timestamp, h.type, h.level, h.text, h.matches]);
    for (const query of [{ text: 'traceback' }, { text: 'step 1', levels: ['info' as const] }, { text: 'of w.rker', regex: true }, { text: '', agentId: 'tests' }]) {
      const fromStore = (await c.call('index:search', { ...query, limit: 1000 })) as { total: number; hits: SearchHit[]; byType: unknown; byLevel: unknown };
      const fromLocal = (await l.call('index:search', { ...query, limit: 1000 })) as typeof fromStore;
      expect(fromStore.total, JSON.stringify(query)).toBe(fromLocal.total);
      expect(fromStore.total).toBeGreaterThan(0);
      expect(fromStore.byType).toEqual(fromLocal.byType);
      expect(fromStore.byLevel).toEqual(fromLocal.byLevel);
      expect(fromStore.hits.map(key).sort()).toEqual(fromLocal.hits.map(key).sort());
      for (const hit of fromStore.hits) {
        expect(hit.root).toBe(storeRoot(hit.machine!, hit.machine === 'laptop' ? laptop : buildbox));
      }
    }
  });

  it('gives index:stats the run summaries of the local indexes, under the store root ids', async () => {
    const c = connect(store);
    const l = connect(local);
    const fromStore = (await c.call('index:stats', { agentId: 'worker' })) as { root: string; machine: string }[];
    const fromLocal = (await l.call('index:stats', { agentId: 'worker' })) as { root: string }[];
    expect(fromStore).toHaveLength(2);
    const asLocal = fromStore.map(({ machine, ...r }) => ({ ...r, root: r.root.slice(machine.length + 1) }));
    const byRoot = (a: { root: string }, b: { root: string }) => (a.root < b.root ? -1 : 1);
    expect(asLocal.sort(byRoot)).toEqual([...fromLocal].sort(byRoot));
    expect(fromStore.map((r) => r.root).sort()).toEqual([storeRoot('buildbox', buildbox), storeRoot('laptop', laptop)]);
  });

  it('replays and previews exports from local copies of the shipped logs, as the local backend does from the logs', async () => {
    const c = connect(store);
    const l = connect(local);
    for (const pair of agentPairs()) {
      expect(await c.call('replay:timeline', { ...pair.store, buckets: 50 })).toEqual(await l.call('replay:timeline', { ...pair.local, buckets: 50 }));
      for (const at of [{}, { seq: 12 }, { time: BASE_US + 7000 }]) {
        const screen = await c.call('replay:seek', { ...pair.store, ...at });
        expect(screen).toEqual(await l.call('replay:seek', { ...pair.local, ...at }));
        const from = (screen as { next: unknown }).next;
        expect(await c.call('replay:frames', { ...pair.store, from, limit: 5 })).toEqual(await l.call('replay:frames', { ...pair.local, from, limit: 5 }));
      }
    }
    const slice = { slice: { minLevel: 'error' as const } };
    for (const request of [{ taskId: TASK, agentId: 'worker' }, { taskId: TASK }, { taskId: TASK, ...slice }]) {
      const preview = await c.call('export:preview', { root: storeRoot('laptop', laptop), ...request });
      expect(preview, JSON.stringify(request)).toEqual(await l.call('export:preview', { root: laptop, ...request }));
    }
    const options = await store.exportOptions({ root: storeRoot('buildbox', buildbox), taskId: TASK, format: 'text' });
    expect(options.agents.map((a) => [a.taskId, a.agentId])).toEqual([[TASK, 'worker']]);
    expect(fs.readFileSync(options.agents[0]!.file, 'utf8')).toBe(fs.readFileSync(path.join(buildbox, '.agent-workspace', TASK, 'logs', 'worker_stream.jsonl'), 'utf8'));
  });

  it('names in its errors an agent or a root the store does not have, and has no links', async () => {
    const c = connect(store);
    await expect(c.call('agent:tail', { root: laptop, taskId: TASK, agentId: 'worker', lines: 1 })).rejects.toThrow(/is not a root of this store; roots are named machine:path/);
    await expect(c.call('agent:tail', { root: storeRoot('laptop', laptop), taskId: TASK, agentId: 'ghost', lines: 1 })).rejects.toThrow(/no agent ghost in task/);
    expect(await c.call('index:links', { root: storeRoot('laptop', laptop), taskId: TASK, agentId: 'worker' })).toEqual({ isTranscript: false, linked: [], toolCalls: [], truncated: false });
    expect(await c.call('app:info', {})).toMatchObject({ readOnly: true, sockets: [], roots: [storeRoot('buildbox', buildbox), storeRoot('laptop', laptop)], store: expect.stringContaining(':***@') });
  });

  it('refuses control to a client that is not an operator, and detach and export:save to everyone', async () => {
    const c = connect(store);
    const ref = { root: storeRoot('buildbox', buildbox), taskId: OTHER_TASK, agentId: 'deploy' };
    const calls: [string, unknown][] = [
      ['capture:attach', { target: '%1' }],
      ['capture:detach', { target: '%1' }],
      ['agent:run', { command: 'echo hi' }],
      ['agent:reply', { ...ref, text: 'y', enter: true }],
      ['export:save', { ...ref, format: 'text' }],
    ];
    for (const [channel, args] of calls) {
      await expect(c.call(channel, args)).rejects.toThrow(new RegExp(`^${channel} is for the store's operators`));
    }
    // Operators reach the handlers (control.test.ts relays the others to their machine).
    await expect(store.handlers['capture:detach']({ target: '%1' }, c.client)).rejects.toThrow(/^capture:detach is not available on a server that reads a store/);
    await expect(store.handlers['export:save']({ ...ref, format: 'text' } as never, c.client)).rejects.toThrow(/^export:save is not available on a server that reads a store/);
  });
});

describe('live panes over the store', () => {
  const deploy = () => ({ root: storeRoot('buildbox', buildbox), taskId: OTHER_TASK, agentId: 'deploy' });

  it('pushes the entries shipped after a subscription began, in order, each once, and tells sidebars', async () => {
    const c = connect(store);
    const { subscriptionId, lastSequence } = (await c.call('live:subscribe', { ...deploy(), fromSequence: 1 })) as { subscriptionId: string; lastSequence: number };
    expect(lastSequence).toBe(live.writer.lastSequence);
    await waitFor(() => c.liveEntries(subscriptionId).length === lastSequence, 10_000, 'the history');
    appendTestLines(live, 30, BASE_US + 3_600_000_000, 'live');
    await shipOnce(server.url, buildbox, 'buildbox');
    const want = live.writer.lastSequence;
    await waitFor(() => c.liveEntries(subscriptionId).at(-1)?.sequence === want, 10_000, 'the shipped entries');
    expect(c.liveEntries(subscriptionId).map((e) => e.sequence)).toEqual(Array.from({ length: want }, (_, i) => i + 1));
    expect(c.liveEntries(subscriptionId).at(-1)!.content).toContain(`live ${live.lines} of deploy`);
    await waitFor(() => c.pushes.some((p) => p.channel === 'workspace:changed'), 10_000, 'workspace:changed');
    await c.call('live:unsubscribe', { subscriptionId });
  });

  it('loses and repeats nothing when the store cuts every connection between two batches', async () => {
    const c = connect(store);
    const from = live.writer.lastSequence + 1;
    const { subscriptionId } = (await c.call('live:subscribe', { ...deploy(), fromSequence: from })) as { subscriptionId: string };
    appendTestLines(live, 10, BASE_US + 3_600_000_000, 'before');
    await shipOnce(server.url, buildbox, 'buildbox');
    await waitFor(() => c.liveEntries(subscriptionId).length === 10, 10_000, 'the first batch');

    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND application_name LIKE 'loupe%'");
      expect(rows.length).toBeGreaterThan(0);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND application_name LIKE $1', ['loupe%']);
    } finally {
      await admin.end();
    }
    // Shipped while nobody listens: its NOTIFY reaches no one, and only re-reading finds it.
    appendTestLines(live, 25, BASE_US + 3_600_000_000, 'after');
    await shipOnce(server.url, buildbox, 'buildbox');
    const want = live.writer.lastSequence;
    await waitFor(() => c.liveEntries(subscriptionId).at(-1)?.sequence === want, 20_000, 'the batch shipped while disconnected');
    expect(c.liveEntries(subscriptionId).map((e) => e.sequence)).toEqual(Array.from({ length: want - from + 1 }, (_, i) => from + i));
    expect(storeLog.join('\n')).toMatch(/lost the store's notifications/);
    // The pool's connections were cut too: reads work again.
    expect(((await c.call('agent:entries', { ...deploy(), fromSequence: want })) as { entries: LogEntry[] }).entries.map((e) => e.sequence)).toEqual([want]);
  });
});

describe('the listening connection', () => {
  it('wakes every reader after it reconnects, since notifications sent meanwhile reached no one', async () => {
    const wakes: (number[] | null)[] = [];
    const stop = new AbortController();
    const reconnects: string[] = [];
    const listening = listenStore({
      url: server.url,
      signal: stop.signal,
      onWake: (_client, agents) => void wakes.push(agents === null ? null : [...agents]),
      onReconnect: (message) => reconnects.push(message),
    });
    try {
      await waitFor(() => wakes.length === 1, 10_000, 'the first wake-up');
      expect(wakes).toEqual([null]);
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query("SELECT pg_notify('loupe_shipped', $1)", [JSON.stringify({ agent: 42, sequence: 7 })]);
        await waitFor(() => wakes.length === 2, 10_000, 'the notification');
        expect(wakes[1]).toEqual([42]);
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
      } finally {
        await admin.end();
      }
      await waitFor(() => wakes.length === 3, 10_000, 'the wake-up after reconnecting');
      expect(wakes[2]).toBeNull();
      expect(reconnects).toHaveLength(1);
    } finally {
      stop.abort();
      await listening;
    }
  });
});

describe('attention over the store', () => {
  it('tells an agent that waits at a prompt on its machine, and that it works again once answered', async () => {
    const task = 'TASK-20261202-070000-2c3d4e5f';
    const now = Date.now() * 1000;
    const asker = writeTestAgent(laptop, task, 'asker', { lines: 3, baseUs: now - 20_000_000, live: true });
    asker.writer.append({ type: 'stdout', content: 'Overwrite config.json? [y/N] ', timeMicros: now - 10_000_000 });
    asker.writer.flush();
    const attentionOf = async () => {
      const ws = (await connect(store).call('workspace:list', {})) as Workspace;
      const root = ws.roots.find((r) => r.root === storeRoot('laptop', laptop))!;
      return root.tasks.find((t) => t.taskId === task)!.agents[0]!.attention;
    };
    try {
      await shipOnce(server.url, laptop, 'laptop');
      expect(await attentionOf()).toMatchObject({ state: 'waiting', reason: 'prompt on screen (rule yes-no)', prompt: expect.stringContaining('Overwrite config.json? [y/N]') });
      expect((await store.snapshot()).agentsWaiting).toBe(1); // loupe_agents_waiting on /metrics
      asker.writer.append({ type: 'stdout', content: 'y\r\nwriting config.json\r\n', timeMicros: Date.now() * 1000 });
      asker.writer.flush();
      await shipOnce(server.url, laptop, 'laptop');
      expect(await attentionOf()).toMatchObject({ state: 'working' });
      expect((await store.snapshot()).agentsWaiting).toBe(0);
    } finally {
      asker.writer.closeSync();
    }
  });
});
