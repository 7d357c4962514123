/**
 * Linking terminal runs to agent transcripts (index/links.ts), end to end: real panes on a private
 * tmux server run a script named `claude` (found on a temp PATH), transcripts written at test time
 * with the panes' folders and the current time are imported, and `loupe stats`, `loupe reindex`
 * and the MCP `get_run_summary` tool report the links. Needs `tsc -b` first (`npm test` does it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunSummary, SearchResult } from '../../../shared/ipc.js';
import { eventOf, killTmuxServer, readEntries, waitFor, waitForCaptureDaemons } from '../capture/test-support.js';
import { claudeTranscriptText } from '../transcripts/testTranscripts.js';
import { refreshRuns, runSummaries } from './runs.js';
import { openIndexDb, type IndexDb } from './schema.js';

const BIN = fileURLToPath(new URL('../../../bin/loupe.js', import.meta.url));
const SOCKET = `loupe-test-links-${process.pid}`;
let base: string;
let root: string;
let env: Record<string, string>;
const folders: Record<'direct' | 'nested' | 'elsewhere' | 'codex' | 'attached', string> = { direct: '', nested: '', elsewhere: '', codex: '', attached: '' };

function loupe(args: string[], cwd = root) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env, timeout: 60_000 });
}

function stats(): RunSummary[] {
  const r = loupe(['stats', '--json', '--root', root]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunSummary[];
}

/** A Claude Code transcript of one tool call, in `cwd`, from `start` on (ms), with known usage. */
function writeTranscript(file: string, sessionId: string, cwd: string, start: number): void {
  const usage = { input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300 };
  const calls = [{ at: 1, tool: 'Bash', input: { command: 'npm test' } }];
  fs.writeFileSync(file, claudeTranscriptText({ sessionId, cwd, start, prompt: 'run the tests', calls, usage }));
}

