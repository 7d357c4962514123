/**
 * Backfill after a lost pipe (RELIABILITY T3): the pane's history from `capture-pane`, minus the
 * lines the log already has. The screen is a rendering, not the byte stream, so lines are
 * compared as plain text (ANSI stripped, what a `\r` overwrote dropped, trailing blanks trimmed).
 */
import fs from 'node:fs';
import stripAnsi from 'strip-ansi';
import { entryTerminalText, parseEntryLine } from '../../../shared/entry.js';
import { linesBackward } from '../log/backwards.js';
import { tmuxLiteral, type Tmux } from './tmux.js';

/** How many of the log's last lines are compared with the screen to find the overlap. */
const OVERLAP_LINES = 200;
/** Consecutive lines that must match for an overlap to count (one line alone is too ambiguous). */
const ANCHOR_LINES = 3;

/** How a line looks on screen, as plain text. */
export function screenText(line: string): string {
  const cr = line.lastIndexOf('\r', line.length - 2);
  return stripAnsi(cr >= 0 ? line.slice(cr + 1) : line).replace(/\r$/, '').trimEnd();
}

/** The last lines of terminal output in a log, oldest first, as screen text. */
export function lastLoggedLines(logFile: string, max = OVERLAP_LINES): string[] {
  let fd: number;
  try {
    fd = fs.openSync(logFile, 'r');
  } catch {
    return [];
  }
  try {
    const texts: string[] = [];
    let newlines = 0;
    for (const line of linesBackward(fd, fs.fstatSync(fd).size)) {
      const parsed = parseEntryLine(line.text);
      if (!parsed.ok) continue;
      const text = entryTerminalText(parsed.entry);
      if (text === '') continue;
      texts.push(text);
      newlines += text.split('\n').length - 1;
      if (newlines > max) break;
    }
    return texts.reverse().join('').split('\n').slice(0, -1).slice(-max).map(screenText);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The lines of `screen` after its overlap with `logged`: the last place where the log's last
 * non-blank lines appear on screen. With no overlap found, every screen line is new.
 */
export function linesAfterOverlap(screen: string[], logged: string[]): string[] {
  const plain = screen.map(screenText);
  const anchor = logged.filter((l) => l !== '').slice(-ANCHOR_LINES);
  if (anchor.length === 0) return screen;
  for (let end = plain.length - 1; end >= 0; end--) {
    if (plain[end] !== anchor[anchor.length - 1]) continue;
    // Match the anchor upwards, skipping blank screen lines the way the anchor skipped blank log lines.
    let i = end;
    let k = anchor.length - 1;
    while (k >= 0 && i >= 0) {
      if (plain[i] === '') {
        i--;
        continue;
      }
      if (plain[i] !== anchor[k]) break;
      i--;
      k--;
    }
    if (k < 0 || i < 0) return screen.slice(end + 1);
  }
  return screen;
}

/** The pane's history and screen (`capture-pane -S - -e -J`) that the log does not have yet. */
export async function backfillLines(tmux: Tmux, paneId: string, logFile: string): Promise<string[]> {
  let out: string;
  try {
    out = await tmux.run(['capture-pane', '-p', '-e', '-J', '-S', '-', '-E', '-', '-t', tmuxLiteral(paneId)]);
  } catch {
    return [];
  }
  const screen = out.split('\n');
  while (screen.length > 0 && screenText(screen[screen.length - 1]) === '') screen.pop();
  return linesAfterOverlap(screen, lastLoggedLines(logFile));
}
