/**
 * `loupe ship --otlp` against a collector run by the test (a local HTTP endpoint that decodes the
 * OTLP/HTTP JSON requests): the records' fields, retries through 503s, resuming from the cursor
 * files after a restart, a shipper killed while a request was in flight, and the user's errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTimestamp } from '../../../shared/entry.js';
import { waitFor } from '../capture/test-support.js';
import { ensureLogsDir, streamPath } from '../log/paths.js';
import { LogWriter, type NewEntry } from '../log/writer.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const TASK = 'TASK-20261202-040000-0a1b2c3d';
const BASE_US = Date.UTC(2026, 11, 2, 4) * 1000;

interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string };
}
interface Received {
  resource: Record<string, string>;
  record: {
    timeUnixNano: string;
    observedTimeUnixNano: string;
    severityNumber: number;
    severityText: string;
    body: { stringValue: string };
    attributes: Record<string, string>;
  };
  /** Which request (1-based) carried it. */
  request: number;
}

/** A collector: decodes each request, and answers with the status `answer` picks for it (200 by default). */
class TestCollector {
  readonly accepted: Received[] = [];
  requests = 0;
  /** The headers of the last request. */
  headers: http.IncomingHttpHeaders = {};
  answer: (request: number) => number | 'hold' = () => 200;
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly held: http.ServerResponse[] = [];
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Sequences of the accepted records, in order. */
  sequences(): number[] {
    return this.accepted.map((r) => Number(r.record.attributes['loupe.sequence']));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const n = ++this.requests;
      this.headers = req.headers;
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/v1/logs');
      expect(req.headers['content-type']).toBe('application/json');
      const status = this.answer(n);
      if (status === 200 || status === 'hold') this.decode(body, n);
      if (status === 'hold') {
        this.held.push(res); // taken, but the answer never comes
        return;
      }
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(status === 200 ? '{}' : '{"code":14,"message":"collector busy"}');
    });
  }

  private decode(body: string, request: number): void {
    const message = JSON.parse(body) as {
      resourceLogs: { resource: { attributes: KeyValue[] }; scopeLogs: { scope: { name: string }; logRecords: (Received['record'] & { attributes: KeyValue[] })[] }[] }[];
    };
    for (const rl of message.resourceLogs) {
      const resource = flatten(rl.resource.attributes);
      for (const sl of rl.scopeLogs) {
        expect(sl.scope.name).toBe('loupe');
        for (const record of sl.logRecords) this.accepted.push({ resource, record: { ...record, attributes: flatten(record.attributes) }, request });
      }
    }
  }
}

function flatten(list: KeyValue[]): Record<string, string> {
  return Object.fromEntries(list.map((kv) => [kv.key, kv.value.stringValue ?? kv.value.intValue ?? '']));
}

let base: string;
let root: string;
let collector: TestCollector;
const children: ChildProcess[] = [];

beforeEach(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-otlp-'));
  root = path.join(base, 'root');
  fs.mkdirSync(root);
  ensureLogsDir(root, TASK);
  collector = new TestCollector();
  await collector.start();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
  await collector.close();
  fs.rmSync(base, { recursive: true, force: true });
});

/** Appends entries to an agent's log, `count` numbered lines unless `entries` are given. */
function write(agentId: string, entries: NewEntry[]): void {
  const w = new LogWriter(streamPath(root, TASK, agentId), { agentId });
  for (const e of entries) w.append(e);
  w.closeSync();
}

function numbered(from: number, count: number): NewEntry[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'stdout' as const, content: `line ${from + i}\r`, timeMicros: BASE_US + (from + i) * 1000 }));
}

/** `loupe` as a child (never spawnSync: the collector answers from this process's event loop). */
function loupe(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return loupeWith({}, ...args);
}

function loupeWith(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (status) => resolve({ status, stdout, stderr })));
}

const shipOnce = (...extra: string[]) => loupe('ship', '--otlp', collector.url, '--root', root, '--machine', 'box-1', '--once', ...extra);

