/**
 * Test support for replay: synthetic runs written with the real LogWriter into a temp root.
 * Output mixes what real programs write (colors, CJK, progress bars, full-screen programs on the
 * alternate screen with scroll regions and modes), cut into entries at arbitrary points, as
 * capture does on idle flushes, with resizes in between.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatTimestamp } from '../../../shared/entry.js';
import { LogWriter } from '../log/writer.js';
import { newTaskId, streamPath, ensureLogsDir, type AgentLog } from '../log/paths.js';

/** A deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];

/** One burst of realistic output. */
export function outputBurst(r: () => number, i: number): string {
  switch (Math.floor(r() * 9)) {
    case 0:
      return `\x1b[${pick(r, [31, 32, 33, 1, 4, 7])}m${pick(r, ['error', 'ok', 'warning'])}\x1b[0m: line ${i} of the build\r\n`;
    case 1:
      return `\x1b[38;5;${Math.floor(r() * 256)}m256-color\x1b[48;2;10;${Math.floor(r() * 256)};80m truecolor \x1b[0m 日本語のテキスト 🎉 done\r\n`;
    case 2: {
      let bar = '';
      for (let p = 0; p <= 100; p += 25) bar += `\r[${'#'.repeat(p / 5).padEnd(20)}] ${p}%`;
      return bar + '\r\n';
    }
    case 3:
      return 'Traceback (most recent call last):\r\n  File "x.py", line 3, in <module>\r\nValueError: bad value\r\n';
    case 4:
      // A pager: alternate screen, app cursor keys, a scroll region, a status line, then quit.
      return `\x1b[?1049h\x1b[?1h\x1b=\x1b[H\x1b[2J\x1b[1;20r${'page text\r\n'.repeat(5)}\x1b[20;1H\x1b[7m:\x1b[0m\x1b[?1000h\x1b[?2004h${r() < 0.5 ? '\x1b[r\x1b[?1000l\x1b[?2004l\x1b[?1l\x1b>\x1b[?1049l' : ''}`;
    case 5:
      return `${'x'.repeat(Math.floor(r() * 200))}\r\n`;
    case 6:
      return `\x1b[${1 + Math.floor(r() * 20)};${1 + Math.floor(r() * 60)}H\x1b[K moved \x1b[1J`;
    case 7:
      return `\x1b(0lqqqk\x1b(B box \x1b[?25l spinner \x1b[?25h\r\n`;
    default:
      return `$ ls --color=always\r\n\x1b[0m\x1b[01;34mdir\x1b[0m  \x1b[01;32mrun.sh\x1b[0m  file.txt\r\n`;
  }
}

export interface SyntheticRun {
  root: string;
  log: AgentLog;
  /** The sequence of each entry written. */
  lastSeq: number;
  /** Removes the temp root. */
  dispose(): void;
}

/**
 * Writes a run of about `bytes` of terminal output: a started entry at `cols` × `rows`, output
 * bursts cut into entries at random points (partial when not at a newline), a resize every so
 * often, and a terminated entry. Timestamps advance 10 ms per entry from a fixed start.
 */
export async function writeSyntheticRun(options: { seed: number; bytes: number; cols?: number; rows?: number; resizes?: boolean }): Promise<SyntheticRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loupe-replay-'));
  const taskId = newTaskId(new Date(Date.UTC(2026, 10, 21, 12, 0, 0)));
  ensureLogsDir(root, taskId);
  const agentId = 'agent-1';
  const file = streamPath(root, taskId, agentId);
  const writer = new LogWriter(file, { agentId });
  const r = random(options.seed);
  let time = Date.UTC(2026, 10, 21, 12, 0, 0) * 1000;
  const next = () => (time += 10_000);
  let cols = options.cols ?? 80;
  let rows = options.rows ?? 24;
  writer.append({ type: 'system', content: 'started', metadata: { event: 'started', cols, rows }, timeMicros: next() });
  let written = 0;
  for (let i = 0; written < options.bytes; i++) {
    const burst = outputBurst(r, i);
    written += burst.length;
    // Cut the burst at random points: whole lines become entries, the rest partial chunks.
    let rest = burst;
    while (rest.length > 0) {
      const cut = 1 + Math.floor(r() * rest.length);
      const piece = rest.slice(0, cut);
      rest = rest.slice(cut);
      if (piece.endsWith('\n')) writer.append({ type: 'stdout', content: piece.slice(0, -1), timeMicros: next() });
      else writer.append({ type: 'stdout', content: piece, metadata: { partial: true }, timeMicros: next() });
    }
    if (options.resizes !== false && r() < 0.02) {
      cols = pick(r, [60, 80, 100, 132]);
      rows = pick(r, [20, 24, 30]);
      writer.append({ type: 'system', content: 'resized', metadata: { event: 'resized', cols, rows }, timeMicros: next() });
    }
  }
  writer.append({ type: 'system', content: 'terminated', metadata: { event: 'terminated', exit_status: 0 }, timeMicros: next() });
  await writer.close();
  return {
    root,
    log: { root, taskId, agentId, file },
    lastSeq: writer.lastSequence,
    dispose: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** The ISO timestamp of a time in µs (for `--at`). */
export function isoOf(micros: number): string {
  return formatTimestamp(micros);
}
