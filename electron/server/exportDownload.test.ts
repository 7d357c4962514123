/**
 * The web view's export download (`GET /export`) and the export channels, over real sockets and
 * real log files: authentication before any data, Host and Origin checks, a safe file name,
 * redaction on unless asked, and `export:save` refused outside the desktop app.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CONTROL_CHANNELS, type ExportFileRequest, type WireResult } from '../../shared/ipc.js';
import { startBackend, type Backend } from '../core/api/backend.js';
import { exportFileName, safeFileStem } from '../core/api/exportChannels.js';
import { LiveFeed } from '../core/api/liveFeed.js';
import { ensureLogsDir, streamPath } from '../core/log/paths.js';
import { LogWriter } from '../core/log/writer.js';
import { startWebServer, type WebServer } from './server.js';

const TASK = 'TASK-20260101-120000-0a1b2c3d';
/** AWS's documented example secret: redacted as `aws-secret-key`. */
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
let root: string;
let staticDir: string;
let backend: Backend;
let server: WebServer;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-export-dl-'));
  staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-static-'));
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Loupe</title>');
  ensureLogsDir(root, TASK);
  const w = new LogWriter(streamPath(root, TASK, 'alpha'), { agentId: 'alpha' });
  w.append({ type: 'stdout', content: 'starting' });
  w.append({ type: 'stdout', content: `AWS_SECRET_ACCESS_KEY=${SECRET}` });
  w.append({ type: 'stderr', content: 'Error: boom', metadata: { level: 'error' } });
  w.closeSync();
  const b = new LogWriter(streamPath(root, TASK, 'beta'), { agentId: 'beta' });
  b.append({ type: 'stdout', content: 'beta says hi' });
  b.closeSync();
  backend = startBackend({ roots: [root], version: '0.0.0-test' });
  server = await startWebServer({ backend, port: 0, staticDir, allowedControl: [] });
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
  body: Buffer;
}

