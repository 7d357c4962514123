/**
 * Attention (SPEC §13): which agent needs the user now. Each agent is
 *
 * - `waiting`: it asks the user something and is blocked on it (a prompt rule matches its screen
 *   near the cursor, or it sent a notification escape, and no output came after);
 * - `working`: output is arriving (a spinner or a progress line that moves is output too);
 * - `idle`: alive and quiet, not asking anything;
 * - `ended`: its run ended.
 *
 * The index keeps the facts (`AttentionFacts`: what the screen asked and when, the last output,
 * the last notification); the state is derived from them and the time, so every reader (the
 * app, `loupe serve`, `loupe ls`, `loupe wait`) agrees, and a state needs no timer to age.
 */
import { formatTimestamp } from '../../../shared/entry.js';
import type { Attention } from '../../../shared/ipc.js';
import { compileUserRegex, type UserRegex } from '../regex/userRegex.js';
import type { Notification } from './notifications.js';

export type { Attention, AttentionState } from '../../../shared/ipc.js';

/**
 * A prompt rule: `pattern` (RE2 syntax) is tried on the screen's rows near the cursor
 * (`near: "cursor"`: the cursor's row and the rows above it, `rows` in all, default 3) or on the
 * bottom of the screen (`near: "screen"`: the last `rows` rows with text, default 15, for dialogs
 * drawn away from the cursor). Only the visible screen counts, never the scrollback.
 */
export interface PromptRule {
  name: string;
  pattern: string;
  near?: 'cursor' | 'screen';
  rows?: number;
}

/** What the index saw of one agent, for its attention. Times are µs since the epoch. */
export interface AttentionFacts {
  /** The last entry that put output on the screen. */
  lastOutput: number | null;
  /** The first output after the last quiet spell: since when it has been working. */
  activeSince: number | null;
  /** A prompt on the screen at the last look, and when it appeared. */
  prompt: { rule: string; text: string; since: number } | null;
  /** The last notification escape, if no output came after it. */
  notification: { kind: Notification['kind']; text: string; at: number } | null;
  /** When the run ended (its `terminated` entry), or null while it runs. */
  ended: number | null;
  /** The screen around the cursor at the last look: what a program that reads the terminal asks. */
  cursorText?: string | null;
}

export const NO_FACTS: AttentionFacts = { lastOutput: null, activeSince: null, prompt: null, notification: null, ended: null, cursorText: null };

/** A prompt counts once nothing has been printed for this long: a prompt that output scrolls past was no question. */
export const WAITING_AFTER_QUIET_US = 1_000_000;
/** Without output for this long, a working agent is idle. */
export const IDLE_AFTER_QUIET_US = 5_000_000;

/**
 * The state of an agent with these facts at `now` (µs). `readsInput`: its pane's foreground
 * process is blocked reading the terminal (see `foreground.ts`), when that is known.
 */
export function attentionOf(facts: AttentionFacts, now: number, readsInput = false): Attention {
  if (facts.ended !== null) return { state: 'ended', since: iso(facts.ended), reason: 'the run ended', prompt: null };
  const quietFor = facts.lastOutput === null ? Number.POSITIVE_INFINITY : now - facts.lastOutput;
  if (facts.prompt !== null && quietFor >= WAITING_AFTER_QUIET_US) {
    return { state: 'waiting', since: iso(facts.prompt.since), reason: `prompt on screen (rule ${facts.prompt.rule})`, prompt: facts.prompt.text };
  }
  if (facts.notification !== null && now - facts.notification.at >= WAITING_AFTER_QUIET_US && quietFor >= WAITING_AFTER_QUIET_US) {
    const what = facts.notification.kind === 'bell' ? 'the terminal bell' : `a notification (${facts.notification.kind.toUpperCase()})`;
    return { state: 'waiting', since: iso(facts.notification.at), reason: `${what} after the last output`, prompt: facts.notification.text || null };
  }
  // A program reading its terminal after a line that asks (ends in `?` or `:`) is waiting for an
  // answer; at a shell's `$ ` or a REPL's `> ` it is only idle.
  if (readsInput && quietFor >= WAITING_AFTER_QUIET_US && /[?:]\s*$/.test(facts.cursorText?.split('\n').at(-1) ?? '')) {
    const since = facts.lastOutput ?? now;
    return { state: 'waiting', since: iso(since), reason: 'its program waits to read an answer from the terminal', prompt: facts.cursorText ?? null };
  }
  if (quietFor < IDLE_AFTER_QUIET_US) {
    return { state: 'working', since: iso(facts.activeSince ?? facts.lastOutput!), reason: 'output is arriving', prompt: null };
  }
  const since = facts.lastOutput === null ? now : facts.lastOutput + IDLE_AFTER_QUIET_US;
  return { state: 'idle', since: iso(since), reason: facts.lastOutput === null ? 'no output yet' : 'no output, and nothing asked', prompt: null };
}

function iso(micros: number): string {
  return formatTimestamp(micros);
}

/** The rows of a screen and where its cursor is (rows as text, trailing blanks trimmed). */
export interface ScreenSnapshot {
  rows: string[];
  cursorRow: number;
}

export interface CompiledPromptRule {
  name: string;
  regex: UserRegex;
  near: 'cursor' | 'screen';
  rows: number;
}

