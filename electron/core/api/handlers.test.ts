import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONTROL_CHANNELS, INVOKE_CHANNELS, type Push, type PushChannel } from '../../../shared/ipc.js';
import { streamPath, ensureLogsDir } from '../log/paths.js';
import { LogWriter } from '../log/writer.js';
import { startBackend, type Backend, type BackendClient } from './backend.js';
import { RootIndexes } from './rootIndexes.js';
import { coreServices, type BackendServices } from './services.js';

const TASK = 'TASK-20260101-120000-0a1b2c3d';
let root: string;
let backend: Backend;
let indexes: RootIndexes;
let pushes: { channel: PushChannel; payload: unknown }[];
const calls: { name: string; args: unknown }[] = [];

/** Real log-backed services, with capture control recorded instead of touching tmux. */
function services(): BackendServices {
  indexes = new RootIndexes([root]);
  const real = coreServices(indexes);
  return {
    ...real,
    async attach(req) {
      calls.push({ name: 'attach', args: req });
      return { root: req.root, taskId: TASK, agentId: req.name ?? 'pane', paneId: req.target, file: '/f' };
    },
    async detach(req) {
      calls.push({ name: 'detach', args: req });
    },
    async runAgent(req) {
      calls.push({ name: 'run', args: req });
      return { root: req.root, taskId: TASK, agentId: req.name ?? 'agent', paneId: '%1', file: '/f' };
    },
  };
}

function connect(allowedControl = CONTROL_CHANNELS): BackendClient {
  return backend.connect({
    transport: 'websocket',
    allowedControl,
    send: <C extends PushChannel>(channel: C, payload: Push[C]) => void pushes.push({ channel, payload }),
  });
}