function get(pathname: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, path: pathname, headers: { Host: `127.0.0.1:${server.port}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function exportPath(request: Partial<ExportFileRequest>): string {
  return `/export?request=${encodeURIComponent(JSON.stringify({ root, taskId: TASK, agentId: 'alpha', format: 'text', ...request }))}`;
}

const auth = () => ({ Authorization: `Bearer ${server.token}` });
const cookie = () => ({ Cookie: `loupe_token_${server.port}=${server.token}` });

describe('GET /export', () => {
  it('refuses a request without the token before sending any data', async () => {
    const reply = await get(exportPath({}));
    expect(reply.status).toBe(401);
    expect(reply.headers['content-disposition']).toBeUndefined();
    expect(reply.body.toString()).not.toContain('starting');
  });

  it('refuses a wrong token, a foreign Host and a foreign or null Origin', async () => {
    expect((await get(exportPath({}), { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await get(exportPath({}), { ...auth(), Host: 'attacker.example' })).status).toBe(403);
    expect((await get(exportPath({}), { ...auth(), Origin: 'http://attacker.example' })).status).toBe(403);
    const nullOrigin = await get(exportPath({}), { ...cookie(), Origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    expect(nullOrigin.body.toString()).not.toContain('starting');
  });

  it('downloads with the cookie as an attachment, with secrets redacted by default', async () => {
    const reply = await get(exportPath({}), cookie());
    expect(reply.status).toBe(200);
    expect(reply.headers['content-disposition']).toBe('attachment; filename="alpha.txt"');
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    const text = reply.body.toString();
    expect(text).toContain('starting');
    expect(text).toContain('AWS_SECRET_ACCESS_KEY=');
    expect(text).not.toContain(SECRET);
  });

  it('keeps secrets only when the request turns redaction off', async () => {
    const reply = await get(exportPath({ redact: false }), auth());
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toContain(SECRET);
  });

  it('applies the slice and gzips when asked', async () => {
    const reply = await get(exportPath({ format: 'jsonl', gzip: true, slice: { types: ['stderr'] } }), auth());
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/gzip');
    expect(reply.headers['content-disposition']).toBe('attachment; filename="alpha-slice.jsonl.gz"');
    const lines = zlib.gunzipSync(reply.body).toString().trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).content)).toEqual(['Error: boom']);
  });

  it('exports every agent of a task when no agent is named', async () => {
    const reply = await get(exportPath({ agentId: undefined, format: 'jsonl' }), auth());
    expect(reply.status).toBe(200);
    expect(reply.headers['content-disposition']).toBe(`attachment; filename="${TASK}.jsonl"`);
    const agents = new Set(reply.body.toString().trim().split('\n').map((l) => JSON.parse(l).agent_id));
    expect(agents).toEqual(new Set(['alpha', 'beta']));
  });

  it('answers a bad request with 400 and what is wrong, and an unknown agent with 404', async () => {
    const bad = await get(exportPath({ format: 'pdf' as never }), auth());
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toContain('format');
    expect((await get('/export?request=%7Bnot-json', auth())).status).toBe(400);
    const traversal = await get(exportPath({ agentId: '../x' }), auth());
    expect(traversal.status).toBe(400);
    const otherRoot = await get(exportPath({ root: os.tmpdir() }), auth());
    expect(otherRoot.status).toBe(404);
    expect((await get(exportPath({ agentId: 'nobody' }), auth())).status).toBe(404);
    const badRegex = await get(exportPath({ slice: { grep: '(' } }), auth());
    expect(badRegex.status).toBe(400);
  });
});

describe('export file names', () => {
  it('are made of safe characters only and never start with a dot', () => {
    for (const hostile of ['../../etc/passwd', 'a"b\r\nSet-Cookie: x', '.hidden', '名前', '']) {
      const stem = safeFileStem(hostile);
      expect(stem).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    }
    expect(safeFileStem('../../etc/passwd')).toBe('etc_passwd');
  });

  it('name the agent or task, the slice and the format', () => {
    const base = { root, taskId: TASK };
    expect(exportFileName({ ...base, agentId: 'alpha', format: 'replay-html' })).toBe('alpha-replay.html');
    expect(exportFileName({ ...base, agentId: 'alpha', format: 'cast', gzip: true })).toBe('alpha.cast.gz');
    expect(exportFileName({ ...base, format: 'jsonl', slice: { fromSeq: 3 } })).toBe(`${TASK}-slice.jsonl`);
    expect(exportFileName({ ...base, format: 'jsonl', slice: { types: [] } })).toBe(`${TASK}.jsonl`);
  });
});

describe('export channels', () => {
  const client = (transport: 'ipc' | 'websocket') => ({
    transport,
    allowedControl: new Set(CONTROL_CHANNELS),
    feed: new LiveFeed({ push: () => {}, notice: () => {} }),
  });

  it('export:preview counts what the export would hold and the redactions by kind', async () => {
    const preview = await backend.handlers['export:preview']({ root, taskId: TASK, agentId: 'alpha' }, client('websocket'));
    expect(preview.entries).toBeGreaterThanOrEqual(3);
    expect(preview.redactions).toEqual({ 'aws-secret-key': 1 });
    const unredacted = await backend.handlers['export:preview']({ root, taskId: TASK, agentId: 'alpha', redact: false }, client('websocket'));
    expect(unredacted.redactions).toBeNull();
    const errors = await backend.handlers['export:preview']({ root, taskId: TASK, agentId: 'alpha', slice: { minLevel: 'error' } }, client('websocket'));
    expect(errors.entries).toBe(1);
  });

  it("a client's newer export:preview stops the older one, which rejects", async () => {
    const c = client('websocket');
    const older = backend.handlers['export:preview']({ root, taskId: TASK, agentId: 'alpha' }, c);
    const newer = backend.handlers['export:preview']({ root, taskId: TASK, agentId: 'alpha', redact: false }, c);
    await expect(older).rejects.toThrow(/replaced by a newer one/);
    expect((await newer).redactions).toBeNull();
    // Another client's preview is its own.
    const other = await backend.handlers['export:preview']({ root, taskId: TASK, agentId: 'alpha' }, client('websocket'));
    expect(other.redactions).toEqual({ 'aws-secret-key': 1 });
  });

  it('export:save is refused by the web view, even with control allowed', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { Host: `127.0.0.1:${server.port}`, ...auth() } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = new Promise<WireResult>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ kind: 'invoke', id: 1, channel: 'export:save', args: { root, taskId: TASK, agentId: 'alpha', format: 'text' } }));
    const result = await reply;
    ws.close();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.name).toBe('ForbiddenError');
    // With --allow-control the channel passes dispatch, but the backend has no save dialog.
    await expect(backend.handlers['export:save']({ root, taskId: TASK, agentId: 'alpha', format: 'text' }, client('websocket'))).rejects.toThrow(
      /only in the desktop app/,
    );
  });

  it('export:save writes where the save dialog says, with progress, and nothing when cancelled', async () => {
    const target = path.join(root, 'saved.txt');
    const asked: string[] = [];
    let answer: string | null = null;
    const desktop = startBackend({
      roots: [root],
      version: '0.0.0-test',
      chooseExportFile: async (_client, suggested) => {
        asked.push(suggested);
        return answer;
      },
    });
    try {
      const pushes: unknown[] = [];
      const connected = desktop.connect({ transport: 'ipc', allowedControl: CONTROL_CHANNELS, send: (channel, payload) => pushes.push({ channel, payload }) });
      const args = { root, taskId: TASK, agentId: 'alpha', format: 'text', progressId: 'p1' };
      expect(await connected.call('export:save', args)).toBeNull();
      expect(fs.existsSync(target)).toBe(false);
      answer = target;
      const saved = (await connected.call('export:save', args)) as { file: string; redactions: Record<string, number> };
      expect(asked).toEqual(['alpha.txt', 'alpha.txt']);
      expect(saved.file).toBe(target);
      expect(saved.redactions).toEqual({ 'aws-secret-key': 1 });
      const text = fs.readFileSync(target, 'utf8');
      expect(text).toContain('starting');
      expect(text).not.toContain(SECRET);
      expect(pushes).toContainEqual(expect.objectContaining({ channel: 'export:progress', payload: expect.objectContaining({ progressId: 'p1' }) }));
      connected.close();
    } finally {
      await desktop.dispose();
    }
  });
});