export function compilePromptRules(rules: PromptRule[]): CompiledPromptRule[] {
  return rules.map((r) => {
    const near = r.near ?? 'cursor';
    return { name: r.name, regex: compileUserRegex(r.pattern), near, rows: r.rows ?? (near === 'cursor' ? 3 : 15) };
  });
}

/** The first rule that matches the screen, with the question as the user reads it; null when none does. */
export function findPrompt(screen: ScreenSnapshot, rules: CompiledPromptRule[]): { rule: string; text: string } | null {
  const last = lastTextRow(screen);
  for (const rule of rules) {
    const from = Math.max(0, (rule.near === 'cursor' ? screen.cursorRow : last) - rule.rows + 1);
    const to = rule.near === 'cursor' ? Math.min(screen.rows.length - 1, screen.cursorRow) : last;
    for (let r = to; r >= from; r--) {
      if (rule.regex.test(screen.rows[r])) return { rule: rule.name, text: questionAt(screen.rows, r) };
    }
  }
  return null;
}

/** The last row with text: a dialog's bottom, wherever the cursor was left (Codex leaves it at the screen's end). */
function lastTextRow(screen: ScreenSnapshot): number {
  let last = screen.rows.length - 1;
  while (last > 0 && screen.rows[last].trim() === '') last--;
  return last;
}

/** Box-drawing side borders (light, heavy, rounded and double) and a plain `|`. */
const SIDE = /^\s*[│┃║|]\s?|\s?[│┃║|]\s*$/g;
const TOP = /^\s*[╭┌┏╔]/;
const BOTTOM = /^\s*[╰└┗╚]/;
const CHOICE = /^\s*(?:[❯›>●○◯▶▸→*]\s*)?(?:\d{1,2}[.)]|\[[ xX]\]|\(\s?[a-zA-Z]\s?\))\s+\S/;

/**
 * The question around row `r`: inside a box, the box's lines without its borders; else the
 * row itself, with the numbered choices right below it.
 */
export function questionAt(rows: string[], r: number): string {
  let top = r;
  while (top > 0 && !TOP.test(rows[top]) && isBoxRow(rows[top])) top--;
  let bottom = r;
  while (bottom < rows.length - 1 && !BOTTOM.test(rows[bottom]) && isBoxRow(rows[bottom])) bottom++;
  if (TOP.test(rows[top]) && BOTTOM.test(rows[bottom]) && top < r && r < bottom) {
    return tidy(rows.slice(top + 1, bottom).map((row) => row.replace(SIDE, '')));
  }
  // Under a horizontal rule close above (Claude Code draws its dialogs so): the dialog from the
  // rule down. Else the question's paragraph above the row (above the menu, when the row is one
  // of its choices, past one blank row). Then the row, and the choices below it.
  let start = r;
  let rule = r - 1;
  while (rule >= 0 && r - rule <= MAX_QUESTION_ROWS && !isRule(rows[rule])) rule--;
  if (rule >= 0 && r - rule <= MAX_QUESTION_ROWS) start = rule + 1;
  else {
    while (start > 0 && CHOICE.test(rows[start - 1])) start--;
    if (CHOICE.test(rows[r]) && start > 1 && rows[start - 1].trim() === '') start--;
    while (start > 0 && r - start < MAX_QUESTION_ROWS && rows[start - 1].trim() !== '' && !CHOICE.test(rows[start - 1]) && !isRule(rows[start - 1])) start--;
  }
  // The menu below: its choices, their description lines (indented further) and the blank rows
  // between choices.
  let end = r;
  const indent = (row: string) => row.length - row.trimStart().length;
  const choiceIndent = indent(rows[r]);
  for (let next = r + 1; next < rows.length && next - r <= MAX_QUESTION_ROWS; next++) {
    const row = rows[next];
    if (row.trim() === '') continue;
    if (CHOICE.test(row) || indent(row) > choiceIndent + 1) end = next;
    else break;
  }
  return tidy(rows.slice(start, end + 1));
}

/** Rows a question can take, outside a box (a dialog under a rule, or a paragraph and its menu). */
const MAX_QUESTION_ROWS = 16;

function isBoxRow(row: string): boolean {
  return /^\s*[│┃║|╭┌┏╔╰└┗╚]/.test(row);
}

function isRule(row: string): boolean {
  return /^\s*[─━═-]{8,}\s*$/.test(row);
}

function tidy(lines: string[]): string {
  const kept = lines.map((l) => l.trimEnd()).filter((l) => l.trim() !== '' && !isRule(l));
  const indent = Math.min(...kept.map((l) => l.length - l.trimStart().length));
  return kept.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

/** Every agent's attention facts in an index, by `taskId/agentId` (agents not played yet have none). */
export function attentionFactsOf(db: { prepare(sql: string): { all(...params: unknown[]): unknown[] } }, root: string): Map<string, AttentionFacts> {
  const rows = db
    .prepare(
      `SELECT t.task_id AS task, a.agent_id AS agent, s.attention AS facts
       FROM screen_states s JOIN agents a ON a.id = s.agent JOIN tasks t ON t.id = a.task JOIN roots r ON r.id = t.root
       WHERE s.attention IS NOT NULL AND r.path = ?`,
    )
    .all(root) as { task: string; agent: string; facts: string }[];
  return new Map(rows.map((row) => [`${row.task}/${row.agent}`, JSON.parse(row.facts) as AttentionFacts]));
}
