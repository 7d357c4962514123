/**
 * `GET /metrics` on a real `loupe serve` over agents captured on a private tmux server: the token
 * and Host rules, values that move as entries arrive and clients connect, and no label that names
 * an agent or a task. Parsed with a Prometheus text parser, as a scraper would.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { listAgentLogs } from '../core/log/paths.js';
import { destinationDir, writeCursor } from '../core/ship/cursor.js';
import { formatTimestamp } from '../../shared/entry.js';
import { createServeMetrics } from './metrics.js';
import { createWorld, readEntries, waitFor, waitForCaptureDaemons, type TestWorld } from '../core/capture/test-support.js';

const LOUPE = path.resolve('bin/loupe.js');

interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  type: string;
  metrics: Sample[];
}

let world: TestWorld;
let serve: ChildProcess | null = null;
let url: URL;
let token: string;

beforeEach(() => {
  world = createWorld();
});

afterEach(async () => {
  if (serve?.exitCode === null) serve.kill('SIGKILL');
  serve = null;
  world.cleanup();
  await waitForCaptureDaemons(world.socket);
});

function loupeRun(name: string, script: string): string {
  const out = execFileSync(process.execPath, [LOUPE, 'run', '--name', name, '--root', world.root, '--socket', world.socket, '--', 'sh', '-c', script], {
    encoding: 'utf8',
  });
  return out.split('\n')[1];
}

async function startServe(...extra: string[]): Promise<void> {
  serve = spawn(process.execPath, [LOUPE, 'serve', '--port', '0', '--root', world.root, '--socket', world.socket, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  serve.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('http://'), 30_000, 'loupe serve to print its URL');
  url = new URL(out.trim().split('\n').find((l) => l.startsWith('http://'))!);
  token = url.searchParams.get('token')!;
}

/** GET with exactly these headers (fetch would not let a test send its own Host). */
function get(pathAndQuery: string, headers: Record<string, string>): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: url.hostname, port: url.port, path: pathAndQuery, headers: { Host: url.host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
  });
}

async function scrape(): Promise<Map<string, Family>> {
  const res = await get('/metrics', { Authorization: `Bearer ${token}` });
  expect(res.status).toBe(200);
  expect(res.type).toContain('text/plain');
  return new Map((parsePrometheusTextFormat(res.body) as Family[]).map((f) => [f.name, f]));
}