function writeLog(agentId: string, lines: string[], opts: { level?: 'error' } = {}): string {
  ensureLogsDir(root, TASK);
  const file = streamPath(root, TASK, agentId);
  const w = new LogWriter(file, { agentId });
  for (const content of lines) {
    w.append({ type: opts.level ? 'stderr' : 'stdout', content, metadata: opts.level ? { level: opts.level } : undefined });
  }
  w.closeSync();
  return file;
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-api-'));
  pushes = [];
  calls.length = 0;
  backend = startBackend({ roots: [root], sockets: ['loupe-test-x'], version: '9.9.9', services: services() });
});
afterEach(async () => {
  await backend.dispose();
  indexes.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('contract handlers', () => {
  it('has a handler for every channel of the contract', () => {
    expect(Object.keys(backend.handlers).sort()).toEqual([...INVOKE_CHANNELS].sort());
  });

  it('app:info reports the version, transport and what this client may control', async () => {
    const info = await connect([]).call('app:info', {});
    expect(info).toEqual({
      version: '9.9.9',
      transport: 'websocket',
      readOnly: true,
      allowedControl: [],
      roots: [fs.realpathSync(root) === root ? root : path.resolve(root)],
      sockets: ['loupe-test-x'],
    });
  });

  it('workspace:list shows roots, tasks and agents with entry counts', async () => {
    writeLog('alpha', ['one', 'two']);
    const ws = (await connect().call('workspace:list', {})) as { roots: { tasks: { agents: { agentId: string; entries: number }[] }[] }[] };
    expect(ws.roots[0].tasks[0].agents).toMatchObject([{ agentId: 'alpha', entries: 2 }]);
  });

  it('agent:tail returns the last lines, filtered, in the requested format', async () => {
    writeLog('alpha', ['ok 1', 'ok 2']);
    writeLog('alpha', ['Traceback: boom'], { level: 'error' });
    writeLog('alpha', ['ok 3']);
    const c = connect();
    const all = (await c.call('agent:tail', { root, taskId: TASK, agentId: 'alpha', lines: 2, format: 'text' })) as { text: string };
    expect(all.text).toBe('Traceback: boom\nok 3\n');
    const errors = (await c.call('agent:tail', { root, taskId: TASK, agentId: 'alpha', lines: 10, types: ['stderr'] })) as {
      entries: { content: string }[];
    };
    expect(errors.entries.map((e) => e.content)).toEqual(['Traceback: boom']);
    const grep = (await c.call('agent:tail', { root, taskId: TASK, agentId: 'alpha', lines: 10, grep: 'OK [12]', ignoreCase: true })) as {
      entries: { content: string }[];
    };
    expect(grep.entries.map((e) => e.content)).toEqual(['ok 1', 'ok 2']);
  });

  it('agent:entries pages through a log by sequence', async () => {
    writeLog('alpha', ['a', 'b', 'c', 'd', 'e']);
    const c = connect();
    const first = (await c.call('agent:entries', { root, taskId: TASK, agentId: 'alpha', fromSequence: 2, limit: 2 })) as {
      entries: { sequence: number }[];
      nextSequence: number;
      atEnd: boolean;
    };
    expect(first.entries.map((e) => e.sequence)).toEqual([2, 3]);
    expect(first).toMatchObject({ nextSequence: 4, atEnd: false });
    const rest = (await c.call('agent:entries', { root, taskId: TASK, agentId: 'alpha', fromSequence: 4 })) as { atEnd: boolean; entries: unknown[] };
    expect(rest).toMatchObject({ atEnd: true });
    expect(rest.entries).toHaveLength(2);
  });

  it('live:subscribe pushes entries, and unsubscribe stops them', async () => {
    writeLog('alpha', ['a']);
    const c = connect();
    const sub = (await c.call('live:subscribe', { root, taskId: TASK, agentId: 'alpha', fromSequence: 1 })) as { subscriptionId: string };
    const deadline = Date.now() + 5000;
    while (!pushes.some((p) => p.channel === 'live:entries') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const push = pushes.find((p) => p.channel === 'live:entries')!.payload as Push['live:entries'];
    expect(push.batches[0]).toMatchObject({ subscriptionId: sub.subscriptionId, agent: { agentId: 'alpha', taskId: TASK } });
    expect(await c.call('live:ack', { subscriptionId: sub.subscriptionId, sequence: 1 })).toBeNull();
    expect(await c.call('live:unsubscribe', { subscriptionId: sub.subscriptionId })).toBeNull();
    expect(c.client.feed.size).toBe(0);
  });

  it('index:search finds a line in the logs, and index:stats summarises the run', async () => {
    writeLog('alpha', ['starting up']);
    writeLog('alpha', ['Traceback (most recent call last):'], { level: 'error' });
    // Search reads screen lines: a live agent's newest line counts once it stands still or its run ends.
    const w = new LogWriter(streamPath(root, TASK, 'alpha'), { agentId: 'alpha' });
    w.append({ type: 'system', content: '[loupe] terminated (exit status 0)', metadata: { event: 'terminated', exit_status: 0 } });
    w.closeSync();
    const c = connect([]);
    const found = (await c.call('index:search', { text: 'traceback' })) as { total: number; hits: { agentId: string; text: string }[] };
    expect(found.total).toBe(1);
    expect(found.hits[0]).toMatchObject({ agentId: 'alpha', text: 'Traceback (most recent call last):' });
    const stats = (await c.call('index:stats', { agentId: 'alpha' })) as { entries: number; errors: number }[];
    expect(stats).toMatchObject([{ entries: 3, errors: 1 }]);
  });

  it('refuses a root that is not open, and path tricks in ids', async () => {
    const c = connect();
    await expect(c.call('agent:tail', { root: '/etc', taskId: TASK, agentId: 'alpha', lines: 1 })).rejects.toThrow(/not one of the open roots/);
    for (const agentId of ['../x', '/abs', 'a\\b', 'a\0b', '.hidden']) {
      await expect(c.call('agent:tail', { root, taskId: TASK, agentId, lines: 1 })).rejects.toMatchObject({ name: 'InvalidArgsError' });
    }
    await expect(c.call('agent:tail', { root, taskId: '../../etc', agentId: 'a', lines: 1 })).rejects.toMatchObject({
      name: 'InvalidArgsError',
    });
    await expect(c.call('agent:tail', { root, taskId: TASK, agentId: 'nobody', lines: 1 })).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('refuses an agent log that is a symlink out of the root', async () => {
    ensureLogsDir(root, TASK);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-outside-'));
    fs.writeFileSync(path.join(outside, 'secret'), '{}\n');
    fs.symlinkSync(path.join(outside, 'secret'), streamPath(root, TASK, 'evil'));
    await expect(connect().call('agent:tail', { root, taskId: TASK, agentId: 'evil', lines: 1 })).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('rejects unknown channels, unknown keys and wrong types without calling a service', async () => {
    const c = connect();
    await expect(c.call('shell:exec', {})).rejects.toMatchObject({ name: 'UnknownChannelError' });
    await expect(c.call('__proto__', {})).rejects.toMatchObject({ name: 'UnknownChannelError' });
    await expect(c.call('app:info', { extra: 1 })).rejects.toMatchObject({ name: 'InvalidArgsError' });
    await expect(c.call('app:info', null)).rejects.toMatchObject({ name: 'InvalidArgsError' });
    await expect(c.call('agent:run', { command: 42 })).rejects.toMatchObject({ name: 'InvalidArgsError' });
    await expect(c.call('capture:attach', { target: '%1; run-shell "touch /tmp/x"' })).rejects.toMatchObject({
      name: 'InvalidArgsError',
    });
    expect(calls).toEqual([]);
  });

  it('survives fuzzed arguments on every channel with typed errors only', async () => {
    const c = connect([]);
    const samples: unknown[] = [undefined, null, 0, -1, 1e308, 'x', [], [1], { a: 1 }, { root: 1 }, { lines: -5 }, { fromSequence: 1.5 }, '\0'];
    for (const channel of INVOKE_CHANNELS) {
      for (const args of samples) {
        try {
          await c.call(channel, args);
        } catch (err) {
          expect(['InvalidArgsError', 'ForbiddenError']).toContain((err as Error).name);
        }
      }
    }
    expect(calls).toEqual([]);
  });

  it('control channels are refused for a client without control, and run with it', async () => {
    const readOnly = connect([]);
    for (const channel of CONTROL_CHANNELS) {
      await expect(readOnly.call(channel, { target: '%1', command: 'x' })).rejects.toMatchObject({ name: 'ForbiddenError' });
    }
    const control = connect();
    await control.call('agent:run', { command: 'echo hi', name: 'hello' });
    await control.call('capture:detach', { target: '%3' });
    expect(calls).toEqual([
      { name: 'run', args: { command: 'echo hi', name: 'hello', root: path.resolve(root), socket: 'loupe-test-x' } },
      { name: 'detach', args: { target: '%3', socket: 'loupe-test-x' } },
    ]);
  });

  it('control requests may not name a root or tmux socket Loupe was not started with', async () => {
    const c = connect();
    await expect(c.call('agent:run', { command: 'x', root: '/tmp' })).rejects.toThrow(/not one of the open roots/);
    await expect(c.call('capture:attach', { target: '%1', socket: 'other' })).rejects.toThrow(/not one Loupe was started with/);
    expect(calls).toEqual([]);
  });

  it('tells clients when the workspace changes', async () => {
    connect();
    writeLog('beta', ['x']);
    const deadline = Date.now() + 5000;
    while (!pushes.some((p) => p.channel === 'workspace:changed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pushes.map((p) => p.channel)).toContain('workspace:changed');
  });

  it('W9: an internal error names the problem but not where Loupe is installed', async () => {
    const { toWireError } = await import('./dispatch.js');
    const here = path.resolve('electron/core/api/dispatch.ts');
    const wire = toWireError(new Error(`Cannot find module '${here}' imported from file://${path.resolve('dist/x.js')}`));
    expect(wire.name).toBe('InternalError');
    expect(wire.message).not.toContain(path.resolve('.'));
    expect(wire.message).toContain("Cannot find module '<loupe>/electron/core/api/dispatch.ts'");
  });
});
