/**
 * `loupe mcp --store URL` end to end: the MCP SDK's own client spawns the built CLI over stdio
 * against a real PostgreSQL that two machines shipped to, and its tools say what `loupe tail` and
 * `loupe search` say with `--store`. Also how `serve --store` and `mcp --store` refuse what they
 * cannot do (status 2) or reach (status 1), in one line. Needs `tsc -b` first (`npm test` does it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchHit, SearchResult, WorkspaceTask } from '../../shared/ipc.js';
import { shipOnce, startPostgres, writeTestAgent, type TestPostgres } from '../core/store/test-support.js';

const BIN = fileURLToPath(new URL('../../bin/loupe.js', import.meta.url));
const TASK = 'TASK-20261202-070000-2c3d4e5f';
const BASE_US = Date.UTC(2026, 11, 2, 7) * 1000;
/** Nothing listens on port 1 of the loopback: connection refused at once. */
const UNREACHABLE = 'postgres://loupe:secret@127.0.0.1:1/loupe';

let server: TestPostgres;
let base: string;
let client: Client;
let serverLog = '';

function loupe(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: '', timeout: 60_000 });
}

function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
}

async function structured<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await call(name, args);
  const text = (result.content[0] as { text: string }).text;
  expect(result.isError, text).toBeFalsy();
  return result.structuredContent as T;
}

beforeAll(async () => {
  server = await startPostgres();
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-mcp-store-')));
  const laptop = path.join(base, 'laptop');
  const buildbox = path.join(base, 'buildbox');
  writeTestAgent(laptop, TASK, 'worker', { lines: 30, baseUs: BASE_US });
  writeTestAgent(laptop, TASK, 'tests', { lines: 12, baseUs: BASE_US + 1000, exitStatus: 1 });
  writeTestAgent(buildbox, TASK, 'worker', { lines: 20, baseUs: BASE_US + 2000 });
  await shipOnce(server.url, laptop, 'laptop');
  await shipOnce(server.url, buildbox, 'buildbox');
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--store', server.url], stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
  client = new Client({ name: 'loupe-test', version: '0' });
  await client.connect(transport);
}, 120_000);

afterAll(async () => {
  await client?.close();
  server?.cleanup();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('loupe mcp --store', () => {
  it('list_agents lists each machine\'s roots, tasks and agents', async () => {
    const listed = await structured<{ roots: { root: string; machine: string; path: string; tasks: WorkspaceTask[] }[] }>('list_agents');
    expect(listed.roots.map((r) => [r.machine, r.path, r.root])).toEqual([
      ['buildbox', path.join(base, 'buildbox'), `buildbox:${path.join(base, 'buildbox')}`],
      ['laptop', path.join(base, 'laptop'), `laptop:${path.join(base, 'laptop')}`],
    ]);
    expect(listed.roots[1]!.tasks[0]!.agents.map((a) => [a.agentId, a.state, a.entries, a.exitStatus])).toEqual([
      ['tests', 'error', 14, 1],
      ['worker', 'ended', 32, 0],
    ]);
  });

  it('get_agent_output says what loupe tail --store says, naming the machine', async () => {
    const tests = await structured<{ output: string; machine: string; task_id: string }>('get_agent_output', { agent_id: 'tests', tail: 5 });
    const tail = loupe('tail', '--store', server.url, '-n', '5', 'tests');
    expect(tail.status, tail.stderr).toBe(0);
    expect(tests).toMatchObject({ output: tail.stdout, machine: 'laptop', task_id: TASK });
    const worker = await structured<{ output: string; machine: string }>('get_agent_output', { agent_id: 'worker', machine: 'buildbox', tail: 3, format: 'jsonl' });
    const raw = loupe('tail', '--store', server.url, '--machine', 'buildbox', '--format', 'jsonl', '-n', '3', 'worker');
    expect(worker).toMatchObject({ output: raw.stdout, machine: 'buildbox' });
    const error = await call('get_agent_output', { agent_id: 'worker' });
    expect(error.isError).toBe(true);
    expect((error.content[0] as { text: string }).text).toMatch(/worker of TASK-\S+ is on several machines \(buildbox, laptop\); pass machine/);
  });

  it('search_logs finds what loupe search --store finds, on both machines', async () => {
    const found = await structured<SearchResult>('search_logs', { text: 'traceback' });
    const cli = loupe('search', '--store', server.url, 'traceback', '--json');
    expect(cli.status, cli.stderr).toBe(0);
    const expected = JSON.parse(cli.stdout) as { total: number; hits: (SearchHit & { machine: string })[] };
    expect(found.total).toBe(expected.total);
    expect(new Set(found.hits.map((h) => h.machine))).toEqual(new Set(['laptop', 'buildbox']));
    expect(found.hits.map((h) => [h.machine, h.agentId, h.sequence, h.text])).toEqual(expected.hits.map((h) => [h.machine, h.agentId, h.sequence, h.text]));
    expect(serverLog).not.toMatch(/internal error|TypeError|at .*\.js:\d+/);
  });
});

describe('serve --store and mcp --store at the command line', () => {
  it('refuse a URL that is not PostgreSQL, and local options beside --store, with one line and status 2', () => {
    for (const [args, message] of [
      [['mcp', '--store', 'mysql://x/y'], /^loupe: "mysql:\/\/x\/y" is not a PostgreSQL URL/],
      [['serve', '--store', 'not a url'], /^loupe: "not a url" is not a URL/],
      [['mcp', '--store', UNREACHABLE, '--root', '.'], /^loupe: --root cannot be used with --store/],
      [['serve', '--store', UNREACHABLE, '--socket', 'x'], /^loupe: --socket cannot be used with --store/],
      [['serve', '--store', UNREACHABLE, '--allow-control'], /^loupe: --allow-control cannot be used with --store/],
      [['serve', '--machine', 'laptop'], /^loupe: --machine needs --store/],
    ] as const) {
      const r = loupe(...args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('say in one line, without the password, that a store cannot be reached, and exit 1', () => {
    for (const command of ['serve', 'mcp']) {
      const r = loupe(command, '--store', UNREACHABLE, ...(command === 'serve' ? ['--port', '0'] : []));
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^loupe: cannot reach PostgreSQL at 127\.0\.0\.1:1\/loupe: connection refused/);
      expect(r.stderr).not.toContain('secret');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });
});
