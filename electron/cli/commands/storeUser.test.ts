/**
 * `loupe store user add|list|revoke` against a real PostgreSQL (electron/core/store/test-support.ts):
 * the token printed once and stored only as its hash, the listing, revocation, and the errors a
 * user can make with their exit statuses; and `loupe serve --store` logging them in. Needs `tsc -b` first.
 */
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '../../core/capture/test-support.js';
import { dropStore, startPostgres, type TestPostgres } from '../../core/store/test-support.js';
import { STORE_SCHEMA_VERSION } from '../../core/store/schema.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));

let server: TestPostgres;
let db: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  db = new pg.Client({ connectionString: server.url });
  await db.connect();
});
afterAll(async () => {
  await db?.end().catch(() => {});
  server?.cleanup();
});
let serve: ChildProcess | null = null;
afterEach(async () => {
  if (serve !== null && serve.exitCode === null) {
    const exited = new Promise((r) => serve!.once('exit', r));
    serve.kill('SIGTERM');
    await exited;
  }
  serve = null;
  await dropStore(db);
});

function loupe(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function addUser(name: string, role: string) {
  return loupe('store', 'user', 'add', name, '--role', role, '--store', server.url);
}

describe('loupe store user add', () => {
  it('prints a 256-bit token once, alone on stdout, and stores only its SHA-256 and its first 8 characters', async () => {
    const r = addUser('alice', 'operator');
    expect(r.stderr).toMatch(/^added alice \(operator\), token [A-Za-z0-9_-]{8}…: the line above is the token, shown this once; keep it secret\.\n.*Authorization: Bearer TOKEN/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    const token = r.stdout.trim();
    const { rows } = await db.query('SELECT * FROM loupe_users');
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row).toMatchObject({ name: 'alice', role: 'operator', token_id: token.slice(0, 8), revoked_at: null, last_used: null });
    expect(Buffer.compare(row.token_hash, createHash('sha256').update(token).digest())).toBe(0);
    // Nowhere in the row is the token, in any form but its hash.
    const stored = JSON.stringify(Object.values(row).map((v) => (Buffer.isBuffer(v) ? v.toString('base64url') : v)));
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(token.slice(8));
    const list = loupe('store', 'user', 'list', '--store', server.url);
    expect(list.stdout).not.toContain(token);
  });

  it('refuses a name in use (2), a bad role (2), a malformed name (2) and an unreachable store (1)', async () => {
    expect(addUser('bob', 'viewer').status).toBe(0);
    const again = addUser('bob', 'operator');
    expect(again).toMatchObject({ status: 2, stdout: '' });
    expect(again.stderr).toBe('loupe: there is already a user bob; pick another name, or revoke theirs first (loupe store user revoke bob)\n');
    const role = addUser('carol', 'admin');
    expect(role).toMatchObject({ status: 2, stdout: '' });
    expect(role.stderr).toBe('loupe: invalid --role "admin": use viewer (reads everything) or operator (may also attach, detach, start and answer agents)\n');
    const name = addUser('a b', 'viewer');
    expect(name.status).toBe(2);
    expect(name.stderr).toMatch(/^loupe: invalid user name "a b": use up to 64 letters, digits and \. _ @ -/);
    expect(loupe('store', 'user', 'add', 'dave', '--store', server.url).status).toBe(2); // no --role
    const down = loupe('store', 'user', 'add', 'dave', '--role', 'viewer', '--store', 'postgres://loupe:x@127.0.0.1:1/postgres');
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^loupe: cannot reach PostgreSQL at 127\.0\.0\.1:1\/postgres: connection refused/);
    const { rows } = await db.query('SELECT name FROM loupe_users');
    expect(rows).toEqual([{ name: 'bob' }]);
  });
});

