/**
 * `loupe mcp` end to end: the MCP SDK's own client spawns the built CLI over stdio against
 * agents that a real `loupe run` captures on a private tmux socket, and every tool's result is
 * compared with what the CLI (`loupe ls`, `tail`, `search`, `stats`, `wait`) says about the same
 * logs. Needs `tsc -b` first (`npm test` does it).
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
import type { LogEntry } from '../../shared/entry.js';
import type { Attention, RunSummary, SearchResult, WorkspaceTask } from '../../shared/ipc.js';
import { killTmuxServer, waitFor, waitForCaptureDaemons } from '../core/capture/test-support.js';
import { MAX_REPLY_CHARS } from './tools.js';

const BIN = fileURLToPath(new URL('../../bin/loupe.js', import.meta.url));
const SOCKET = `loupe-test-mcp-${process.pid}`;
const FLOOD_LINES = 3000;
let root: string;
let env: Record<string, string>;
let client: Client;
let transport: StdioClientTransport;
let serverLog = '';

function loupe(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root, env, timeout: 60_000 });
}

/** `loupe ARGS… --root ROOT`'s stdout, which must succeed. */
function cli(...args: string[]): string {
  const r = loupe(...args, '--root', root);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function run(name: string, script: string): void {
  const r = loupe('run', '--socket', SOCKET, '--root', root, '--name', name, '--', 'sh', '-c', script);
  expect(r.status, r.stderr).toBe(0);
}

function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
}

/** A successful tool result's structured content, checked to be the same as its text content. */
async function structured<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await call(name, args);
  const text = (result.content[0] as { text: string }).text;
  expect(result.isError, text).toBeFalsy();
  expect(JSON.parse(text)).toEqual(result.structuredContent);
  return result.structuredContent as T;
}

/** A tool error's message. */
async function toolError(name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(name, args);
  expect(result.isError).toBe(true);
  return (result.content[0] as { text: string }).text;
}

beforeAll(async () => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-mcp-')));
  env = { ...(process.env as Record<string, string>), LOUPE_STATE_DIR: path.join(root, '.state') };
  run('worker', `echo "worker ready"; i=1; while [ $i -le 30 ]; do echo "step $i"; i=$((i+1)); done; echo "Error: boom in step $((30+1))"; while [ ! -f ${root}/go ]; do sleep 0.1; done; echo "late line after go"; sleep 120`);
  run('quitter', 'echo "quitting now"; exit 3');
  run('flood', `i=1; while [ $i -le ${FLOOD_LINES} ]; do printf "flood line %05d %s\\n" $i "................................................................"; i=$((i+1)); done; echo "flood ends at $i"; sleep 120`);
  // Each agent's command line (in its `started` entry) spells its last words differently from
  // how they print ($((30+1)), $i), so finding them finds the output.
  await waitFor(() => loupe('tail', '--root', root, 'flood').stdout.includes(`flood ends at ${FLOOD_LINES + 1}`), 30_000, 'the flood to finish');
  await waitFor(() => loupe('tail', '--root', root, 'worker').stdout.includes('boom in step 31'), 30_000, 'the worker to print its error');
  await waitFor(() => loupe('tail', '--root', root, 'quitter').stdout.includes('terminated'), 30_000, 'the quitter to end');
  // The last lines on a live screen become final (searchable, counted) once they stood still
  // for a few seconds (SPEC §12): from then on, every reader of the index sees the same lines.
  for (const line of ['boom in step 31', `flood ends at ${FLOOD_LINES + 1}`]) {
    await waitFor(() => {
      const r = loupe('search', line, '--root', root, '--json');
      return r.status === 0 && (JSON.parse(r.stdout) as SearchResult).total === 1;
    }, 30_000, `"${line}" to settle`);
  }

  transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--root', root, '--socket', SOCKET], env, cwd: root, stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
  client = new Client({ name: 'loupe-test', version: '0' });
  await client.connect(transport);
}, 120_000);

