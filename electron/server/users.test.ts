/**
 * `startWebServer` with named users' tokens (`loupe serve --store`, RELIABILITY S3), checked
 * against the users of a real PostgreSQL (electron/core/store/test-support.ts), over a real
 * local backend: roles, revocation within the documented bound, open
 * WebSockets of a revoked token closed, `/metrics`, the cookie login, and log lines that name
 * users and never tokens.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CONTROL_CHANNELS, type WireResult } from '../../shared/ipc.js';
import { startBackend, type Backend } from '../core/api/backend.js';
import { createWorld, type TestWorld } from '../core/capture/test-support.js';
import { ensureLogsDir, streamPath } from '../core/log/paths.js';
import { LogWriter } from '../core/log/writer.js';
import { ensureStoreSchema } from '../core/store/schema.js';
import { startPostgres, type TestPostgres } from '../core/store/test-support.js';
import { addUser, revokeUser } from '../core/store/users.js';
import { cookieName, newToken } from './access.js';
import { startWebServer, USER_RECHECK_MS, type WebServer } from './server.js';
import { storeAuthenticator, USER_CACHE_MS, type StoreAuthenticator } from './storeAuthenticator.js';

const TASK = 'TASK-20261202-040000-0a1b2c3d';

let pgServer: TestPostgres;
let db: pg.Client;
let world: TestWorld;
let staticDir: string;
let backend: Backend;
let users: StoreAuthenticator;
let server: WebServer;
let logs: string[];
let viewer: string;
let operator: string;

beforeAll(async () => {
  pgServer = await startPostgres();
  db = new pg.Client({ connectionString: pgServer.url });
  await db.connect();
  await ensureStoreSchema(db);
  // A private root, state folder and tmux socket name: nothing here touches the default tmux server.
  world = createWorld();
  staticDir = path.join(world.root, '..', 'static');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Loupe</title>');
  ensureLogsDir(world.root, TASK);
  const w = new LogWriter(streamPath(world.root, TASK, 'alpha'), { agentId: 'alpha' });
  w.append({ type: 'stdout', content: 'hello from alpha' });
  w.closeSync();
});
afterAll(async () => {
  await db?.end().catch(() => {});
  pgServer?.cleanup();
  world?.cleanup();
});

beforeEach(async () => {
  await db.query('TRUNCATE loupe_users');
  viewer = newToken();
  operator = newToken();
  await addUser(db, { name: 'alice', role: 'viewer', token: viewer });
  await addUser(db, { name: 'otto', role: 'operator', token: operator });
  logs = [];
  backend = startBackend({ roots: [world.root], sockets: [world.socket], version: '0.0.0-test' });
  users = storeAuthenticator(pgServer.url);
  server = await startWebServer({ backend, port: 0, staticDir, allowedControl: CONTROL_CHANNELS, users, log: (m) => logs.push(m) });
});
afterEach(async () => {
  await server?.close();
  await backend?.dispose();
  await users?.dispose();
  // Log lines name users; a token, or any long piece of one, is never in them.
  for (const token of [viewer, operator]) expect(logs.join('\n')).not.toContain(token.slice(0, 12));
});

function get(pathname: string, headers: Record<string, string> = {}, port = server.port): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

interface Client {
  ws: WebSocket;
  call(channel: string, args: unknown): Promise<WireResult>;
}

/** A WebSocket with `token`, or the HTTP status that refused it. */
function connect(token: string): Promise<Client | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: bearer(token) });
    const waiting = new Map<number, (r: WireResult) => void>();
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.kind === 'result') waiting.get(m.id)?.(m);
    });
    let id = 0;
    const call = (channel: string, args: unknown) =>
      new Promise<WireResult>((done) => {
        waiting.set(++id, done);
        ws.send(JSON.stringify({ kind: 'invoke', id, channel, args }));
      });
    ws.once('open', () => resolve({ ws, call }));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

async function connected(token: string): Promise<Client> {
  const c = await connect(token);
  if (typeof c === 'number') throw new Error(`refused with ${c}`);
  return c;
}

async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

