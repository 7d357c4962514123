/**
 * The local cache of a shipped agent (agentCache.ts) against a real PostgreSQL: byte-identical
 * to the shipping machine's JSONL, incremental, repaired or rebuilt when damaged, and one copy
 * when two connections cache the same agent at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stateDir } from '../capture/state.js';
import { LogWriter } from '../log/writer.js';
import { KeyframeStore } from '../replay/keyframes.js';
import { seekReplay } from '../replay/seek.js';
import { writeSyntheticRun, type SyntheticRun } from '../replay/test-support.js';
import { LocalLogFollower } from '../ship/follow.js';
import { cacheStoreAgent } from './agentCache.js';
import { PostgresSink } from './shipSink.js';
import { findStoreAgent } from './tail.js';
import { dropStore, startPostgres, type TestPostgres } from './test-support.js';

/** Buffers compared with `equals`: a diff of two megabytes of bytes takes the test's whole budget to print. */
function expectSameBytes(actual: string, expected: string): void {
  const a = fs.readFileSync(actual);
  const b = fs.readFileSync(expected);
  expect(a.equals(b), `${actual} (${a.length} bytes) differs from ${expected} (${b.length} bytes)`).toBe(true);
}

let server: TestPostgres;
let db: pg.Client;
let run: SyntheticRun;

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  return client;
}

/** `loupe ship --once` of the run's root, in this process. */
async function ship(): Promise<void> {
  const sink = new PostgresSink(server.url, 'laptop');
  const follower = new LocalLogFollower([run.root], sink);
  try {
    await follower.runOnce();
  } finally {
    follower.dispose();
    await sink.dispose();
  }
}

/** Appends `count` entries to the run, as the capture would after the ones written so far. */
function writeMore(count: number, text = 'more'): void {
  const writer = new LogWriter(run.log.file, { agentId: run.log.agentId });
  for (let i = 0; i < count; i++) writer.append({ type: 'stdout', content: `\x1b[33m${text}\x1b[0m ${i} 日本 🎉 \u0000 \\ "q"` });
  writer.closeSync();
}

async function cache() {
  return cacheStoreAgent(db, await findStoreAgent(db, { agentId: run.log.agentId }));
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
  await dropStore(db);
  fs.rmSync(path.join(stateDir(), 'store-cache'), { recursive: true, force: true });
  run?.dispose();
});

describe('cacheStoreAgent', () => {
  it("copies an agent's shipped entries byte for byte into a normal root under the state folder, named without the password", async () => {
    run = await writeSyntheticRun({ seed: 3, bytes: 30_000 });
    writeMore(5);
    await ship();
    const log = await cache();
    expectSameBytes(log.file, run.log.file);
    expect(log.file.startsWith(path.join(stateDir(), 'store-cache') + path.sep)).toBe(true);
    expect(path.relative(path.join(stateDir(), 'store-cache'), log.file).split(path.sep)).toEqual([
      expect.stringMatching(/^[0-9a-f]{16}$/),
      'laptop',
      expect.stringMatching(/-[0-9a-f]{8}$/),
      '.agent-workspace',
      run.log.taskId,
      'logs',
      'agent-1_stream.jsonl',
    ]);
    expect(log.file).not.toContain(server.password);
    expect({ taskId: log.taskId, agentId: log.agentId }).toEqual({ taskId: run.log.taskId, agentId: run.log.agentId });
  });

  it('appends only the entries shipped since the last call, to the same file', async () => {
    run = await writeSyntheticRun({ seed: 4, bytes: 10_000 });
    await ship();
    const log = await cache();
    const before = fs.statSync(log.file);
    writeMore(2500); // more than a page of rows
    await ship();
    await cache();
    expectSameBytes(log.file, run.log.file);
    // Appended in place: the same file, not a rewritten copy.
    expect(fs.statSync(log.file).ino).toBe(before.ino);
  });

  it('cuts off a torn last line (a crash mid-append) and carries on from the line before', async () => {
    run = await writeSyntheticRun({ seed: 5, bytes: 10_000 });
    await ship();
    const log = await cache();
    const ino = fs.statSync(log.file).ino;
    fs.truncateSync(log.file, fs.statSync(log.file).size - 7);
    await cache();
    expectSameBytes(log.file, run.log.file);
    expect(fs.statSync(log.file).ino).toBe(ino);
  });

  it('rebuilds a cache whose last line is not what the store holds, and drops its keyframes', async () => {
    run = await writeSyntheticRun({ seed: 6, bytes: 20_000 });
    await ship();
    const log = await cache();
    (await seekReplay(log, { end: true }, { keyframeIntervalBytes: 2000 })).dispose();
    expect(KeyframeStore.forLog(log).list().length).toBeGreaterThan(0);
    const bytes = fs.readFileSync(log.file);
    for (const damage of [
      // A changed last line that is still a valid entry.
      () => fs.writeFileSync(log.file, bytes.toString().replace(/"exit_status":0\}\}\n$/, '"exit_status":1}}\n')),
      // An entry the store never had.
      () => fs.appendFileSync(log.file, bytes.subarray(bytes.lastIndexOf(0x0a, bytes.length - 2) + 1).toString().replace(/"sequence":\d+/, '"sequence":999999')),
      // Not JSON at all.
      () => fs.appendFileSync(log.file, 'garbage\n'),
    ]) {
      damage();
      await cache();
      expectSameBytes(log.file, run.log.file);
    }
    expect(KeyframeStore.forLog(log).list()).toEqual([]);
    expect(fs.readdirSync(path.dirname(log.file))).toEqual(['agent-1_stream.jsonl']);
  });

  it('writes every entry once when two connections cache the same agent at once', async () => {
    run = await writeSyntheticRun({ seed: 7, bytes: 10_000 });
    await ship();
    await cache();
    writeMore(5000);
    await ship();
    const other = await connect();
    try {
      const agent = await findStoreAgent(db, { agentId: run.log.agentId });
      const [a, b] = await Promise.all([cacheStoreAgent(db, agent), cacheStoreAgent(other, agent)]);
      expect(a).toEqual(b);
      expectSameBytes(a.file, run.log.file);
    } finally {
      await other.end();
    }
  });

  it('leaves out entries pruned from the store, and replays from the first one it still holds', async () => {
    run = await writeSyntheticRun({ seed: 8, bytes: 10_000 });
    await ship();
    const agent = await findStoreAgent(db, { agentId: run.log.agentId });
    await db.query('DELETE FROM loupe_entries WHERE agent = $1 AND seq <= 10', [agent.id]);
    const log = await cacheStoreAgent(db, agent);
    const local = fs.readFileSync(run.log.file, 'utf8').split('\n');
    expect(fs.readFileSync(log.file, 'utf8')).toBe(local.slice(10).join('\n'));
    const screen = await seekReplay(log, { seq: 12 });
    try {
      expect(screen.replayer.seq).toBe(12);
    } finally {
      screen.dispose();
    }
  });
});
