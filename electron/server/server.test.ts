/**
 * `loupe serve` at the HTTP/WebSocket level, with real sockets (RELIABILITY W1–W5).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CONTROL_CHANNELS, MAX_TAIL_REPLY_BYTES, type ControlChannel, type WireResult } from '../../shared/ipc.js';
import { startBackend, type Backend } from '../core/api/backend.js';
import { RootIndexes } from '../core/api/rootIndexes.js';
import { coreServices } from '../core/api/services.js';
import { ensureLogsDir, streamPath } from '../core/log/paths.js';
import { LogWriter } from '../core/log/writer.js';
import { MAX_CALLS_IN_FLIGHT } from '../../shared/ipc.js';
import { startWebServer, type WebServer } from './server.js';

const TASK = 'TASK-20260101-120000-0a1b2c3d';
let root: string;
let staticDir: string;
let backend: Backend;
let server: WebServer;
const controlCalls: string[] = [];

async function start(allowedControl: readonly ControlChannel[] = []): Promise<void> {
  backend = startBackend({
    roots: [root],
    version: '0.0.0-test',
    services: {
      ...coreServices(new RootIndexes([root])),
      async attach(req) {
        controlCalls.push('attach');
        return { root: req.root, taskId: TASK, agentId: 'p', paneId: req.target, file: '/f' };
      },
      async detach() {
        controlCalls.push('detach');
      },
      async runAgent(req) {
        controlCalls.push('run');
        return { root: req.root, taskId: TASK, agentId: 'r', paneId: '%9', file: '/f' };
      },
    },
  });
  server = await startWebServer({ backend, port: 0, staticDir, allowedControl });
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-serve-'));
  staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-static-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Loupe</title>');
  fs.mkdirSync(path.join(staticDir, 'assets'));
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'do not serve me');
  controlCalls.length = 0;
  ensureLogsDir(root, TASK);
  const w = new LogWriter(streamPath(root, TASK, 'alpha'), { agentId: 'alpha' });
  w.append({ type: 'stdout', content: 'hello from alpha' });
  w.closeSync();
});

afterEach(async () => {
  await server?.close();
  await backend?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(staticDir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(pathname: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, path: pathname, headers: { Host: `127.0.0.1:${server.port}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket; resolves with it once open, or with the HTTP status that refused it. */