describe('loupe serve with users: roles', () => {
  it('prints a URL without a token: each user brings their own', () => {
    expect(server.token).toBeNull();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('lets a viewer read and refuses them every control call, before it runs', async () => {
    const alice = await connected(viewer);
    expect(await alice.call('app:info', {})).toMatchObject({ ok: true, result: { readOnly: true, allowedControl: [] } });
    expect(await alice.call('agent:tail', { root: world.root, taskId: TASK, agentId: 'alpha', lines: 10, format: 'text' })).toMatchObject({
      ok: true,
      result: { text: 'hello from alpha\n' },
    });
    const detach = await alice.call('capture:detach', { target: '%1', socket: 'not-started' });
    expect(detach).toMatchObject({ ok: false, error: { name: 'ForbiddenError' } });
    expect(detach.ok === false && detach.error.message).toBe(
      "capture:detach is not allowed for alice, a viewer; ask for an operator's token (loupe store user add NAME --role operator)",
    );
    alice.ws.close();
    expect(logs).toContain(`alice (viewer, token ${viewer.slice(0, 8)}…) connected from 127.0.0.1`);
    expect(logs).toContain(`refused capture:detach to alice (viewer, token ${viewer.slice(0, 8)}…)`);
  });

  it('lets an operator make control calls: a detach on a tmux server Loupe was not started with gets past the permission check to the handler', async () => {
    const otto = await connected(operator);
    expect(await otto.call('app:info', {})).toMatchObject({ ok: true, result: { readOnly: false, allowedControl: [...CONTROL_CHANNELS] } });
    const detach = await otto.call('capture:detach', { target: '%1', socket: 'not-started' });
    otto.ws.close();
    expect(detach).toMatchObject({ ok: false, error: { name: 'NotFoundError' } });
    expect(detach.ok === false && detach.error.message).toMatch(/^tmux socket not-started is not one Loupe was started with/);
  });
});

describe('loupe serve with users: tokens', () => {
  it('refuses no token, a token that is nobody\'s and the server-style token, over HTTP and the WebSocket', async () => {
    expect((await get('/')).status).toBe(401);
    const stranger = await get('/', bearer(newToken()));
    expect(stranger.status).toBe(401);
    expect(stranger.body).toMatch(/^loupe serve: unknown token: log in with your token from `loupe store user add`/);
    // Same first 8 characters as a user's token (its id), different rest.
    expect((await get('/', bearer(viewer.slice(0, 8) + newToken().slice(8)))).status).toBe(401);
    expect(await connect(newToken())).toBe(401);
    expect((await get('/', bearer(viewer))).status).toBe(200);
    expect(logs.filter((l) => l.includes("a token that is no user's"))).toHaveLength(3);
  });

  it('trades a user token in the URL for a cookie holding it, which then logs in', async () => {
    const first = await get(`/?token=${viewer}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    expect(first.headers['set-cookie']).toEqual([`${cookieName(server.port)}=${viewer}; HttpOnly; SameSite=Strict; Path=/`]);
    expect((await get('/', { Cookie: `${cookieName(server.port)}=${viewer}` })).status).toBe(200);
  });

  it('serves /metrics to any user token, viewer included', async () => {
    const alice = await connected(viewer);
    const metrics = await get('/metrics', bearer(viewer));
    alice.ws.close();
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^loupe_ws_connections 1$/m);
    expect((await get('/metrics', bearer(operator))).status).toBe(200);
    expect((await get('/metrics')).status).toBe(401);
  });

  it(`refuses a revoked token within USER_CACHE_MS (${USER_CACHE_MS} ms) and closes its open WebSocket within USER_CACHE_MS + USER_RECHECK_MS`, async () => {
    const alice = await connected(viewer);
    const otto = await connected(operator);
    let closedWith: number | null = null;
    alice.ws.once('close', (code) => (closedWith = code));
    expect((await get('/', bearer(viewer))).status).toBe(200); // now in the cache
    await revokeUser(db, 'alice');
    const revokedAt = Date.now();
    await waitUntil(async () => (await get('/', bearer(viewer))).status === 401, USER_CACHE_MS + 1000);
    const refusedAfter = Date.now() - revokedAt;
    expect(refusedAfter).toBeLessThanOrEqual(USER_CACHE_MS + 500);
    await waitUntil(() => closedWith !== null, USER_CACHE_MS + USER_RECHECK_MS + 1000);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(USER_CACHE_MS + USER_RECHECK_MS + 500);
    expect(closedWith).toBe(1008);
    expect(await connect(viewer)).toBe(401);
    // The operator's socket, whose token stands, stays open and answers.
    expect(await otto.call('app:info', {})).toMatchObject({ ok: true });
    otto.ws.close();
    const revoked = await get('/', bearer(viewer));
    expect(revoked.body).toBe('loupe serve: this token was revoked; ask for a new one (loupe store user add)\n');
    expect(logs).toContain(`closed the WebSocket of alice (viewer, token ${viewer.slice(0, 8)}…): its token was revoked`);
    expect(logs.some((l) => l.endsWith(`the revoked token of alice (viewer, token ${viewer.slice(0, 8)}…)`))).toBe(true);
  });

  it('moves a user\'s last use on when their token is checked', async () => {
    expect((await get('/', bearer(operator))).status).toBe(200);
    const { rows } = await db.query("SELECT name, last_used IS NOT NULL AS used FROM loupe_users ORDER BY name");
    expect(rows).toEqual([
      { name: 'alice', used: false },
      { name: 'otto', used: true },
    ]);
  });
});

describe('loupe serve with users: the store unreachable', () => {
  it('answers 503 without the store\'s address, and logs why', async () => {
    const down = storeAuthenticator('postgres://loupe:secret@127.0.0.1:1/postgres');
    const downServer = await startWebServer({ backend, port: 0, staticDir, allowedControl: [], users: down, log: (m) => logs.push(m) });
    try {
      const r = await get('/', bearer(viewer), downServer.port);
      expect(r).toMatchObject({ status: 503, body: 'loupe serve: cannot check the token now: the store is unreachable; try again shortly\n' });
      expect(logs.some((l) => /cannot check the token: cannot reach PostgreSQL at 127\.0\.0\.1:1\/postgres: connection refused/.test(l))).toBe(true);
      expect(logs.join('\n')).not.toContain('secret');
    } finally {
      await downServer.close();
      await down.dispose();
    }
  });
});