describe('loupe store user list and revoke', () => {
  it('lists users with role, token id, created, last used and revoked, as a table and as JSON', async () => {
    const empty = loupe('store', 'user', 'list', '--store', server.url);
    expect(empty).toMatchObject({ status: 0, stdout: 'no users yet: add one with loupe store user add NAME --role viewer|operator --store URL\n' });
    const alice = addUser('alice', 'operator').stdout.trim();
    addUser('bob', 'viewer');
    await db.query("UPDATE loupe_users SET last_used = now() - interval '5 minutes' WHERE name = 'alice'");
    const table = loupe('store', 'user', 'list', '--store', server.url);
    expect(table.status).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ROLE\s+TOKEN\s+CREATED\s+LAST USED\s+REVOKED$/);
    expect(lines[1]).toMatch(new RegExp(`^alice\\s+operator\\s+${alice.slice(0, 8)}…\\s+\\d\\d:\\d\\d:\\d\\d \\(\\ds ago\\)\\s+\\S+ \\(5m ago\\)\\s+-$`));
    expect(lines[2]).toMatch(/^bob\s+viewer\s+\S{8}…\s+.*\s+never\s+-$/);
    const json = JSON.parse(loupe('store', 'user', 'list', '--store', server.url, '--json').stdout);
    expect(json).toEqual([
      { name: 'alice', role: 'operator', tokenId: alice.slice(0, 8), created: expect.any(String), lastUsed: expect.any(String), revoked: null },
      { name: 'bob', role: 'viewer', tokenId: expect.any(String), created: expect.any(String), lastUsed: null, revoked: null },
    ]);
  });

  it('revokes a user, who stays listed as revoked; the name can then be given again; unknown names are refused (2)', async () => {
    const first = addUser('alice', 'viewer').stdout.trim();
    const r = loupe('store', 'user', 'revoke', 'alice', '--store', server.url);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`revoked the token ${first.slice(0, 8)}… of alice (viewer); \`loupe serve --store\` refuses it within seconds and closes its open sessions\n`);
    const again = loupe('store', 'user', 'revoke', 'alice', '--store', server.url);
    expect(again.status).toBe(2);
    expect(again.stderr).toBe('loupe: no user "alice" with a token in use; list them with loupe store user list\n');
    expect(loupe('store', 'user', 'revoke', 'nobody', '--store', server.url).status).toBe(2);
    const second = addUser('alice', 'operator');
    expect(second.status).toBe(0);
    const json = JSON.parse(loupe('store', 'user', 'list', '--store', server.url, '--json').stdout);
    expect(json).toMatchObject([
      { name: 'alice', role: 'viewer', tokenId: first.slice(0, 8), revoked: expect.any(String) },
      { name: 'alice', role: 'operator', tokenId: second.stdout.slice(0, 8), revoked: null },
    ]);
  });

  it('upgrades a store shipped into by an older Loupe before adding the user', async () => {
    await db.query(`CREATE TABLE loupe_meta (key text PRIMARY KEY, value text NOT NULL); INSERT INTO loupe_meta VALUES ('schema_version', '1')`);
    expect(addUser('erin', 'viewer').status).toBe(0);
    const { rows } = await db.query("SELECT value FROM loupe_meta WHERE key = 'schema_version'");
    expect(rows[0].value).toBe(String(STORE_SCHEMA_VERSION));
  });
});

describe('loupe serve --store with the store\'s users', () => {
  /** Starts `loupe serve --store`; resolves with its URL and its stderr so far (a getter). */
  async function startServe(): Promise<{ url: string; stderr: () => string }> {
    const child = spawn(process.execPath, [BIN, 'serve', '--store', server.url, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    serve = child;
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(() => err.includes('log in') || err.includes('no users yet'), 30_000, 'loupe serve --store to start');
    return { url: out.trim(), stderr: () => err };
  }

  function call(ws: WebSocket, channel: string, args: unknown): Promise<{ ok: boolean; error?: { name: string; message: string } }> {
    return new Promise((resolve) => {
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.kind === 'result' && m.id === 1) resolve(m);
      });
      ws.send(JSON.stringify({ kind: 'invoke', id: 1, channel, args }));
    });
  }

  async function socket(url: string, token: string): Promise<WebSocket> {
    const ws = new WebSocket(`${url.replace('http:', 'ws:')}ws`, { headers: { Authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return ws;
  }

  it('prints a URL without a token and warns while the store has no users; a user added then logs in at once', async () => {
    const { url, stderr } = await startServe();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(stderr()).toContain(`loupe: warning: the store has no users yet, so nobody can log in: add one with \`loupe store user add NAME --role viewer|operator --store URL\`, then open ${url}?token=TOKEN\n`);
    expect((await fetch(url)).status).toBe(401);
    const token = addUser('vera', 'viewer').stdout.trim();
    expect((await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${url}metrics`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    const ws = await socket(url, token);
    await waitFor(() => stderr().includes('connected from'), 10_000, 'the connect log line');
    ws.close();
    expect(stderr()).toContain(`loupe serve: vera (viewer, token ${token.slice(0, 8)}…) connected from 127.0.0.1\n`);
    expect(stderr()).not.toContain(token.slice(0, 12));
  });

  it('refuses a viewer a control call for their role, and an operator because a store cannot reach tmux', async () => {
    const viewer = addUser('vera', 'viewer').stdout.trim();
    const operator = addUser('otto', 'operator').stdout.trim();
    const { url, stderr } = await startServe();
    expect(stderr()).toContain(`loupe serve: log in with a user's token (loupe store user add): open ${url}?token=TOKEN once`);
    const args = { target: '%1' };
    const v = await socket(url, viewer);
    expect((await call(v, 'capture:detach', args)).error?.message).toMatch(/^capture:detach is not allowed for vera, a viewer/);
    v.close();
    const o = await socket(url, operator);
    expect((await call(o, 'capture:detach', args)).error?.message).toMatch(/^capture:detach is not available on a server that reads a store/);
    o.close();
  });

  it('refuses --token-file beside --store (2): the users are the tokens', () => {
    const r = loupe('serve', '--store', server.url, '--token-file', '/tmp/x.token', '--port', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('loupe: --token-file cannot be used with --store: the users in the store are the tokens; add one with loupe store user add NAME --role viewer --store URL\n');
  });
});