function openSocket(query: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

function authed(): Promise<WebSocket> {
  return openSocket(`?token=${server.token}`).then((ws) => {
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    return ws;
  });
}

/**
 * Sends raw frames, then one read call (id 999); resolves once that call and every id in
 * `expected` have answered. Replies to frames that are not contract calls would arrive by then too.
 */
async function exchange(ws: WebSocket, frames: (string | Buffer)[], expected: number[] = []): Promise<WireResult[]> {
  const replies: WireResult[] = [];
  ws.on('message', (data) => replies.push(JSON.parse(data.toString()) as WireResult));
  for (const f of frames) ws.send(f);
  ws.send(JSON.stringify({ kind: 'invoke', id: 999, channel: 'app:info', args: {} }));
  const deadline = Date.now() + 5000;
  const done = () => [999, ...expected].every((id) => replies.some((r) => r.id === id));
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return replies.filter((r) => r.kind === 'result');
}

describe('loupe serve: binding (W1)', () => {
  it('binds 127.0.0.1 by default and prints a URL with the token', async () => {
    backend = startBackend({ roots: [root], version: 't' });
    server = await startWebServer({ backend, port: 0, staticDir, allowedControl: [] });
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (external) {
      // Not reachable on another interface of this machine.
      await expect(
        new Promise((resolve, reject) => {
          const req = http.get({ host: external.address, port: server.port, path: '/' }, resolve);
          req.on('error', reject);
        }),
      ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
  });
});

describe('loupe serve: token (W2)', () => {
  beforeEach(() => start());

  it('uses a token of at least 128 random bits, different each start', async () => {
    expect(Buffer.from(server.token!, 'base64url').length).toBeGreaterThanOrEqual(16);
    const first = server.token;
    await server.close();
    server = await startWebServer({ backend, port: 0, staticDir, allowedControl: [] });
    expect(server.token).not.toBe(first);
  });

  it('refuses pages and assets without the token or with a wrong one, sending no data', async () => {
    for (const p of ['/', '/assets/app.js', `/?token=${server.token!.slice(0, -1)}x`, '/?token=']) {
      const r = await get(p);
      expect(r.status, p).toBe(401);
      expect(r.body).not.toContain('Loupe');
      expect(r.body).toContain('open the URL that `loupe serve` printed');
    }
    expect((await get('/', { Cookie: `loupe_token_${server.port}=wrong` })).status).toBe(401);
  });

  it('trades the token in the URL for an HttpOnly cookie, then serves the app with a strict CSP', async () => {
    const first = await get(`/?token=${server.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await get('/', { Cookie: cookie.split(';')[0] });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Loupe</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const asset = await get('/assets/app.js', { Authorization: `Bearer ${server.token}` });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('text/javascript');
  });

  it('W9: redirects only to a path of this server, never to another host', async () => {
    for (const [p, to] of [
      [`/.//evil.com/?token=${server.token}`, '/evil.com/'],
      [`//evil.com/?token=${server.token}`, '/'],
      [`/%5Cevil.com/?token=${server.token}`, '/%5Cevil.com/'],
      [`/agents?x=1&token=${server.token}`, '/agents?x=1'],
    ]) {
      const r = await get(p);
      expect(r.status, p).toBe(303);
      expect(r.headers.location, p).toBe(to);
    }
  });

  it('never serves files outside the renderer build', async () => {
    const auth = { Authorization: `Bearer ${server.token}` };
    for (const p of ['/%2e%2e/secret.txt', '/..%2f..%2f' + encodeURIComponent(root.slice(1)) + '%2fsecret.txt', '/assets/%00.js']) {
      const r = await get(p, auth);
      expect([400, 404], p).toContain(r.status);
      expect(r.body).not.toContain('do not serve me');
    }
  });

  it('refuses a WebSocket without the token or with a wrong one', async () => {
    expect(await openSocket('')).toBe(401);
    expect(await openSocket('?token=nope')).toBe(401);
    expect(await openSocket('', { Cookie: `loupe_token_${server.port}=nope` })).toBe(401);
    const ok = await openSocket('', { Cookie: `loupe_token_${server.port}=${server.token}` });
    expect(ok).toBeInstanceOf(WebSocket);
    (ok as WebSocket).close();
  });
});

describe('loupe serve: Origin and Host (W3, W4)', () => {
  beforeEach(() => start());

  it('refuses a foreign or null Origin, on pages and on the WebSocket', async () => {
    for (const origin of ['null', 'http://attacker.example', `http://127.0.0.1:${server.port + 1}`, `https://127.0.0.1:${server.port}`]) {
      expect(await openSocket(`?token=${server.token}`, { Origin: origin }), origin).toBe(403);
      expect((await get(`/?token=${server.token}`, { Origin: origin })).status, origin).toBe(403);
    }
    const same = await openSocket(`?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` });
    expect(same).toBeInstanceOf(WebSocket);
    (same as WebSocket).close();
    const localhost = await openSocket(`?token=${server.token}`, { Origin: `http://localhost:${server.port}`, Host: `localhost:${server.port}` });
    expect(localhost).toBeInstanceOf(WebSocket);
    (localhost as WebSocket).close();
  });

  it('answers 403 to Host: attacker.example even with the right token (DNS rebinding)', async () => {
    const r = await get(`/?token=${server.token}`, { Host: 'attacker.example' });
    expect(r.status).toBe(403);
    expect((await get('/', { Host: `attacker.example:${server.port}`, Authorization: `Bearer ${server.token}` })).status).toBe(403);
    expect(await openSocket(`?token=${server.token}`, { Host: `attacker.example:${server.port}` })).toBe(403);
  });
});

describe('loupe serve behind a TLS-terminating proxy (--public-origin)', () => {
  const proxied = { Host: 'loupe.example.com', Origin: 'https://loupe.example.com' };

  it('accepts the public name as Host and its origin as Origin, and marks the cookie Secure there', async () => {
    backend = startBackend({ roots: [root], version: 't' });
    server = await startWebServer({ backend, port: 0, staticDir, allowedControl: [], publicOrigins: ['https://loupe.example.com'] });
    const login = await get(`/?token=${server.token}`, proxied);
    expect(login.status).toBe(303);
    expect(login.headers['set-cookie']).toEqual([`loupe_token_${server.port}=${server.token}; HttpOnly; SameSite=Strict; Path=/; Secure`]);
    expect((await get('/', { ...proxied, Authorization: `Bearer ${server.token}` })).status).toBe(200);
    const ws = await openSocket(`?token=${server.token}`, proxied);
    expect(ws).toBeInstanceOf(WebSocket);
    (ws as WebSocket).close();
    // Loopback access keeps working, with its cookie not Secure (plain HTTP).
    expect(String((await get(`/?token=${server.token}`)).headers['set-cookie'])).not.toMatch(/Secure/);
    // Only that exact origin: not another scheme, port or name.
    for (const origin of ['http://loupe.example.com:8080', 'https://loupe.example.com:8443', 'https://evil.example']) {
      expect((await get(`/?token=${server.token}`, { ...proxied, Origin: origin })).status, origin).toBe(403);
    }
    expect((await get(`/?token=${server.token}`, { Host: 'evil.example' })).status).toBe(403);
  });

  it("refuses the proxy's name and origin when not told about it", async () => {
    await start();
    expect((await get(`/?token=${server.token}`, proxied)).status).toBe(403);
    expect((await get(`/?token=${server.token}`, { Origin: proxied.Origin })).status).toBe(403);
  });
});

describe('loupe serve: only allowed calls run (W5)', () => {
  it('runs read calls, drops malformed frames, and refuses control channels it was not started with', async () => {
    await start();
    const ws = await authed();
    const replies = await exchange(ws, [
      'not json',
      Buffer.from([1, 2, 3]),
      JSON.stringify({ kind: 'push', channel: 'live:entries', payload: {} }),
      JSON.stringify({ kind: 'invoke', id: 'x', channel: 'app:info', args: {} }),
      JSON.stringify({ kind: 'invoke', id: 1, channel: 'shell:exec', args: { cmd: 'id' } }),
      JSON.stringify({ kind: 'invoke', id: 2, channel: 'capture:detach', args: { target: '%1' } }),
      JSON.stringify({ kind: 'invoke', id: 3, channel: 'agent:tail', args: { root, taskId: TASK, agentId: 'alpha', lines: 5, format: 'text' } }),
      JSON.stringify({ kind: 'invoke', id: 4, channel: 'agent:tail', args: { root: '/', taskId: TASK, agentId: 'alpha', lines: 5 } }),
    ], [1, 2, 3, 4]);
    ws.close();
    const byId = new Map(replies.map((r) => [r.id, r]));
    // Frames that are not contract calls get no reply at all.
    expect([...byId.keys()].sort()).toEqual([1, 2, 3, 4, 999]);
    expect(byId.get(1)).toMatchObject({ ok: false, error: { name: 'UnknownChannelError' } });
    expect(byId.get(2)).toMatchObject({ ok: false, error: { name: 'ForbiddenError' } });
    expect((byId.get(2) as { error: { message: string } }).error.message).toContain('--allow-control');
    expect(byId.get(3)).toMatchObject({ ok: true, result: { text: 'hello from alpha\n' } });
    expect(byId.get(4)).toMatchObject({ ok: false, error: { name: 'NotFoundError' } });
    expect(controlCalls).toEqual([]);
  });

  it('by default (no --allow-control), refuses every control channel', async () => {
    await start();
    // One channel per exchange: more calls at once than MAX_CALLS_IN_FLIGHT would be refused as busy instead.
    for (const [i, channel] of CONTROL_CHANNELS.entries()) {
      const ws = await authed();
      const args = channel === 'agent:run' ? { command: 'touch /tmp/pwned' } : channel === 'agent:reply' ? { root, taskId: TASK, agentId: 'alpha', text: 'y', enter: true } : { target: '%1' };
      const replies = await exchange(ws, [JSON.stringify({ kind: 'invoke', id: i + 1, channel, args })], [i + 1]);
      ws.close();
      expect(replies.find((r) => r.id === i + 1), channel).toMatchObject({ ok: false, error: { name: 'ForbiddenError' } });
    }
    expect(controlCalls).toEqual([]);
  });

  it('with --allow-control, runs control channels', async () => {
    await start(CONTROL_CHANNELS);
    const ws = await authed();
    const replies = await exchange(ws, [JSON.stringify({ kind: 'invoke', id: 1, channel: 'capture:detach', args: { target: '%1' } })], [1]);
    ws.close();
    expect(replies.find((r) => r.id === 1)).toMatchObject({ ok: true, result: null });
    expect(controlCalls).toEqual(['detach']);
  });

  it('streams live entries to a subscribed client', async () => {
    await start();
    const ws = await authed();
    const pushes: unknown[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { kind: string };
      if (m.kind === 'push') pushes.push(m);
    });
    ws.send(JSON.stringify({ kind: 'invoke', id: 1, channel: 'live:subscribe', args: { root, taskId: TASK, agentId: 'alpha', fromSequence: 1 } }));
    const deadline = Date.now() + 5000;
    while (pushes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    ws.close();
    expect(pushes[0]).toMatchObject({
      kind: 'push',
      channel: 'live:entries',
      payload: { batches: [{ agent: { agentId: 'alpha' }, entries: [{ sequence: 1, content: 'hello from alpha' }] }] },
    });
  });
});

describe('loupe serve: a client that floods calls (W7)', () => {
  it('runs at most MAX_CALLS_IN_FLIGHT of its calls at once and refuses the rest at once', async () => {
    let active = 0;
    let most = 0;
    backend = startBackend({
      roots: [root],
      version: '0.0.0-test',
      services: {
        ...coreServices(new RootIndexes([root])),
        async tail() {
          active++;
          most = Math.max(most, active);
          await new Promise((r) => setTimeout(r, 100));
          active--;
          return { entries: [], text: 'x'.repeat(100_000), truncated: false };
        },
      },
    });
    server = await startWebServer({ backend, port: 0, staticDir, allowedControl: [] });
    const ws = await authed();
    const replies: WireResult[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.kind === 'result') replies.push(m);
    });
    const calls = 150;
    for (let id = 1; id <= calls; id++) {
      ws.send(JSON.stringify({ kind: 'invoke', id, channel: 'agent:tail', args: { root, taskId: TASK, agentId: 'alpha', lines: 100_000 } }));
    }
    await waitUntil(() => replies.length === calls);
    ws.close();
    expect(most).toBeLessThanOrEqual(MAX_CALLS_IN_FLIGHT);
    const busy = replies.filter((r) => !r.ok && r.error.name === 'BusyError');
    expect(busy.length).toBeGreaterThanOrEqual(calls - 2 * MAX_CALLS_IN_FLIGHT);
    expect(busy[0].ok === false && busy[0].error.message).toMatch(/too many calls in flight/);
    expect(replies.filter((r) => r.ok).length).toBeGreaterThanOrEqual(MAX_CALLS_IN_FLIGHT);
  });
});

