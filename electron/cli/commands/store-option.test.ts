/**
 * `loupe screen`, `replay` and `export` with `--store URL` against a real PostgreSQL, through
 * the compiled CLI: the same bytes as the local command on the shipping machine's root, one
 * copy of each entry when two processes read at once, and the errors a user can make.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateDir } from '../../core/capture/state.js';
import { writeTestRun } from '../../core/export/testRuns.js';
import { LogWriter } from '../../core/log/writer.js';
import { isoOf, writeSyntheticRun, type SyntheticRun } from '../../core/replay/test-support.js';
import { startPostgres, type TestPostgres } from '../../core/store/test-support.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const AWS_KEY = 'AKIA' + 'IOSFODNN7EXAMPLE';

let server: TestPostgres;
let run: SyntheticRun;

/** Runs the CLI without blocking the test worker (vitest's own calls time out behind a long spawnSync). */
function loupe(...args: string[]): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return loupeIn(process.env, ...args);
}

function loupeIn(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr })));
}

async function ship(machine = 'laptop'): Promise<void> {
  const r = await loupe('ship', '--to', server.url, '--root', run.root, '--machine', machine, '--once');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

/** Runs a command on the local root and on the store; both must succeed with the same output. */
async function expectSameAsLocal(args: string[], normalize: (out: Buffer) => Buffer = (b) => b): Promise<void> {
  const [local, store] = await Promise.all([loupe(...args, '--root', run.root), loupe(...args, '--store', server.url)]);
  expect(local.status, `${args.join(' ')}: ${local.stderr}`).toBe(0);
  expect(store.stderr, args.join(' ')).toBe(local.stderr);
  expect(store.status, args.join(' ')).toBe(0);
  expect(normalize(store.stdout).equals(normalize(local.stdout)), args.join(' ')).toBe(true);
}

beforeAll(async () => {
  server = await startPostgres();
  run = await writeSyntheticRun({ seed: 21, bytes: 300_000 });
  writeTestRun(run.root, 'agent-2', [{ content: `export AWS_ACCESS_KEY_ID=${AWS_KEY}` }, { type: 'stderr', content: 'Error: boom', metadata: { level: 'error' } }], run.log.taskId);
  await ship();
});
afterAll(() => {
  server?.cleanup();
  run?.dispose();
});

describe('loupe screen, replay and export --store', () => {
  it('screen prints the screen the local screen prints: at the end, after an entry, at a time, with colors', async () => {
    const middle = Math.floor(run.lastSeq / 2);
    const entry = JSON.parse(fs.readFileSync(run.log.file, 'utf8').split('\n')[middle]!) as { timestamp: string };
    for (const args of [[], ['--seq', String(middle)], ['--at', entry.timestamp], ['--format', 'ansi', '--seq', String(middle + 7)]]) {
      await expectSameAsLocal(['screen', 'agent-1', ...args]);
    }
  });

  it('replay writes what the local replay writes, whole and as a slice', async () => {
    await expectSameAsLocal(['replay', 'agent-1', '--speed', '0']);
    await expectSameAsLocal(['replay', 'agent-1', '--speed', '0', '--from', String(Math.floor(run.lastSeq / 3)), '--to', String(Math.floor(run.lastSeq / 2))]);
  });

  it('export writes what the local export writes, in every format, sliced, gzipped and for a whole task', async () => {
    // The HTML page says when it was exported.
    const exportedAt = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/Exported by Loupe on [0-9T:.Z-]+/, 'Exported by Loupe on …'), 'latin1');
    for (const format of ['jsonl', 'text', 'ansi', 'html', 'cast', 'replay-html']) {
      await expectSameAsLocal(['export', 'agent-1', '--format', format, '-o', '-'], exportedAt);
    }
    await expectSameAsLocal(['export', 'agent-1', '--format', 'ansi', '--gzip', '--from-seq', '20', '--to-seq', '400', '--grep', 'line \\d', '-o', '-']);
    await expectSameAsLocal(['export', 'agent-1', '--format', 'jsonl', '--since', isoOf(Date.UTC(2026, 10, 21, 12, 0, 1) * 1000), '-o', '-']);
    await expectSameAsLocal(['export', run.log.taskId, '--format', 'jsonl', '-o', '-']);
    const secret = await loupe('export', 'agent-2', '--format', 'text', '-o', '-', '--store', server.url);
    expect(secret.stdout.toString()).toBe('export AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key]\nError: boom\n');
  });

  it('reads newly shipped entries, and two processes reading at once copy each entry once', async () => {
    const writer = new LogWriter(run.log.file, { agentId: 'agent-1' });
    for (let i = 0; i < 30_000; i++) writer.append({ type: 'stdout', content: `late line ${i}` });
    writer.closeSync();
    await ship();
    const args = ['export', 'agent-1', '--format', 'jsonl', '--no-redact', '-o', '-', '--store', server.url];
    const [a, b] = await Promise.all([loupe(...args), loupe(...args)]);
    const local = fs.readFileSync(run.log.file);
    for (const r of [a, b]) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.equals(local)).toBe(true);
    }
    const [cached] = findFiles(path.join(stateDir(), 'store-cache'), 'agent-1_stream.jsonl');
    expect(fs.readFileSync(cached!).equals(local)).toBe(true);
  });

  it('says what is wrong in one line: local options, --machine alone, an unknown agent or task, a bad URL (2); an unwritable copy, an unreachable store (1)', async () => {
    const refused = [
      [['screen', 'agent-1', '--store', server.url, '--root', run.root], 2, /^loupe: --root names local logs, which --store does not read; leave it out\n$/],
      [['replay', 'agent-1', '--store', server.url, '--root', '.'], 2, /^loupe: --root names local logs/],
      [['export', 'agent-1', '--format', 'text', '-o', '-', '--store', server.url, '--root', run.root], 2, /^loupe: --root names local logs/],
      [['screen', 'agent-1', '--machine', 'laptop', '--root', run.root], 2, /^loupe: --machine needs --store/],
      [['replay', 'nobody', '--speed', '0', '--store', server.url], 2, /^loupe: no agent "nobody" in the store; run `loupe ls --store URL` to list agents\n$/],
      [['export', 'TASK-20261121-100000-00000000', '--format', 'text', '-o', '-', '--store', server.url], 2, /^loupe: no task TASK-20261121-100000-00000000 in the store; run `loupe ls --store URL` to list tasks\n$/],
      [['screen', 'agent-1', '--store', 'mysql://h/db'], 2, /^loupe: "mysql:\/\/h\/db" is not a PostgreSQL URL/],
    ] as const;
    for (const [args, status, message] of refused) {
      const r = await loupe(...args);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.status, args.join(' ')).toBe(status);
    }
    // The copy cannot be written: a state folder under a file (which holds for root too).
    const blocker = path.join(run.root, 'a-file');
    fs.writeFileSync(blocker, '');
    const unwritable = await loupeIn({ ...process.env, LOUPE_STATE_DIR: path.join(blocker, 'state') }, 'screen', 'agent-1', '--store', server.url);
    expect(unwritable.stderr).toMatch(/^loupe: cannot write \S+agent-1_stream\.jsonl, Loupe's copy of an agent in the store: a part of that path is a file, not a folder; free some space, or set LOUPE_STATE_DIR to another folder\n$/);
    expect(unwritable.status).toBe(1);
    await ship('buildbox');
    const both = await loupe('screen', 'agent-1', '--store', server.url);
    expect(both.stderr).toMatch(/^loupe: agent "agent-1" of TASK-\S+ is on several machines \(buildbox, laptop\): pick one with --machine\n$/);
    expect(both.status).toBe(2);
    expect((await loupe('export', run.log.taskId, '--format', 'jsonl', '-o', '-', '--store', server.url)).stderr).toMatch(/is on several machines \(buildbox, laptop\): pick one with --machine\n$/);
    expect((await loupe('screen', 'agent-1', '--store', server.url, '--machine', 'buildbox')).status).toBe(0);
    server.stop();
    try {
      const down = await loupe('replay', 'agent-1', '--speed', '0', '--store', server.url);
      expect(down.stderr).toMatch(/^loupe: cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/postgres: connection refused \(is the server running\?\)\n$/);
      expect(down.status).toBe(1);
    } finally {
      server.start();
    }
  });
});

/** Every file named `name` under `dir`. */
function findFiles(dir: string, name: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === name).map((f) => path.join(dir, f));
}