/** A Codex rollout in `cwd` from `start` on (ms): one shell call and a cumulative token count. */
function writeRollout(file: string, sessionId: string, cwd: string, start: number): void {
  const at = (s: number) => new Date(start + s * 1000).toISOString();
  const records = [
    { timestamp: at(0), type: 'session_meta', payload: { id: sessionId, timestamp: at(0), cwd, originator: 'codex_cli_rs', cli_version: '0.55.0' } },
    { timestamp: at(0.5), type: 'turn_context', payload: { cwd, model: 'gpt-5-codex' } },
    { timestamp: at(1), type: 'response_item', payload: { type: 'function_call', name: 'shell', arguments: '{"command":["make"]}', call_id: 'call_1' } },
    {
      timestamp: at(2),
      type: 'event_msg',
      payload: { type: 'token_count', info: { total_token_usage: { input_tokens: 12000, cached_input_tokens: 8000, output_tokens: 300, total_tokens: 12300 } } },
    },
  ];
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** Waits until the capture host saw `claude` in the pane's process tree, and returns that entry's metadata. */
async function agentProcessOf(agentId: string): Promise<Record<string, unknown>> {
  const logs = fs.readdirSync(path.join(root, '.agent-workspace')).map((t) => path.join(root, '.agent-workspace', t, 'logs', `${agentId}_stream.jsonl`));
  return waitFor(
    () => logs.flatMap((f) => readEntries(f)).find((e) => eventOf(e) === 'agent_process')?.metadata as Record<string, unknown> | undefined,
    30_000,
    `the agent_process entry of ${agentId}`,
  );
}

beforeAll(async () => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-links-')));
  root = path.join(base, 'root');
  const bin = path.join(base, 'bin');
  for (const dir of [root, bin]) fs.mkdirSync(dir);
  for (const name of Object.keys(folders) as (keyof typeof folders)[]) fs.mkdirSync((folders[name] = path.join(base, `project-${name}`)));
  for (const agent of ['claude', 'codex']) fs.writeFileSync(path.join(bin, agent), `#!/bin/sh\necho "${agent} is ready in $(pwd)"\nsleep 600\n`, { mode: 0o755 });
  env = { ...(process.env as Record<string, string>), LOUPE_STATE_DIR: path.join(base, 'state'), PATH: `${bin}:${process.env.PATH}` };
  // One pane runs `claude` itself; the other runs it under a shell, found only in its process tree.
  for (const [name, command] of [
    ['direct', ['claude']],
    ['nested', ['sh', '-c', 'claude; echo done']],
    ['codex', ['codex']],
  ] as const) {
    const r = loupe(['run', '--socket', SOCKET, '--root', root, '--name', `pane-${name}`, '--', ...command], folders[name]);
    expect(r.status, r.stderr).toBe(0);
  }
  // A pane Loupe did not start, already running claude, captured from now on by `loupe attach`.
  const paneId = spawnSync('tmux', ['-L', SOCKET, 'new-session', '-d', '-P', '-F', '#{pane_id}', '-c', folders.attached, path.join(bin, 'claude')], { encoding: 'utf8', env }).stdout.trim();
  await waitFor(() => spawnSync('tmux', ['-L', SOCKET, 'capture-pane', '-p', '-t', paneId], { encoding: 'utf8' }).stdout.includes('is ready'), 30_000, 'claude in the pane to attach');
  const attached = loupe(['attach', '--socket', SOCKET, '--root', root, '--name', 'pane-attached', paneId]);
  expect(attached.status, attached.stderr).toBe(0);
  await agentProcessOf('pane-direct');
  await agentProcessOf('pane-attached');
  await agentProcessOf('pane-nested');
  await agentProcessOf('pane-codex');
  const sources = path.join(base, 'sources');
  fs.mkdirSync(sources);
  const now = Date.now();
  writeTranscript(path.join(sources, 'direct.jsonl'), 'session-direct', folders.direct, now);
  writeTranscript(path.join(sources, 'nested.jsonl'), 'session-nested', folders.nested, now);
  // Same time, another folder; same folder, a day before the run: neither is linked.
  writeTranscript(path.join(sources, 'elsewhere.jsonl'), 'session-elsewhere', folders.elsewhere, now);
  writeTranscript(path.join(sources, 'yesterday.jsonl'), 'session-yesterday', folders.direct, now - 86_400_000);
  // The codex pane's rollout is linked to it; a Claude transcript of its folder is not (another agent).
  writeRollout(path.join(sources, 'rollout.jsonl'), 'rollout-codex', folders.codex, now);
  writeTranscript(path.join(sources, 'other-agent.jsonl'), 'session-other-agent', folders.codex, now);
  writeTranscript(path.join(sources, 'attached.jsonl'), 'session-attached', folders.attached, now);
  const imported = loupe(['import', sources, '--root', root]);
  expect(imported.status, imported.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  killTmuxServer(SOCKET);
  await waitForCaptureDaemons(SOCKET);
  fs.rmSync(base, { recursive: true, force: true });
});

describe('linking terminal runs to agent transcripts', () => {
  it('records the claude process the pane runs, with its pid and folder', async () => {
    const found = await agentProcessOf('pane-nested');
    expect(found).toMatchObject({ agent: 'claude', cwd: folders.nested, level: 'debug' });
    expect(found.command).toMatch(/claude$/);
    expect(found.pid).toBeGreaterThan(1);
    // Started entries name the pane's folder: the command's for `loupe run`, the pane's for `loupe attach`.
    const startedOf = (agentId: string) =>
      fs
        .readdirSync(path.join(root, '.agent-workspace'))
        .flatMap((t) => readEntries(path.join(root, '.agent-workspace', t, 'logs', `${agentId}_stream.jsonl`)))
        .find((e) => eventOf(e) === 'started')?.metadata;
    expect(startedOf('pane-direct')).toMatchObject({ cwd: folders.direct });
    expect(startedOf('pane-attached')).toMatchObject({ cwd: folders.attached, attached: true });
  });

  it('links each pane to the transcript of its folder and time, and no other', () => {
    const runs = stats();
    const byAgent = (id: string) => runs.find((r) => r.agentId === id)!;
    const transcripts = runs.filter((r) => r.agentId.startsWith('claude-'));
    expect(transcripts.map((r) => r.agentId).sort()).toEqual([
      'claude-session-attached',
      'claude-session-direct',
      'claude-session-elsewhere',
      'claude-session-nested',
      'claude-session-other-agent',
      'claude-session-yesterday',
    ]);
    for (const name of ['direct', 'nested', 'attached'] as const) {
      const pane = byAgent(`pane-${name}`);
      const transcript = byAgent(`claude-session-${name}`);
      expect(pane.linked).toEqual([{ taskId: transcript.taskId, agentId: transcript.agentId, run: 1 }]);
      expect(transcript.linked).toEqual([{ taskId: pane.taskId, agentId: pane.agentId, run: 1 }]);
      // The terminal run reports the transcript's tokens and cost.
      expect(pane.tokens).toEqual({ input: 100, output: 50, cacheRead: 2000, cacheWrite: 300 });
      expect(pane.tokens).toEqual(transcript.tokens);
      expect(pane.costUsd).toBeGreaterThan(0);
      expect(pane.costUsd).toBe(transcript.costUsd);
    }
    expect(byAgent('claude-session-elsewhere').linked).toEqual([]);
    expect(byAgent('claude-session-yesterday').linked).toEqual([]);
    expect(byAgent('claude-session-other-agent').linked).toEqual([]);
  });

  it('links a codex pane to the Codex rollout of its folder, with the rollout\'s tokens', () => {
    const runs = stats();
    const pane = runs.find((r) => r.agentId === 'pane-codex')!;
    const rollout = runs.find((r) => r.agentId === 'codex-rollout-codex')!;
    expect(pane.linked).toEqual([{ taskId: rollout.taskId, agentId: rollout.agentId, run: 1 }]);
    expect(rollout.linked.map((l) => l.agentId)).toEqual(['pane-codex']);
    // Codex's input_tokens include the cached ones, which are priced once, as cacheRead.
    expect(pane.tokens).toEqual({ input: 4000, output: 300, cacheRead: 8000, cacheWrite: 0 });
    expect(pane.costUsd).toBe(rollout.costUsd);
  });

  it('shows the link and the linked tokens in the stats table', () => {
    const table = loupe(['stats', 'pane-direct', '--root', root]).stdout.split('\n');
    expect(table[0]).toMatch(/ TOKENS +COST +LINKED$/);
    expect(table[1]).toMatch(/ 2450 +\$\d+\.\d{2,4} +claude-session-direct$/);
  });

  it('rebuilds the links with loupe reindex', () => {
    const before = stats();
    const r = loupe(['reindex', '--root', root]);
    expect(r.status, r.stderr).toBe(0);
    expect(stats()).toEqual(before);
  });

  it('searches terminal runs or agent transcripts with loupe search --source', async () => {
    const search = (...args: string[]) => {
      const r = loupe(['search', ...args, '--root', root, '--json', '--limit', '1000']);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as SearchResult;
    };
    // What the fake claude printed becomes searchable once its line stood still (SPEC §12), and
    // so do the transcripts' last lines: they were written with the current time.
    await waitFor(() => search('is ready in').total >= 3 && search('run the tests').total === 6, 30_000, 'the panes\' and transcripts\' lines to settle');
    const agents = (r: SearchResult) => [...new Set(r.hits.map((h) => h.agentId))].sort();
    expect(agents(search('is ready in', '--source', 'terminal'))).toEqual(['pane-codex', 'pane-direct', 'pane-nested']);
    expect(search('is ready in', '--source', 'transcript').total).toBe(0);
    expect(search('run the tests', '--source', 'terminal').total).toBe(0);
    expect(search('run the tests', '--source', 'transcript').total).toBe(6);
    // Every entry is in exactly one of the two sources. The panes are live, so lines may still
    // settle between the three searches: they are taken again until the index stood still.
    let terminal = search('', '--source', 'terminal');
    let transcript = search('', '--source', 'transcript');
    await waitFor(
      () => {
        const all = search('');
        terminal = search('', '--source', 'terminal');
        transcript = search('', '--source', 'transcript');
        return terminal.total + transcript.total === all.total && search('').total === all.total;
      },
      30_000,
      'terminal and transcript hits to add up to all hits',
    );
    expect(agents(terminal)).toEqual(['pane-attached', 'pane-codex', 'pane-direct', 'pane-nested']);
    expect(agents(transcript).every((a) => a.startsWith('claude-session-') || a === 'codex-rollout-codex')).toBe(true);
    const bad = loupe(['search', 'x', '--source', 'screen', '--root', root]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('loupe: unknown source "screen": use one of terminal, transcript\n');
  });

  it('reports the same link and tokens through the MCP get_run_summary tool', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--root', root, '--socket', SOCKET], env, cwd: root, stderr: 'pipe' });
    const client = new Client({ name: 'loupe-links-test', version: '0' });
    await client.connect(transport);
    try {
      const result = (await client.callTool({ name: 'get_run_summary', arguments: { agent_id: 'pane-direct' } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      const { runs } = result.structuredContent as { runs: RunSummary[] };
      const fromStats = stats().find((s) => s.agentId === 'pane-direct')!;
      expect(runs).toHaveLength(1);
      expect(runs[0].linked.map((l) => l.agentId)).toEqual(['claude-session-direct']);
      expect({ linked: runs[0].linked, tokens: runs[0].tokens, costUsd: runs[0].costUsd }).toEqual({
        linked: fromStats.linked,
        tokens: fromStats.tokens,
        costUsd: fromStats.costUsd,
      });
      const searched = (await client.callTool({ name: 'search_logs', arguments: { text: 'run the tests', source: 'transcript' } })) as CallToolResult;
      expect((searched.structuredContent as { total: number }).total).toBe(6);
      const terminal = (await client.callTool({ name: 'search_logs', arguments: { text: 'run the tests', source: 'terminal' } })) as CallToolResult;
      expect((terminal.structuredContent as { total: number }).total).toBe(0);
    } finally {
      await client.close();
    }
  });
});

/**
 * Which run a transcript goes to when several could: system events written straight into a real
 * index (as the indexer stores them), then the same refresh the indexer runs.
 */
describe('choosing the terminal run of a transcript', () => {
  const S = 1_000_000;
  const T0 = 1_800_000_000 * S;
  let dir: string;
  let db: IndexDb;
  let nextId = 1;
  const agents: number[] = [];

  function agent(name: string, events: [number, string, Record<string, unknown>][], lastTs?: number): number {
    const id = Number(db.prepare("INSERT INTO agents (task, agent_id) VALUES (1, ?)").run(name).lastInsertRowid);
    events.forEach(([ts, event, meta], i) => db.prepare('INSERT INTO events (agent, seq, ts, event, gap, metadata) VALUES (?, ?, ?, ?, NULL, ?)').run(id, i + 1, ts, event, JSON.stringify({ event, ...meta })));
    const last = lastTs ?? events.at(-1)![0];
    db.prepare('INSERT INTO entries (id, agent, seq, ts, type, level, file, offset, length) VALUES (?, ?, ?, ?, 0, 0, 0, 0, 1)').run(nextId++, id, events.length + 1, last);
    agents.push(id);
    return id;
  }
  const pane = (name: string, start: number, end: number | null, seen: number[]) =>
    agent(name, [
      [start, 'started', { command: 'bash', cwd: '/src/app' }],
      ...seen.map((t, i): [number, string, Record<string, unknown>] => [t, 'agent_process', { agent: 'claude', pid: 100 + i, cwd: '/src/app' }]),
      ...(end === null ? [] : [[end, 'terminated', { exit_status: 0 }] as [number, string, Record<string, unknown>]]),
    ]);
  const transcript = (name: string, start: number, end: number) => agent(name, [[start, 'started', { imported: 'claude', command: 'claude', cwd: '/src/app' }]], end);
  const linkedOf = (name: string) => runSummaries(db, { agentId: name })[0].linked.map((l) => l.agentId);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-links-choice-'));
    db = openIndexDb(path.join(dir, 'index.sqlite'));
    db.prepare("INSERT INTO roots (id, path) VALUES (1, ?)").run(dir);
    db.prepare("INSERT INTO tasks (id, root, task_id) VALUES (1, 1, 'TASK-20260101-000000-00000000')").run();
    agents.length = 0;
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives each of two panes in one folder the session its agent started', () => {
    pane('left', T0, null, [T0 + 1 * S]);
    pane('right', T0 + 60 * S, null, [T0 + 61 * S]);
    transcript('claude-a', T0 + 3 * S, T0 + 300 * S);
    transcript('claude-b', T0 + 63 * S, T0 + 300 * S);
    db.transaction(() => agents.forEach((a) => refreshRuns(db, a)))();
    expect([linkedOf('left'), linkedOf('right')]).toEqual([['claude-a'], ['claude-b']]);
  });

  it('links the same way whichever side is indexed first', () => {
    pane('left', T0, null, [T0 + 1 * S]);
    pane('right', T0 + 60 * S, null, [T0 + 61 * S]);
    transcript('claude-a', T0 + 3 * S, T0 + 300 * S);
    transcript('claude-b', T0 + 63 * S, T0 + 300 * S);
    db.transaction(() => [...agents].reverse().forEach((a) => refreshRuns(db, a)))();
    expect([linkedOf('left'), linkedOf('right')]).toEqual([['claude-a'], ['claude-b']]);
  });

  it('links no transcript that began after the pane ended, nor one that ended before its agent appeared', () => {
    pane('ended', T0, T0 + 30 * S, [T0 + 1 * S]);
    pane('late', T0 + 100 * S, null, [T0 + 200 * S]);
    transcript('claude-after', T0 + 60 * S, T0 + 90 * S);
    transcript('claude-before-agent', T0 + 110 * S, T0 + 150 * S);
    db.transaction(() => agents.forEach((a) => refreshRuns(db, a)))();
    expect([linkedOf('ended'), linkedOf('late'), linkedOf('claude-after'), linkedOf('claude-before-agent')]).toEqual([[], [], [], []]);
  });

  it('moves a link when the pane it pointed to no longer overlaps (its run ended)', () => {
    const left = pane('left', T0, null, [T0 + 1 * S]);
    transcript('claude-a', T0 + 100 * S, T0 + 200 * S);
    db.transaction(() => agents.forEach((a) => refreshRuns(db, a)))();
    expect(linkedOf('left')).toEqual(['claude-a']);
    // The pane's run turns out to have ended before the session began.
    db.prepare('INSERT INTO events (agent, seq, ts, event, gap, metadata) VALUES (?, 10, ?, ?, NULL, ?)').run(left, T0 + 50 * S, 'terminated', JSON.stringify({ event: 'terminated', exit_status: 0 }));
    db.transaction(() => refreshRuns(db, left))();
    expect(linkedOf('claude-a')).toEqual([]);
  });
});