describe('loupe serve: replies have a size cap (W7)', () => {
  it('answers a 100,000-line tail of a 20 MB log with the newest 8 MB, marked truncated', async () => {
    const w = new LogWriter(streamPath(root, TASK, 'big'), { agentId: 'big' });
    for (let i = 1; i <= 100_000; i++) {
      w.append({ type: 'stdout', content: `${i} ${'y'.repeat(180)}` });
      if (i % 5000 === 0) w.flush();
    }
    w.closeSync();
    await start();
    const ws = await authed();
    const reply = new Promise<{ size: number; result: WireResult }>((resolve) =>
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.kind === 'result') resolve({ size: d.toString().length, result: m });
      }),
    );
    ws.send(JSON.stringify({ kind: 'invoke', id: 1, channel: 'agent:tail', args: { root, taskId: TASK, agentId: 'big', lines: 100_000 } }));
    const { size, result } = await reply;
    ws.close();
    expect(result.ok).toBe(true);
    const tail = (result as { result: { entries: { sequence: number }[]; truncated: boolean } }).result;
    expect(tail.truncated).toBe(true);
    expect(tail.entries.at(-1)!.sequence).toBe(100_000);
    expect(tail.entries.length).toBeLessThan(100_000);
    // Entries and their JSONL text: about twice the cap, never the whole 20 MB twice.
    expect(size).toBeLessThan(2.5 * MAX_TAIL_REPLY_BYTES);
  }, 60_000);
});

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
