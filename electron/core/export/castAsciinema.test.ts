/**
 * `.cast` exports played by the real asciinema client (Debian's `asciinema`): `asciinema cat`
 * prints exactly the run's terminal byte stream, for the demo agents (captured through real tmux)
 * and for a run that was resized. Needs the compiled CLI (`npm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryTerminalText, parseEntryLine, type LogEntry } from '../../../shared/entry.js';
import { DEMO_AGENTS } from '../capture/demo.js';
import { killTmuxServer } from '../capture/test-support.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The fast demo takes a few seconds; a loaded shared machine gets plenty more. */
const CAPTURE_DEADLINE_MS = 60_000;

const socket = `loupe-test-${randomBytes(4).toString('hex')}`;
let dir: string;
let root: string;
let env: NodeJS.ProcessEnv;

function loupe(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/loupe.js'), ...args], { encoding: 'utf8', cwd: root, env });
  if (r.status !== 0) throw new Error(`loupe ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** What `asciinema cat` prints. It insists on a terminal, so it runs under script(1)'s pty. */
function asciinemaCat(file: string): Buffer {
  const r = spawnSync('script', ['-q', '-e', '-c', `asciinema cat ${JSON.stringify(file)}`, '/dev/null'], { env, input: '' });
  if (r.status !== 0) throw new Error(`asciinema cat ${file} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function agentLogs(): Record<string, LogEntry[]> {
  const ws = path.join(root, '.agent-workspace');
  const logs: Record<string, LogEntry[]> = {};
  for (const task of fs.existsSync(ws) ? fs.readdirSync(ws) : []) {
    for (const name of fs.readdirSync(path.join(ws, task, 'logs'))) {
      if (!name.endsWith('_stream.jsonl')) continue;
      const lines = fs.readFileSync(path.join(ws, task, 'logs', name), 'utf8').split('\n').slice(0, -1);
      logs[name.replace('_stream.jsonl', '')] = lines.map(parseEntryLine).flatMap((p) => (p.ok ? [p.entry] : []));
    }
  }
  return logs;
}

const ended = (entries: LogEntry[] | undefined) => entries?.some((e) => e.metadata?.event === 'terminated') === true;

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + CAPTURE_DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-cast-'));
  root = path.join(dir, 'root');
  fs.mkdirSync(root);
  env = { ...process.env, LOUPE_STATE_DIR: path.join(dir, 'state'), HOME: path.join(dir, 'home') };
  delete env.XDG_CONFIG_HOME;
  loupe('demo', '--fast', '--socket', socket);
  // A run that is resized while it waits, then prints at the new size.
  loupe('run', '--name', 'resized', '--socket', socket, '--', 'sh', '-c', 'echo before; tmux wait-for cast-gate; printf "after \\033[1mresize\\033[0m\\n"');
  await waitFor('the resized agent to start', () => agentLogs().resized?.some((e) => e.content.startsWith('before')) === true);
  tmux('resize-window', '-t', tmux('list-panes', '-a', '-F', '#{session_name}').split('\n').find((s) => s.includes('resized')) ?? '', '-x', '70', '-y', '20');
  await waitFor('the resize entry', () => agentLogs().resized?.some((e) => e.metadata?.event === 'resized') === true);
  tmux('wait-for', '-S', 'cast-gate');
  await waitFor('every agent to end', () => {
    const logs = agentLogs();
    return [...DEMO_AGENTS.map((a) => a.name), 'resized'].every((name) => ended(logs[name]));
  });
}, CAPTURE_DEADLINE_MS * 3);

afterAll(() => {
  killTmuxServer(socket);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('cast exports in the real asciinema client', () => {
  it.each(DEMO_AGENTS.map((a) => a.name))('asciinema cat of demo agent %s equals its byte stream', (agent) => {
    const cast = path.join(dir, `${agent}.cast`);
    loupe('export', agent, '--format', 'cast', '--no-redact', '-o', cast);
    const stream = agentLogs()[agent].map(entryTerminalText).join('');
    expect(stream.length).toBeGreaterThan(100);
    expect(asciinemaCat(cast).toString('utf8')).toBe(stream);
  });

  it('asciinema cat of a redacted export equals the redacted ansi export', () => {
    const agent = DEMO_AGENTS[0].name;
    const cast = path.join(dir, 'redacted.cast');
    const ansi = path.join(dir, 'redacted.ans');
    loupe('export', agent, '--format', 'cast', '-o', cast);
    loupe('export', agent, '--format', 'ansi', '-o', ansi);
    expect(asciinemaCat(cast)).toEqual(fs.readFileSync(ansi));
  });

  it('a resized run plays with a resize event and the exact byte stream', () => {
    const cast = path.join(dir, 'resized.cast');
    const r = loupe('export', 'resized', '--format', 'cast', '--no-redact', '-o', cast);
    expect(r.stderr).toMatch(/^exported \d+ entries of 1 agent as cast to .*resized\.cast: .*; redaction off\n$/);
    const lines = fs.readFileSync(cast, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    const started = agentLogs().resized.find((e) => e.metadata?.event === 'started');
    expect([lines[0].width, lines[0].height]).toEqual([started?.metadata?.cols, started?.metadata?.rows]);
    expect(lines.filter((e) => Array.isArray(e) && e[1] === 'r').map((e) => e[2])).toEqual(['70x20']);
    const stream = agentLogs().resized.map(entryTerminalText).join('');
    expect(stream).toContain('after \x1b[1mresize');
    expect(asciinemaCat(cast).toString('utf8')).toBe(stream);
  });
});
