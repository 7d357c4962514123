import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entryTerminalText, parseEntryLine, parseTimestamp, type LogEntry } from '../../../shared/entry.js';
import { createClassifier } from '../capture/classify.js';
import { rebuildIndex } from '../index/indexer.js';
import { runSummaries } from '../index/runs.js';
import { listAgentLogs } from '../log/paths.js';
import { createReplayTerminal } from '../replay/terminal.js';
import { importFile, ImportError } from './importer.js';
import { costOf, PRICES } from './prices.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const classifier = createClassifier();

let root: string;
let src: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-import-'));
  src = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-import-src-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(src, { recursive: true, force: true });
});

/** Copies a fixture into the source folder (so tests can grow, corrupt or delete it). */
function source(name: string, text?: string): string {
  const file = path.join(src, name);
  fs.writeFileSync(file, text ?? fs.readFileSync(path.join(FIXTURES, name)));
  return file;
}

function rawLogEntries(): LogEntry[] {
  const [log] = listAgentLogs(root);
  return fs
    .readFileSync(log.file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const p = parseEntryLine(l);
      if (!p.ok) throw new Error(l);
      return p.entry;
    });
}

/** The log's entries; a transcript's (not a recording's) lines without their closing `\r`, which its own test checks. */
function logEntries(): LogEntry[] {
  const entries = rawLogEntries();
  if (entries[0]?.metadata?.imported === 'asciicast') return entries;
  return entries.map((e) => (e.content.endsWith('\r') ? { ...e, content: e.content.slice(0, -1) } : e));
}

/** The screen a run's byte stream draws in a terminal 100 columns wide, row by row. */
async function drawnRows(entries: LogEntry[]): Promise<string[]> {
  const { term, dispose } = createReplayTerminal(100, 50, 1000);
  await new Promise<void>((resolve) => term.write(entries.map(entryTerminalText).join(''), resolve));
  const buffer = term.buffer.active;
  const rows = Array.from({ length: buffer.length }, (_, y) => buffer.getLine(y)?.translateToString(true) ?? '');
  dispose();
  return rows.filter((r) => r !== '');
}

function summaries() {
  const { indexer } = rebuildIndex(root);
  try {
    return runSummaries(indexer.db);
  } finally {
    indexer.dispose();
  }
}

describe('Claude Code transcripts', () => {
  it('maps text, thinking, tool calls, failed results, compaction and unknown records to entries', () => {
    const result = importFile(root, source('claude-session.jsonl'), classifier);
    expect(result).toMatchObject({ agentId: 'claude-7f3c2a10-5b1e-4c8e-9d2a-0a1b2c3d4e5f', format: 'claude', status: 'new' });
    const entries = logEntries();
    expect(entries[0]).toMatchObject({ type: 'system', sequence: 1, metadata: { event: 'started', imported: 'claude', cwd: '/home/dev/proj' } });
    expect(entries.map((e) => e.sequence)).toEqual(entries.map((_, i) => i + 1));
    const user = entries.filter((e) => e.metadata?.role === 'user' && e.type === 'stdout');
    expect(user.map((e) => e.content)).toEqual(['Run the tests and fix what fails']); // the caveat is not user text
    expect(entries.find((e) => e.content.startsWith('Caveat:'))).toMatchObject({ type: 'system', metadata: { event: 'injected' } });
    expect(entries.filter((e) => e.metadata?.role === 'assistant' && e.type === 'stdout').map((e) => e.content)).toEqual([
      "I'll run the test suite.",
      'One moment.',
      'Fixed the off-by-one in the parser.',
    ]);
    const call = entries.find((e) => e.type === 'control');
    expect(call).toMatchObject({ metadata: { tool_call: 'Bash', tool_use_id: 'toolu_01X', arguments: { command: 'npm test' }, uuid: 'a3', parent_uuid: 'a2' } });
    const result1 = entries.filter((e) => e.metadata?.tool_use_id === 'toolu_01X' && e.type !== 'control');
    expect(result1.map((e) => [e.type, e.content, e.metadata?.level, e.metadata?.tool_result])).toEqual([
      ['stderr', 'FAIL src/parser.test.ts', 'error', 'Bash'],
      ['stderr', 'Error: expected 2, got 3', 'error', 'Bash'],
    ]);
    expect(entries.find((e) => e.metadata?.event === 'thinking')?.content).toBe('The user wants tests run.');
    expect(entries.find((e) => e.metadata?.event === 'compaction')?.content).toBe('Conversation compacted');
    expect(entries.find((e) => e.metadata?.record_type === 'file-history-snapshot')?.metadata?.record).toMatchObject({ messageId: 'u2' });
    expect(call?.timestamp).toBe('2025-11-02T10:00:03.000000+00:00');
  });

  it('counts a message split over several lines once, at its largest usage', () => {
    importFile(root, source('claude-session.jsonl'), classifier);
    const [run] = summaries();
    // msg_01A: 10 in, 120 out, 5000 read, 1000 written; msg_01B: 20 in, 40 out, 6000 read.
    expect(run.tokens).toEqual({ input: 30, output: 160, cacheRead: 11000, cacheWrite: 1000 });
    const p = PRICES['claude-sonnet-4-5'];
    expect(run.costUsd).toBeCloseTo((30 * p.input + 160 * p.output + 11000 * p.cacheRead + 1000 * p.cacheWrite) / 1e6, 12);
    expect(run.status).toBe('ended');
  });
});