afterAll(async () => {
  await client?.close();
  killTmuxServer(SOCKET);
  await waitForCaptureDaemons(SOCKET);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('loupe mcp', () => {
  it('offers the six read-only tools, each with an input schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['get_agent_output', 'get_run_summary', 'list_agents', 'search_logs', 'stream_agent_output', 'wait_for_agent']);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.annotations?.readOnlyHint).toBe(true);
    }
    expect(tools.find((t) => t.name === 'get_agent_output')?.inputSchema.required).toEqual(['agent_id']);
  });

  it('list_agents lists the tasks and agents that loupe ls --json lists, with state, entries, activity and exit status', async () => {
    const listed = await structured<{ roots: { root: string; tasks: WorkspaceTask[] }[] }>('list_agents');
    const ls = JSON.parse(cli('ls', '--json', '--socket', SOCKET)) as {
      roots: { root: string; tasks: { taskId: string; agents: { agentId: string; entries: number; lastActivity: string; exitStatus: number | null; attention: Attention }[] }[] }[];
    };
    expect(listed.roots.map((r) => r.root)).toEqual([root]);
    const agents = listed.roots[0].tasks.flatMap((t) => t.agents);
    const lsAgents = ls.roots.find((r) => r.root === root)!.tasks.flatMap((t) => t.agents);
    expect(agents.map((a) => a.agentId).sort()).toEqual(['flood', 'quitter', 'worker']);
    for (const agent of agents) {
      const same = lsAgents.find((a) => a.agentId === agent.agentId)!;
      expect({ entries: agent.entries, lastActivity: agent.lastActivity, exitStatus: agent.exitStatus }).toEqual({
        entries: same.entries,
        lastActivity: same.lastActivity,
        exitStatus: same.exitStatus,
      });
    }
    const quitter = agents.find((a) => a.agentId === 'quitter')!;
    expect(quitter).toMatchObject({ state: 'error', exitStatus: 3, attention: { state: 'ended' } });
    expect(agents.find((a) => a.agentId === 'worker')).toMatchObject({ state: 'live', exitStatus: null });
  });

  it('get_agent_output prints what loupe tail prints, in text, jsonl and json, filtered by regex, type and level', async () => {
    const text = await structured<{ output: string; entry_count: number; task_id: string; log_file: string; format: string }>('get_agent_output', { agent_id: 'worker', tail: 5 });
    expect(text.output).toBe(cli('tail', '-n', '5', 'worker'));
    expect(text.output).toContain('[error] Error: boom in step 31');
    expect(text).toMatchObject({ success: true, agent_id: 'worker', entry_count: 5, format: 'text', truncated: false });
    expect(text.log_file).toBe(path.join(root, '.agent-workspace', text.task_id, 'logs', 'worker_stream.jsonl'));

    const jsonl = await structured<{ output: string; entry_count: number }>('get_agent_output', { agent_id: 'worker', task_id: text.task_id, tail: 3, filter: 'STEP [12]0', ignore_case: true, type_filter: 'stdout', format: 'jsonl' });
    expect(jsonl.output).toBe(cli('tail', '-n', '3', '--grep', 'STEP [12]0', '-i', '--type', 'stdout', '--format', 'jsonl', 'worker'));
    // Fewer matches than asked for: the tail read back to the start.
    expect(jsonl.output.trimEnd().split('\n').map((l) => (JSON.parse(l) as LogEntry).content)).toEqual(['step 10\r', 'step 20\r']);
    expect(jsonl.entry_count).toBe(2);

    const json = await structured<{ output: string; entry_count: number }>('get_agent_output', { agent_id: 'worker', tail: 4, level: 'error', format: 'json' });
    expect(JSON.parse(json.output)).toEqual(JSON.parse(cli('tail', '-n', '4', '--level', 'error', '--format', 'json', 'worker')));
    expect(json.entry_count).toBe(1);
  });

  it('search_logs returns the total, hits and distributions that loupe search --json returns', async () => {
    // An absolute --since: a relative one ("1h") moves with the clock, and so does the histogram's first bucket,
    // so two calls half a minute apart would differ (it failed once in CI that way).
    const since = new Date(Date.now() - 3600_000).toISOString();
    for (const query of [
      { args: { text: 'boom' }, cli: ['boom'] },
      { args: { text: 'step \\d+$', regex: true, types: ['stdout'], agent: 'worker', limit: 7, offset: 2, sort: 'asc' }, cli: ['step \\d+$', '--regex', '--type', 'stdout', '--agent', 'worker', '--limit', '7', '--offset', '2', '--asc'] },
      { args: { text: '', level: 'error', since }, cli: ['', '--level', 'error', '--since', since] },
    ]) {
      const found = await structured<SearchResult & { next_offset: number | null }>('search_logs', query.args);
      const expected = JSON.parse(cli('search', ...query.cli, '--json')) as SearchResult;
      expect(found.total).toBeGreaterThan(0);
      expect({ total: found.total, hits: found.hits, byType: found.byType, byLevel: found.byLevel, histogram: found.histogram }).toEqual(expected);
    }
    const paged = await structured<{ total: number; next_offset: number | null }>('search_logs', { text: 'step', types: ['stdout'], agent: 'worker', limit: 10 });
    expect(paged.total).toBe(30);
    expect(paged.next_offset).toBe(10);
  });

  it('get_run_summary gives the runs loupe stats --json gives', async () => {
    for (const agent of ['worker', 'quitter']) {
      const summary = await structured<{ runs: RunSummary[] }>('get_run_summary', { agent_id: agent });
      expect(summary.runs).toEqual(JSON.parse(cli('stats', agent, '--json')));
    }
    const quitter = await structured<{ runs: RunSummary[] }>('get_run_summary', { agent_id: 'quitter' });
    expect(quitter.runs).toMatchObject([{ agentId: 'quitter', status: 'error', exitStatus: 3 }]);
  });

  it('stream_agent_output pages through the log, then waits for an entry printed after the call started', async () => {
    const first = await structured<{ entries: LogEntry[]; next_since_sequence: number; at_end: boolean }>('stream_agent_output', { agent_id: 'worker', since_sequence: 0, max_entries: 10 });
    expect(first.entries.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first).toMatchObject({ next_since_sequence: 10, at_end: false });
    const rest = await structured<{ entries: LogEntry[]; next_since_sequence: number; at_end: boolean }>('stream_agent_output', { agent_id: 'worker', since_sequence: 10, max_entries: 1000 });
    expect(rest.entries[0].sequence).toBe(11);
    expect(rest.at_end).toBe(true);
    expect(rest.entries.at(-1)!.content).toContain('boom in step 31');

    // Nothing new: without wait_ms the answer is at once, and empty.
    const none = await structured<{ entries: LogEntry[]; next_since_sequence: number }>('stream_agent_output', { agent_id: 'worker', since_sequence: rest.next_since_sequence });
    expect(none).toMatchObject({ entries: [], next_since_sequence: rest.next_since_sequence });

    const waiting = structured<{ entries: LogEntry[]; next_since_sequence: number }>('stream_agent_output', { agent_id: 'worker', since_sequence: rest.next_since_sequence, wait_ms: 60_000 });
    // The server holds the log open while it waits on its live subscription; only then does the agent print.
    const { log_file } = await structured<{ log_file: string }>('get_agent_output', { agent_id: 'worker', tail: 0 });
    await waitFor(() => holdsOpen(transport.pid!, log_file), 20_000, 'the server to subscribe to the log');
    fs.writeFileSync(path.join(root, 'go'), '');
    const late = await waiting;
    expect(late.entries.length).toBeGreaterThan(0);
    expect(late.entries[0].sequence).toBe(rest.next_since_sequence + 1);
    expect(late.entries.map((e) => e.content).join('')).toContain('late line after go');
    expect(late.next_since_sequence).toBe(late.entries.at(-1)!.sequence);
  });

  it('wait_for_agent returns the attention loupe wait prints once the agent reaches the state, and says when it timed out', async () => {
    const ended = await structured<{ reached: boolean; state: string; attention: Attention }>('wait_for_agent', { agent_id: 'quitter', state: 'ended', timeout_ms: 30_000 });
    expect(ended).toMatchObject({ reached: true, state: 'ended' });
    expect(ended.attention).toEqual(JSON.parse(cli('wait', 'quitter', '--for', 'ended', '--timeout', '30', '--json', '--socket', SOCKET)));

    const notYet = await structured<{ reached: boolean; state: string }>('wait_for_agent', { agent_id: 'worker', state: 'ended', timeout_ms: 1000 });
    expect(notYet.reached).toBe(false);
    expect(notYet.state).not.toBe('ended');
  });

  it('caps a large output with a note saying how to page, keeping the newest lines', async () => {
    const big = await structured<{ output: string; entry_count: number; truncated: boolean; note: string }>('get_agent_output', { agent_id: 'flood', tail: FLOOD_LINES + 10 });
    expect(big.truncated).toBe(true);
    expect(big.output.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
    expect(big.entry_count).toBeLessThan(FLOOD_LINES);
    expect(big.note).toMatch(/smaller tail.*stream_agent_output/);
    const cliLines = cli('tail', '-n', String(big.entry_count), 'flood');
    expect(big.output).toBe(cliLines);
    expect(big.output).toContain(`flood ends at ${FLOOD_LINES + 1}`);

    const page = await structured<{ entries: LogEntry[]; next_since_sequence: number; at_end: boolean; note: string }>('stream_agent_output', { agent_id: 'flood', since_sequence: 0, max_entries: 10_000 });
    expect(page.at_end).toBe(false);
    expect(page.note).toContain(`since_sequence ${page.next_since_sequence}`);
    expect(JSON.stringify(page.entries).length).toBeLessThanOrEqual(MAX_REPLY_CHARS + 1000);
    const next = await structured<{ entries: LogEntry[] }>('stream_agent_output', { agent_id: 'flood', since_sequence: page.next_since_sequence, max_entries: 10 });
    expect(next.entries[0].sequence).toBe(page.next_since_sequence + 1);
  });

  it('answers unknown agents and tasks, bad regexes, bad times and bad arguments with tool errors, and keeps serving', async () => {
    expect(await toolError('get_agent_output', { agent_id: 'nobody' })).toMatch(/no agent "nobody" in .*; call list_agents/);
    expect(await toolError('stream_agent_output', { agent_id: 'worker', task_id: 'TASK-20200101-000000-00000000', since_sequence: 0 })).toMatch(/no agent "worker" in task TASK-20200101-000000-00000000/);
    expect(await toolError('get_run_summary', { agent_id: 'nobody' })).toMatch(/no agent "nobody"/);
    expect(await toolError('list_agents', { task_id: 'TASK-20200101-000000-00000000' })).toMatch(/no task TASK-20200101-000000-00000000/);
    expect(await toolError('get_agent_output', { agent_id: 'worker', filter: '(unclosed' })).toMatch(/invalid regex "\(unclosed"/);
    expect(await toolError('search_logs', { text: 'a(b', regex: true })).toMatch(/invalid regex/);
    expect(await toolError('search_logs', { text: 'boom', since: 'last tuesday' })).toMatch(/invalid time "last tuesday": use an ISO 8601 time/);
    expect(await toolError('get_agent_output', { agent_id: '../etc' })).toMatch(/not an agent id.* at agent_id/);
    expect(await toolError('wait_for_agent', { agent_id: 'worker', state: 'asleep', timeout_ms: 10 })).toMatch(/state/);
    expect(await toolError('no_such_tool', {})).toMatch(/no_such_tool not found/);
    // Still serving.
    expect((await structured<{ output: string }>('get_agent_output', { agent_id: 'quitter' })).output).toContain('quitting now');
    expect(serverLog).not.toMatch(/internal error|TypeError|at .*\.js:\d+/);
  });

  it('exits when the client closes stdin, even during a long wait, and writes only protocol messages to stdout', () => {
    const messages = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'sh', version: '0' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'stream_agent_output', arguments: { agent_id: 'worker', since_sequence: 1_000_000, wait_ms: 600_000 } } },
    ];
    const r = spawnSync(process.execPath, [BIN, 'mcp', '--root', root, '--socket', SOCKET], {
      input: messages.map((m) => JSON.stringify(m) + '\n').join(''),
      encoding: 'utf8',
      env,
      timeout: 30_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    expect(JSON.parse(lines[0])).toMatchObject({ id: 1, result: { serverInfo: { name: 'loupe' } } });
  });

  it('refuses a --root that is a file or missing, and a bad --socket, with one line and status 2', () => {
    const file = path.join(root, 'not-a-folder');
    fs.writeFileSync(file, '');
    for (const [args, message] of [
      [['--root', file], /^loupe: --root .*not-a-folder is a file, not a folder/],
      [['--root', path.join(root, 'missing')], /^loupe: --root .*missing does not exist/],
      [['--socket', 'a b'], /^loupe: invalid tmux socket name "a b"/],
    ] as const) {
      const r = spawnSync(process.execPath, [BIN, 'mcp', ...args], { encoding: 'utf8', env, input: '', timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});

/** Whether process `pid` has `file` open. */
function holdsOpen(pid: number, file: string): boolean {
  const fdDir = `/proc/${pid}/fd`;
  return fs.readdirSync(fdDir).some((fd) => {
    try {
      return fs.readlinkSync(path.join(fdDir, fd)) === file;
    } catch {
      return false;
    }
  });
}