describe('loupe ship --otlp', () => {
  it('sends each entry as a log record: body, raw content, severity, attributes, resource and timestamps', async () => {
    write('alpha', [
      { type: 'system', content: 'started sh', metadata: { event: 'started', cols: 80, rows: 24 }, timeMicros: BASE_US + 1 },
      { type: 'stdout', content: '\x1b[32mall green\x1b[0m\r', timeMicros: BASE_US + 2 },
      { type: 'stdout', content: 'warning: low disk\r', metadata: { level: 'warn' }, timeMicros: BASE_US + 3 },
      { type: 'stderr', content: 'Error: boom\r', metadata: { level: 'error' }, timeMicros: BASE_US + 4 },
      { type: 'stdout', content: 'progress 50%\rprogress 100%\r', timeMicros: BASE_US + 5 },
    ]);
    const done = await shipOnce();
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout).toBe(`shipped 5 entries as log records to ${collector.url}/v1/logs as machine box-1\n`);
    expect(collector.accepted).toHaveLength(5);
    const [started, green, warn, error, progress] = collector.accepted;
    for (const r of collector.accepted) {
      expect(r.resource).toEqual({ 'service.name': 'loupe', 'host.name': 'box-1' });
      expect(r.record.attributes['loupe.agent_id']).toBe('alpha');
      expect(r.record.attributes['loupe.task_id']).toBe(TASK);
      expect(r.record.attributes['loupe.root']).toBe(root);
      expect(BigInt(r.record.observedTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(r.record.timeUnixNano));
    }
    const lines = fs.readFileSync(streamPath(root, TASK, 'alpha'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(collector.accepted.map((r) => r.record.timeUnixNano)).toEqual(lines.map((e) => `${parseTimestamp(e.timestamp)}000`));
    expect(started.record.attributes['loupe.type']).toBe('system');
    expect(JSON.parse(started.record.attributes['loupe.metadata'])).toMatchObject({ event: 'started', cols: 80 });
    // The body is what the screen showed; the raw bytes stay in loupe.content.
    expect(green.record.body.stringValue).toBe('all green');
    expect(green.record.attributes['loupe.content']).toBe('\x1b[32mall green\x1b[0m\r');
    expect([green.record.severityNumber, green.record.severityText]).toEqual([9, 'INFO']);
    expect(green.record.attributes['loupe.sequence']).toBe('2');
    expect([warn.record.severityNumber, warn.record.severityText]).toEqual([13, 'WARN']);
    expect([error.record.severityNumber, error.record.severityText, error.record.body.stringValue]).toEqual([17, 'ERROR', 'Error: boom']);
    expect(error.record.attributes['loupe.type']).toBe('stderr');
    // An overwritten line reads as the screen showed it, not as the bytes went by.
    expect(progress.record.body.stringValue).toBe('progress 100%');
  }, 60_000);

  it('retries through 503 and 429 answers and loses nothing', async () => {
    write('alpha', numbered(1, 12_000)); // three batches
    collector.answer = (n) => (n === 2 || n === 3 ? 503 : n === 4 ? 429 : 200);
    const done = await shipOnce();
    expect(done.status).toBe(0);
    expect(done.stderr).toContain('answered 503: {"code":14,"message":"collector busy"}; retrying in');
    expect(done.stderr).toContain('answered 429');
    expect(collector.requests).toBe(6);
    expect(collector.sequences()).toEqual(Array.from({ length: 12_000 }, (_, i) => i + 1));
  }, 90_000);

  it('resumes from its cursors after a restart: only new entries are sent, and nothing when there are none', async () => {
    write('alpha', numbered(1, 100));
    write('beta', numbered(1, 50));
    expect((await shipOnce()).status).toBe(0);
    expect(collector.accepted).toHaveLength(150);
    write('alpha', numbered(101, 20));
    collector.accepted.length = 0;
    const second = await shipOnce();
    expect(second.stdout).toContain('shipped 20 entries');
    expect(collector.accepted.map((r) => r.record.attributes['loupe.agent_id'])).toEqual(Array(20).fill('alpha'));
    expect(collector.sequences()).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i));
    const requests = collector.requests;
    expect((await shipOnce()).stdout).toContain('shipped 0 entries');
    expect(collector.requests).toBe(requests);
  }, 90_000);

  it('killed while the collector holds a request, then restarted: nothing lost, duplicates only from that batch', async () => {
    write('alpha', numbered(1, 12_000));
    collector.answer = (n) => (n === 2 ? 'hold' : 200);
    const first = loupe('ship', '--otlp', collector.url, '--root', root, '--machine', 'box-1');
    await waitFor(() => collector.requests >= 2, 30_000, 'the second request');
    children[0]!.kill('SIGKILL');
    await first;
    const held = collector.accepted.filter((r) => r.request === 2).map((r) => Number(r.record.attributes['loupe.sequence']));
    expect(held.length).toBeGreaterThan(0);
    collector.answer = () => 200;
    expect((await shipOnce()).status).toBe(0);
    const seen = collector.sequences();
    expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(Array.from({ length: 12_000 }, (_, i) => i + 1));
    const counts = new Map<number, number>();
    for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
    const twice = [...counts].filter(([, c]) => c > 1).map(([s]) => s);
    // The batch the collector took but never acknowledged is sent again, and only it.
    expect(twice.sort((a, b) => a - b)).toEqual([...held].sort((a, b) => a - b));
    expect([...counts.values()].every((c) => c <= 2)).toBe(true);
  }, 90_000);

  it('sends the headers of OTEL_EXPORTER_OTLP_HEADERS, and a URL\'s user and password as Basic auth', async () => {
    write('alpha', numbered(1, 2));
    const withKey = await loupeWith({ OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20def, x-team = agents' }, 'ship', '--otlp', `${collector.url}/`, '--root', root, '--once');
    expect(withKey.status).toBe(0);
    expect([collector.headers['x-api-key'], collector.headers['x-team']]).toEqual(['abc def', 'agents']);
    write('alpha', numbered(3, 1));
    const basic = await loupe('ship', '--otlp', collector.url.replace('http://', 'http://ship:s%3Acret@'), '--root', root, '--once');
    expect(basic.status).toBe(0);
    expect(basic.stdout).toContain(`to http://ship@${collector.url.slice('http://'.length)}/v1/logs`); // never the password
    expect(collector.headers.authorization).toBe(`Basic ${Buffer.from('ship:s:cret').toString('base64')}`);
  }, 60_000);

  it('refuses a wrong destination with a usage error, and stops with one line on a permanent or lasting failure', async () => {
    write('alpha', numbered(1, 3));
    const neither = await loupe('ship', '--root', root, '--once');
    expect([neither.status, neither.stderr]).toEqual([2, 'loupe: give one destination: --to postgres://… (a Loupe store) or --otlp http://collector:4318 (an OpenTelemetry collector)\n']);
    const both = await loupe('ship', '--to', 'postgres://localhost/x', '--otlp', collector.url, '--root', root, '--once');
    expect(both.status).toBe(2);
    const grpc = await loupe('ship', '--otlp', 'grpc://collector:4317', '--root', root, '--once');
    expect([grpc.status, grpc.stderr]).toEqual([2, 'loupe: --otlp "grpc://collector:4317" is not http:// or https://: Loupe sends OTLP over HTTP (port 4318), not gRPC\n']);
    collector.answer = () => 400;
    const rejected = await shipOnce();
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toBe(`loupe: shipping to ${collector.url}/v1/logs failed: the collector at ${collector.url}/v1/logs answered 400: {"code":14,"message":"collector busy"}\n`);
    expect(collector.requests).toBe(1); // not retried
    const url = collector.url;
    await collector.close();
    collector = new TestCollector(); // afterEach closes this one
    await collector.start();
    const refused = await loupe('ship', '--otlp', url, '--root', root, '--once', '--retries', '2');
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(`loupe: shipping to ${url}/v1/logs failed: cannot reach the collector at ${url}/v1/logs: ECONNREFUSED`);
  }, 60_000);
});