describe('transcript lines in a terminal', () => {
  it('end as a pty line does, so the live pane and replay draw each at the first column, not as a staircase', async () => {
    importFile(root, source('claude-session.jsonl'), classifier);
    const entries = rawLogEntries();
    const lines = entries.filter((e) => (e.type === 'stdout' || e.type === 'stderr' || e.type === 'control') && e.metadata?.partial !== true);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((e) => e.content.endsWith('\r'))).toBe(true);
    const rows = await drawnRows(entries);
    expect(rows).toContain("I'll run the test suite.");
    expect(rows).toContain('Fixed the off-by-one in the parser.');
    expect(rows.every((r) => !r.startsWith(' '))).toBe(true);
  });

  it('keep an asciicast recording byte for byte: no carriage return is added', () => {
    fs.writeFileSync(path.join(src, 'plain.cast'), `${JSON.stringify({ version: 2, width: 80, height: 24, timestamp: 1764650000 })}\n${JSON.stringify([0.1, 'o', 'a\nb\n'])}\n`);
    importFile(root, path.join(src, 'plain.cast'), classifier);
    expect(rawLogEntries().filter((e) => e.type === 'stdout').map((e) => e.content)).toEqual(['a', 'b']);
  });
});

describe('Claude stream-json logs', () => {
  /** A stream-json log written at `mtime` (its lines carry no times). */
  function streamSource(text?: string, mtime = new Date('2025-11-02T10:00:30Z')): string {
    const file = source('claude-stream.jsonl', text);
    fs.utimesSync(file, mtime, mtime);
    return file;
  }

  it('maps the init, text, tool calls, a failed result, compaction and unknown kinds; skips partial deltas', () => {
    const result = importFile(root, streamSource(), classifier);
    expect(result).toMatchObject({ agentId: 'claude-stream-4b9d2e61-8c3a-4f57-b1e0-6a2f9c8d7e15', format: 'claude-stream', status: 'new' });
    const entries = logEntries();
    expect(entries[0].metadata).toMatchObject({ event: 'started', imported: 'claude-stream', command: 'claude -p', cwd: '/home/dev/proj' });
    expect(entries.find((e) => e.metadata?.event === 'init')?.content).toBe('[claude] session started: model claude-sonnet-4-5-20250929, 4 tools, permission mode acceptEdits');
    expect(entries.filter((e) => e.type === 'stdout' && e.metadata?.role !== undefined).map((e) => [e.metadata?.role, e.content])).toEqual([
      ['user', 'Run the tests and fix what fails'],
      ['assistant', "I'll run the test suite."],
      ['assistant', 'Fixed the off-by-one in the parser.'],
    ]);
    expect(entries.find((e) => e.type === 'control')?.metadata).toMatchObject({ tool_call: 'Bash', tool_use_id: 'toolu_01S', arguments: { command: 'npm test' } });
    const failed = entries.filter((e) => e.metadata?.tool_use_id === 'toolu_01S' && e.type !== 'control');
    expect(failed.map((e) => [e.type, e.content, e.metadata?.level, e.metadata?.tool_result])).toEqual([
      ['stderr', 'FAIL src/parser.test.ts', 'error', 'Bash'],
      ['stderr', 'Error: expected 2, got 3', 'error', 'Bash'],
    ]);
    expect(entries.find((e) => e.metadata?.event === 'compaction')?.content).toBe('Conversation compacted');
    expect(entries.find((e) => e.metadata?.record_type === 'tool_progress')).toBeDefined();
    expect(entries.some((e) => e.content.includes("I'll") && e.metadata?.record_type === 'stream_event')).toBe(false);
    expect(entries.filter((e) => e.content.includes("I'll run"))).toHaveLength(1);
    expect(entries.find((e) => e.metadata?.event === 'result')).toMatchObject({
      type: 'system',
      content: '[claude] result: success, 3 turns, 12.5 s, $0.0421',
      metadata: { level: 'info', num_turns: 3, duration_ms: 12500, total_cost_usd: 0.0421 },
    });
  });

  it('ends the session at the file time, lasting the result duration, with the records spread evenly', () => {
    importFile(root, streamSource(), classifier);
    const entries = logEntries();
    expect(entries[0].timestamp).toBe('2025-11-02T10:00:17.500000+00:00'); // 10:00:30 − 12.5 s
    expect(entries.at(-1)?.timestamp).toBe('2025-11-02T10:00:30.000000+00:00');
    const times = entries.map((e) => parseTimestamp(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // 10 records over 12.5 s: the second record (the user's text) is 12.5 / 9 s after the first.
    expect(parseTimestamp(entries.find((e) => e.metadata?.role === 'user')!.timestamp) - times[0]).toBe(Math.round(12_500_000 / 9));
  });

  it("takes tokens and cost from the result alone, each model's cost as the result states it", () => {
    importFile(root, streamSource(), classifier);
    const [run] = summaries();
    expect(run.tokens).toEqual({ input: 310, output: 180, cacheRead: 25000, cacheWrite: 900 });
    expect(run.costUsd).toBeCloseTo(0.0421, 12);
  });

  it('adds what the running totals grew by when a process answers several turns', () => {
    const lines = fs.readFileSync(path.join(FIXTURES, 'claude-stream.jsonl'), 'utf8').trim().split('\n');
    const [init, user] = [lines[0], lines[1]];
    const result = (cost: number, output: number) =>
      JSON.stringify({ type: 'result', subtype: 'success', is_error: false, duration_ms: 1000, num_turns: 1, session_id: 's', total_cost_usd: cost, usage: { input_tokens: 5, output_tokens: output } });
    importFile(root, streamSource([init, user, result(0.01, 100), user, result(0.025, 250), ''].join('\n')), classifier);
    const [run] = summaries();
    expect(run.tokens).toEqual({ input: 5, output: 250, cacheRead: 0, cacheWrite: 0 });
    expect(run.costUsd).toBeCloseTo(0.025, 12);
  });

  it('prices the tokens from the table when the result states no cost, and reports an error result', () => {
    const lines = fs.readFileSync(path.join(FIXTURES, 'claude-stream.jsonl'), 'utf8').trim().split('\n');
    const failed = JSON.stringify({ type: 'result', subtype: 'error_max_turns', is_error: true, duration_ms: 2000, num_turns: 8, session_id: 's', usage: { input_tokens: 1000, output_tokens: 100 } });
    importFile(root, streamSource([lines[0], failed, ''].join('\n')), classifier);
    const p = PRICES['claude-sonnet-4-5'];
    const [run] = summaries();
    expect(run.costUsd).toBeCloseTo((1000 * p.input + 100 * p.output) / 1e6, 12);
    expect(logEntries().at(-2)).toMatchObject({ type: 'stderr', content: '[claude] result: error_max_turns, 8 turns, 2 s', metadata: { level: 'error' } });
    expect(run.errors).toBe(1);
  });

  it('adds nothing when imported again, even after the file was touched (its times move)', () => {
    const file = streamSource();
    importFile(root, file, classifier);
    const before = fs.readFileSync(listAgentLogs(root)[0].file, 'utf8');
    const later = new Date('2025-11-03T12:00:00Z');
    fs.utimesSync(file, later, later);
    expect(importFile(root, file, classifier)).toMatchObject({ status: 'unchanged', added: 0 });
    expect(fs.readFileSync(listAgentLogs(root)[0].file, 'utf8')).toBe(before);
  });

  it('continues a log that grew without stamping new entries before those already written', () => {
    const lines = fs.readFileSync(path.join(FIXTURES, 'claude-stream.jsonl'), 'utf8').split('\n');
    const file = streamSource(lines.slice(0, 5).join('\n') + '\n', new Date('2025-11-02T10:00:29Z'));
    importFile(root, file, classifier);
    const before = logEntries();
    expect(new Set(before.map((e) => e.timestamp))).toEqual(new Set(['2025-11-02T10:00:29.000000+00:00'])); // no result yet
    fs.writeFileSync(file, lines.join('\n'));
    fs.utimesSync(file, new Date('2025-11-02T10:00:30Z'), new Date('2025-11-02T10:00:30Z'));
    expect(importFile(root, file, classifier)).toMatchObject({ status: 'continued' });
    const after = logEntries();
    expect(after.slice(0, before.length)).toEqual(before);
    const times = after.map((e) => parseTimestamp(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(summaries()[0].costUsd).toBeCloseTo(0.0421, 12);
  });
});

describe('Codex rollouts', () => {
  it('maps messages, tool calls and their outputs, reasoning and unknown records; hides injected context', () => {
    importFile(root, source('codex-rollout.jsonl'), classifier);
    const entries = logEntries();
    expect(entries[0].metadata).toMatchObject({ event: 'started', imported: 'codex', session_id: '019a4b2c-1d2e-7f30-8a4b-5c6d7e8f9a0b', cwd: '/home/dev/api' });
    const text = entries.filter((e) => e.type === 'stdout' && e.metadata?.role !== undefined).map((e) => [e.metadata?.role, e.content]);
    expect(text).toEqual([
      ['user', 'why does the build fail?'],
      ['assistant', 'A semicolon was missing in main.c; fixed.'],
    ]);
    expect(entries.some((e) => e.content.includes('<environment_context>') && e.type !== 'system')).toBe(false);
    const calls = entries.filter((e) => e.type === 'control').map((e) => [e.metadata?.tool_call, e.metadata?.call_id]);
    expect(calls).toEqual([
      ['shell', 'call_A1'],
      ['apply_patch', 'call_B2'],
    ]);
    expect(entries.find((e) => e.type === 'control')?.metadata?.arguments).toEqual({ command: ['bash', '-lc', 'make build'], workdir: '/home/dev/api' });
    const failed = entries.filter((e) => e.metadata?.call_id === 'call_A1' && e.type !== 'control');
    expect(failed.map((e) => [e.type, e.content, e.metadata?.level, e.metadata?.exit_status, e.metadata?.tool_result])).toEqual([
      ['stderr', 'cc main.c', 'error', 2, 'shell'],
      ['stderr', 'main.c:3: error: missing ;', 'error', 2, 'shell'],
    ]);
    const ok = entries.filter((e) => e.metadata?.call_id === 'call_B2' && e.type !== 'control');
    expect(ok.every((e) => e.type === 'stdout' && e.metadata?.level === undefined && e.metadata?.exit_status === 0)).toBe(true);
    expect(entries.find((e) => e.metadata?.event === 'reasoning')?.content).toBe('**Checking the build**');
    expect(entries.find((e) => e.metadata?.record_type === 'ghost_snapshot')).toBeDefined();
    expect(entries.filter((e) => e.content === 'why does the build fail?')).toHaveLength(1); // event_msg repeats are not written
  });

  it('takes tokens from the last cumulative count, cached input once', () => {
    importFile(root, source('codex-rollout.jsonl'), classifier);
    const [run] = summaries();
    expect(run.tokens).toEqual({ input: 5000, output: 500, cacheRead: 20000, cacheWrite: 0 });
    const p = PRICES['gpt-5-codex'];
    expect(run.costUsd).toBeCloseTo((5000 * p.input + 500 * p.output + 20000 * p.cacheRead) / 1e6, 12);
  });

  it('gives tokens with no cost for a model the price table does not have', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'codex-rollout.jsonl'), 'utf8').replace('"gpt-5-codex"', '"gpt-99-experimental"');
    importFile(root, source('codex-rollout.jsonl', text), classifier);
    const [run] = summaries();
    expect(run.tokens?.output).toBe(500);
    expect(run.costUsd).toBeNull();
    expect(costOf(new Map([['gpt-99', { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }]]))).toBe(0);
  });
});

describe('asciicast recordings', () => {
  it("gives the entries capture would: the run's byte stream is the recording's output", () => {
    importFile(root, source('make-test.cast'), classifier);
    const entries = logEntries();
    expect(entries[0].metadata).toMatchObject({ event: 'started', cols: 100, rows: 30, command: 'make test', imported: 'asciicast' });
    expect(entries[0].timestamp).toBe('2025-11-03T08:53:20.000000+00:00');
    const stream = entries
      .filter((e) => e.type === 'stdout' || e.type === 'stderr')
      .map((e) => e.content + (e.metadata?.partial === true ? '' : '\n'))
      .join('');
    expect(stream).toBe('\u001b[32mrunning\u001b[0m 3 tests\r\nprogress 1/3\rprogress 3/3\r\nError: test 2 failed\r\ndone\r\n$ ');
    expect(entries.find((e) => e.content.startsWith('Error: test 2'))).toMatchObject({ type: 'stderr', metadata: { level: 'error' } });
    expect(entries.find((e) => e.metadata?.event === 'resized')?.metadata).toMatchObject({ cols: 120, rows: 40 });
    expect(entries.some((e) => e.content.includes('secret'))).toBe(false); // keystrokes are not written
  });

  it('reads v3: intervals, comments and the exit status', () => {
    const v3 = ['{"version": 3, "term": {"cols": 80, "rows": 24}, "timestamp": 1762160000}', '# a comment', '[0.5, "o", "a\\n"]', '[0.5, "o", "b\\n"]', '[0.25, "x", "3"]', ''].join('\n');
    importFile(root, source('v3.cast', v3), classifier);
    const entries = logEntries();
    expect(entries.filter((e) => e.type === 'stdout').map((e) => [e.content, e.timestamp])).toEqual([
      ['a', '2025-11-03T08:53:20.500000+00:00'],
      ['b', '2025-11-03T08:53:21.000000+00:00'],
    ]);
    expect(entries.at(-1)?.metadata).toMatchObject({ event: 'terminated', exit_status: 3 });
    expect(summaries()[0]).toMatchObject({ status: 'error', exitStatus: 3, tokens: null, costUsd: null });
  });
});

describe('asciicast edge cases', () => {
  const stream = (entries: LogEntry[]) =>
    entries
      .filter((e) => e.type === 'stdout' || e.type === 'stderr')
      .map((e) => e.content + (e.metadata?.partial === true ? '' : '\n'))
      .join('');

  it.each([
    ['missing', '{"version": 2}'],
    ['0', '{"version": 2, "width": 0, "height": 0, "timestamp": 1762160000}'],
    ['missing (v3)', '{"version": 3, "timestamp": 1762160000}'],
    ['0 (v3)', '{"version": 3, "term": {"cols": 0, "rows": 0}}'],
  ])('plays at 80x24 when the size is %s', (_what, header) => {
    importFile(root, source('nosize.cast', `${header}\n[0.1, "o", "hi\\r\\n"]\n`), classifier);
    const entries = logEntries();
    expect(entries[0].metadata).toMatchObject({ event: 'started', cols: 80, rows: 24 });
    expect(stream(entries)).toBe('hi\r\n');
  });

  it('skips a resize to 0 columns or rows, saying which line', () => {
    const result = importFile(root, source('r0.cast', '{"version": 2, "width": 80, "height": 24}\n[0.1, "r", "0x0"]\n[0.2, "r", "100x0"]\n[0.3, "r", "100x30"]\n'), classifier);
    expect(result.corrupt.map((c) => c.line)).toEqual([2, 3]);
    expect(logEntries().filter((e) => e.metadata?.event === 'resized').map((e) => [e.metadata?.cols, e.metadata?.rows])).toEqual([[100, 30]]);
  });

  it('imports a v3 file with only its header as a run with no output, and continues it as events arrive', () => {
    const header = '{"version": 3, "term": {"cols": 120, "rows": 40}, "timestamp": 1762160000}\n';
    const file = source('header.cast', header);
    const first = importFile(root, file, classifier);
    expect(first).toMatchObject({ status: 'new', added: 0, total: 0 });
    expect(logEntries().map((e) => e.metadata?.event)).toEqual(['started']);
    fs.appendFileSync(file, '[0.5, "o", "later\\n"]\n');
    expect(importFile(root, file, classifier)).toMatchObject({ status: 'continued', added: 1, taskId: first.taskId, agentId: first.agentId });
    expect(stream(logEntries())).toBe('later\n');
  });

  it('keeps markers as system entries, out of the byte stream', () => {
    importFile(root, source('m.cast', '{"version": 2, "width": 80, "height": 24, "timestamp": 1762160000}\n[0.1, "o", "a\\n"]\n[0.5, "m", "tests start"]\n[0.6, "m", ""]\n[0.7, "o", "b\\n"]\n'), classifier);
    const entries = logEntries();
    expect(entries.filter((e) => e.metadata?.event === 'marker').map((e) => [e.type, e.content, e.metadata?.label, e.timestamp])).toEqual([
      ['system', '[marker] tests start', 'tests start', '2025-11-03T08:53:20.500000+00:00'],
      ['system', '[marker] ', '', '2025-11-03T08:53:20.600000+00:00'],
    ]);
    expect(stream(entries)).toBe('a\nb\n');
  });

  it('keeps the byte stream of huge events: 1 MB without a newline, and 50,000 lines in one event', () => {
    const noNewline = 'x'.repeat(1024 * 1024);
    const manyLines = Array.from({ length: 50_000 }, (_, i) => `line ${i}\r\n`).join('');
    const events = [JSON.stringify([0.1, 'o', noNewline]), JSON.stringify([0.2, 'o', `\r\n${manyLines}`]), JSON.stringify([0.3, 'o', '\u001b[0m$ '])];
    importFile(root, source('huge.cast', ['{"version": 2, "width": 80, "height": 24}', ...events, ''].join('\n')), classifier);
    const entries = logEntries();
    expect(stream(entries)).toBe(`${noNewline}\r\n${manyLines}\u001b[0m$ `);
    expect(Math.max(...entries.map((e) => e.content.length))).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('importing again', () => {
  it('adds nothing when the source has not changed', () => {
    const file = source('claude-session.jsonl');
    const first = importFile(root, file, classifier);
    const before = fs.readFileSync(listAgentLogs(root)[0].file, 'utf8');
    const again = importFile(root, file, classifier);
    expect(again).toMatchObject({ status: 'unchanged', added: 0, taskId: first.taskId });
    expect(fs.readFileSync(listAgentLogs(root)[0].file, 'utf8')).toBe(before);
    expect(listAgentLogs(root)).toHaveLength(1);
  });

  it('continues a session that grew, with tool names and token totals known across imports', () => {
    const full = fs.readFileSync(path.join(FIXTURES, 'codex-rollout.jsonl'), 'utf8').split('\n');
    const file = source('codex-rollout.jsonl', full.slice(0, 9).join('\n') + '\n' + full[9].slice(0, 30)); // a torn last line
    const first = importFile(root, file, classifier);
    fs.writeFileSync(file, full.join('\n'));
    const second = importFile(root, file, classifier);
    expect(second).toMatchObject({ status: 'continued', taskId: first.taskId });
    expect(second.added).toBeGreaterThan(0);
    // The same entries as one import of the whole file.
    const grown = logEntries().map((e) => [e.type, e.content, e.metadata?.tool_result ?? null]);
    fs.rmSync(path.join(root, '.agent-workspace'), { recursive: true });
    importFile(root, file, classifier);
    expect(logEntries().map((e) => [e.type, e.content, e.metadata?.tool_result ?? null])).toEqual(grown);
    expect(summaries()[0].tokens).toEqual({ input: 5000, output: 500, cacheRead: 20000, cacheWrite: 0 });
  });

  it('keeps an archived copy that outlives the source, and refuses a rewritten source', () => {
    const file = source('make-test.cast');
    const { taskId } = importFile(root, file, classifier);
    const archive = path.join(root, '.agent-workspace', taskId, 'sources', 'make-test.cast');
    expect(fs.readFileSync(archive)).toEqual(fs.readFileSync(file));
    const record = JSON.parse(fs.readFileSync(path.join(root, '.agent-workspace', taskId, 'import.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ format: 'asciicast', source: file, bytes: fs.statSync(file).size });
    fs.rmSync(file);
    expect(summaries()[0].entries).toBe(logEntries().length);
    expect(fs.existsSync(archive)).toBe(true);
  });

  it('refuses a source rewritten since it was imported, rather than mixing two histories', () => {
    const file = source('claude-session.jsonl');
    importFile(root, file, classifier);
    const before = fs.readFileSync(listAgentLogs(root)[0].file, 'utf8');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('Fix the failing', 'Fix the broken'));
    expect(() => importFile(root, file, classifier)).toThrow(/rewritten/);
    expect(fs.readFileSync(listAgentLogs(root)[0].file, 'utf8')).toBe(before);
  });
});

describe('hostile input', () => {
  it('skips garbage and truncated lines with their numbers, keeps unknown kinds, and cuts a huge line into chunks', () => {
    const huge = 'x'.repeat(200_000);
    const lines = [
      fs.readFileSync(path.join(FIXTURES, 'claude-session.jsonl'), 'utf8').split('\n')[2],
      'not json at all',
      '[1, 2, 3]',
      '{"type":"user","message":{"role":"user","content":"cut',
      JSON.stringify({ type: 'assistant', sessionId: 's', message: { id: 'm', content: [{ type: 'text', text: huge }, { type: 'weird_block' }, 'str'] } }),
      JSON.stringify({ type: 'brand-new-kind', sessionId: 's', payload: { a: 1 } }),
      JSON.stringify({ type: 'user', message: null }),
      '',
    ];
    const result = importFile(root, source('hostile.jsonl', lines.join('\n')), classifier);
    expect(result.corrupt.map((c) => c.line)).toEqual([2, 3, 4]);
    const entries = logEntries();
    const chunks = entries.filter((e) => e.content.startsWith('x'));
    expect(chunks.map((e) => e.content).join('')).toBe(huge);
    expect(chunks.slice(0, -1).every((e) => e.metadata?.partial === true)).toBe(true);
    expect(entries.some((e) => e.metadata?.record_type === 'brand-new-kind')).toBe(true);
    expect(entries.some((e) => e.metadata?.record_type === 'assistant weird_block block')).toBe(true);
  });

  it('refuses a file that is no known format, naming it', () => {
    expect(() => importFile(root, source('notes.jsonl', '{"hello": "world"}\n'), classifier)).toThrow(ImportError);
    expect(() => importFile(root, source('v1.cast', '{"version": 1, "width": 80, "height": 24, "stdout": []}\n'), classifier)).toThrow(/asciicast v1/);
    expect(listAgentLogs(root)).toHaveLength(0);
  });
});