function value(metrics: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = metrics.get(name);
  if (family === undefined) throw new Error(`no metric ${name}`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample === undefined ? 0 : Number(sample.value);
}

describe('GET /metrics on loupe serve', () => {
  it('is refused without the token or with a foreign Host, and served with the bearer token or the cookie', async () => {
    loupeRun('quiet', 'echo ready; sleep 60');
    // A scraper reads the token from the file `--token-file` keeps (written on first start).
    const tokenFile = path.join(world.stateDir, 'serve.token');
    await startServe('--token-file', tokenFile);
    expect(fs.readFileSync(tokenFile, 'utf8')).toBe(`${token}\n`);
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect((await get('/metrics', {})).status).toBe(401);
    expect((await get('/metrics', { Authorization: 'Bearer wrong' })).status).toBe(401);
    const rebinding = await get('/metrics', { Host: `attacker.example:${url.port}`, Authorization: `Bearer ${token}` });
    expect(rebinding.status).toBe(403);
    expect(rebinding.body).not.toContain('loupe_');
    const foreign = await get('/metrics', { Origin: 'http://attacker.example', Authorization: `Bearer ${token}` });
    expect(foreign.status).toBe(403);
    const bearer = await get('/metrics', { Authorization: `Bearer ${token}` });
    expect(bearer.status).toBe(200);
    expect(bearer.body).toContain('# TYPE loupe_entries_total counter');
    const cookie = await get('/metrics', { Cookie: `loupe_token_${url.port}=${token}` });
    expect(cookie.status).toBe(200);
    // A scraper configured with ?token= gets the metrics, not a redirect to a cookie it would not keep.
    const query = await get(`/metrics?token=${token}`, {});
    expect(query.status).toBe(200);
    // The next start uses the same token.
    serve!.kill('SIGTERM');
    await new Promise((resolve) => serve!.once('exit', resolve));
    const before = token;
    await startServe('--token-file', tokenFile);
    expect(token).toBe(before);
  }, 60_000);

  it('refuses a token file that holds too short a token, with a usage error', () => {
    const tokenFile = path.join(world.stateDir, 'short.token');
    fs.mkdirSync(world.stateDir, { recursive: true });
    fs.writeFileSync(tokenFile, 'secret\n');
    const r = spawnSync(process.execPath, [LOUPE, 'serve', '--port', '0', '--root', world.root, '--socket', world.socket, '--token-file', tokenFile], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `loupe: the token file ${tokenFile} must hold one token of at least 22 letters, digits or -._~+/= (128 bits); delete it and Loupe writes a new one\n`,
    );
  });

  it('moves as entries arrive and a WebSocket client connects, is fed and leaves; no label names an agent or task', async () => {
    const go = path.join(world.root, 'go');
    // `talker` prints two lines (one an error) each time the file `go` appears.
    const talkerFile = loupeRun('talker', `echo ready; while true; do if [ -e ${go} ]; then rm ${go}; echo "step done"; echo "Error: boom"; fi; sleep 0.05; done`);
    loupeRun('asker', 'echo "Deploy plan ready"; printf "Do you want to proceed? [y/N] "; read answer; sleep 60');
    await waitFor(() => readEntries(talkerFile).some((e) => e.content.startsWith('ready')), 20_000, 'the talker to start');
    const taskId = path.basename(path.dirname(path.dirname(talkerFile)));
    await startServe();

    let metrics = await waitFor(async () => {
      const m = await scrape();
      return value(m, 'loupe_captures_active') === 2 && value(m, 'loupe_agents_waiting') === 1 ? m : null;
    }, 30_000, 'two captures, one of them waiting');
    expect(value(metrics, 'loupe_ws_connections')).toBe(0);
    expect(metrics.get('loupe_live_delivery_seconds')!.metrics[0].count).toBe('0');
    expect(metrics.get('loupe_ship_lag_entries')?.metrics ?? []).toEqual([]); // nothing ships from this root
    const errorsBefore = value(metrics, 'loupe_entries_total', { type: 'stderr', level: 'error' });

    // A client subscribes to the talker from its first entry: that history is not "delivered live".
    const ws = new WebSocket(`ws://${url.host}/ws`, { headers: { Authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const pushed: { sequence: number; content: string }[] = [];
    let lastSequence = -1;
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.kind === 'result' && m.id === 1) lastSequence = m.result.lastSequence;
      if (m.kind === 'push' && m.channel === 'live:entries') {
        for (const b of m.payload.batches) {
          pushed.push(...b.entries);
          const last = b.entries[b.entries.length - 1].sequence;
          ws.send(JSON.stringify({ kind: 'invoke', id: 2, channel: 'live:ack', args: { subscriptionId: b.subscriptionId, sequence: last } }));
        }
      }
    });
    ws.send(JSON.stringify({ kind: 'invoke', id: 1, channel: 'live:subscribe', args: { root: world.root, taskId, agentId: 'talker', fromSequence: 1 } }));
    await waitFor(() => lastSequence > 0 && pushed.some((e) => e.sequence === lastSequence), 20_000, 'the history to be pushed');
    metrics = await scrape();
    expect(value(metrics, 'loupe_ws_connections')).toBe(1);
    expect(metrics.get('loupe_live_delivery_seconds')!.metrics[0].count).toBe('0');

    fs.writeFileSync(go, '');
    await waitFor(() => pushed.some((e) => e.content.startsWith('Error: boom')), 20_000, 'the new lines to be pushed');
    const live = pushed.filter((e) => e.sequence > lastSequence).length;
    metrics = await waitFor(async () => {
      const m = await scrape();
      return value(m, 'loupe_entries_total', { type: 'stderr', level: 'error' }) > errorsBefore ? m : null;
    }, 20_000, 'the error line to be counted');
    const delivery = metrics.get('loupe_live_delivery_seconds')!;
    expect(delivery.type).toBe('HISTOGRAM');
    expect(Number(delivery.metrics[0].count)).toBe(live);
    // Pushed within a second of capture on an idle loopback (the buckets are cumulative).
    expect(Number(delivery.metrics[0].buckets!['1'])).toBe(live);
    expect(value(metrics, 'loupe_entries_total', { type: 'stdout', level: 'info' })).toBeGreaterThan(0);
    // Once the index has caught up, the counts add up to every entry of every log, and the lag is 0.
    const logs = listAgentLogs(world.root);
    metrics = await waitFor(async () => {
      const m = await scrape();
      const counted = m.get('loupe_entries_total')!.metrics.reduce((sum, s) => sum + Number(s.value), 0);
      const written = logs.reduce((sum, log) => sum + readEntries(log.file).length, 0);
      return counted === written && value(m, 'loupe_index_lag_bytes') === 0 ? m : null;
    }, 20_000, 'the counts to match the logs');

    ws.close();
    await waitFor(async () => value(await scrape(), 'loupe_ws_connections') === 0, 10_000, 'the connection to be counted out');

    // Once `ship --otlp` has cursors under the root, its lag shows: every entry not acknowledged.
    const destination = { kind: 'otlp', endpoint: 'http://collector:4318/v1/logs', machine: 'm' };
    const talker = logs.find((l) => l.agentId === 'talker')!;
    writeCursor(destinationDir(world.root, destination), destination, talker, { sequence: 1, line: 0 });
    const lastOf = (file: string) => readEntries(file).at(-1)!.sequence;
    const lag = value(await scrape(), 'loupe_ship_lag_entries', { sink: 'otlp' });
    expect(lag).toBe(logs.reduce((sum, l) => sum + lastOf(l.file), 0) - 1);

    // Kinds only: no label value anywhere holds an agent id, a task id or a path.
    for (const family of metrics.values()) {
      for (const sample of family.metrics) {
        for (const v of Object.values(sample.labels ?? {})) {
          for (const id of ['talker', 'asker', ...logs.map((l) => l.taskId), world.root]) expect(v).not.toContain(id);
        }
      }
    }
    expect([...metrics.get('loupe_entries_total')!.metrics.flatMap((m) => Object.keys(m.labels ?? {}))].every((k) => k === 'type' || k === 'level')).toBe(true);
  }, 90_000);
});

describe('createServeMetrics', () => {
  const snapshot = { entries: [{ type: 'stdout' as const, level: 'info' as const, count: 5 }], unindexedBytes: 7, capturesActive: 1, agentsWaiting: 0, unshippedEntries: new Map() };

  it('gives overlapping scrapes one render from one snapshot', async () => {
    let calls = 0;
    const metrics = createServeMetrics(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return snapshot;
    });
    const [a, b] = await Promise.all([metrics.render(), metrics.render()]);
    expect(calls).toBe(1);
    expect(a.body).toBe(b.body);
    expect(a.body).toContain('loupe_entries_total{type="stdout",level="info"} 5');
    await metrics.render();
    expect(calls).toBe(2); // a later scrape reads afresh
  });

  it('observes every delivered entry at its own age, entries that share a timestamp included', async () => {
    const metrics = createServeMetrics(async () => snapshot);
    const now = Date.now() * 1000;
    const at = (ageMs: number, sequence: number) => ({ timestamp: formatTimestamp(now - ageMs * 1000), agent_id: 'a', type: 'stdout' as const, sequence, content: '' });
    metrics.delivered([at(2000, 1), at(2000, 2), at(2000, 3), at(0, 4), at(20_000, 5)]);
    const family = (parsePrometheusTextFormat((await metrics.render()).body) as Family[]).find((f) => f.name === 'loupe_live_delivery_seconds')!;
    const { buckets, count } = family.metrics[0];
    expect(count).toBe('5');
    expect([buckets!['1'], buckets!['2.5'], buckets!['10'], buckets!['30']]).toEqual(['1', '4', '4', '5']);
  });
});
