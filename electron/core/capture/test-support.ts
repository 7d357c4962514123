/**
 * Test support for capture tests: a private tmux server, an isolated state dir and root, and
 * waiting on conditions (never on sleeps). Used only by *.test.ts files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEntryLine, type LogEntry } from '../../../shared/entry.js';

export interface TestWorld {
  socket: string;
  root: string;
  stateDir: string;
  tmux(...args: string[]): string;
  cleanup(): void;
}

/** A private tmux socket name, temp root and LOUPE_STATE_DIR for one test file. */
export function createWorld(): TestWorld {
  const socket = `loupe-test-${randomBytes(4).toString('hex')}`;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-capture-'));
  const root = path.join(base, 'root');
  const stateDir = path.join(base, 'state');
  fs.mkdirSync(root);
  process.env.LOUPE_STATE_DIR = stateDir;
  return {
    socket,
    root,
    stateDir,
    tmux: (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    cleanup() {
      killTmuxServer(socket);
      // Pipe helpers of the killed server may still be finishing (touching their EOF markers) in
      // the state folder; a temp folder left behind is not worth failing the test file for.
      try {
        fs.rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      } catch (err) {
        console.warn(`could not remove ${base}: ${(err as Error).message}`);
      }
    },
  };
}

/** The socket file of a private tmux server (`tmux -L name`). */
export function tmuxSocketFile(socket: string): string {
  return path.join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket);
}

/** Ends a private tmux server and removes its socket file, which tmux leaves behind. */
export function killTmuxServer(socket: string): void {
  spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  fs.rmSync(tmuxSocketFile(socket), { force: true });
}

/**
 * Waits until the capture daemons of a socket have exited (they do once its tmux server is gone
 * and their captures are finished), so they stop writing into the state folder; ends the ones
 * still running after `timeoutMs`.
 */
export async function waitForCaptureDaemons(socket: string, timeoutMs = 10_000): Promise<void> {
  const pids = () =>
    spawnSync('pgrep', ['-f', `daemon --socket ${socket}( |$)`], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  const deadline = Date.now() + timeoutMs;
  while (pids().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids()) process.kill(pid, 'SIGTERM');
}

/** Polls `condition` every 20 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(condition: () => T | Promise<T>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every valid entry of a JSONL log; throws on a corrupt complete line. */
export function readEntries(file: string): LogEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  lines.pop(); // the (possibly empty) torn tail
  return lines.map((line, i) => {
    const parsed = parseEntryLine(line);
    if (!parsed.ok) throw new Error(`line ${i + 1} of ${file} is corrupt: ${parsed.error}`);
    return parsed.entry;
  });
}

export function eventOf(entry: LogEntry): string | undefined {
  return entry.metadata?.event as string | undefined;
}

/** Waits for the capture's `terminated` entry and returns all entries. */
export function waitForTermination(file: string, timeoutMs = 30_000): Promise<LogEntry[]> {
  return waitFor<LogEntry[] | null>(
    () => {
      const entries = readEntries(file);
      return entries.some((e) => eventOf(e) === 'terminated') ? entries : null;
    },
    timeoutMs,
    `the terminated entry in ${file}`,
  ) as Promise<LogEntry[]>;
}

/** Pids of the loupe-pipe.sh helpers (and their cats) piping panes of this socket. */
export function helperPids(socket: string): { sh: number[]; cat: number[] } {
  const sh: number[] = [];
  const cat: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd: string[];
    try {
      cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (cmd.some((a) => a.endsWith('loupe-pipe.sh')) && cmd.some((a) => a.endsWith(`/${socket}`))) sh.push(Number(name));
  }
  for (const pid of sh) {
    try {
      const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (children) cat.push(...children.split(/\s+/).map(Number));
    } catch {
      // exited meanwhile
    }
  }
  return { sh, cat };
}
