/**
 * Keeps one agent's attention facts (`AttentionFacts`) up to date while the indexer plays its
 * entries: output times, notification escapes and the run's end from the entries, and the prompt
 * from the screen once a batch has been played.
 */
import { entryTerminalText, type LogEntry } from '../../../shared/entry.js';
import { visibleText } from '../redact/terminalEscapes.js';
import { findPrompt, IDLE_AFTER_QUIET_US, questionAt, NO_FACTS, type AttentionFacts, type CompiledPromptRule, type ScreenSnapshot } from './attention.js';
import { notificationsIn, type EscapeState } from './notifications.js';

export class AttentionTracker {
  facts: AttentionFacts;
  /** Inside an OSC string that the next entry ends (not saved: a restart may see one stray BEL at most). */
  private readonly escapes: EscapeState = { inOsc: false };

  constructor(facts: AttentionFacts = NO_FACTS) {
    this.facts = { ...facts };
  }

  /** One entry, in order, at `time` (µs). */
  entry(entry: LogEntry, time: number): void {
    const event = entry.type === 'system' ? entry.metadata?.event : undefined;
    if (event === 'started') {
      this.facts = { ...NO_FACTS };
      return;
    }
    if (event === 'terminated') {
      this.facts = { ...this.facts, ended: time, prompt: null, notification: null };
      return;
    }
    const text = entryTerminalText(entry);
    if (text === '') return;
    const notification = notificationsIn(text, this.escapes).at(-1);
    const visible = visibleText(text).visible.replace(/[\x00-\x1f\x7f]/g, '');
    const facts = { ...this.facts };
    if (visible !== '') {
      if (facts.lastOutput === null || time - facts.lastOutput >= IDLE_AFTER_QUIET_US) facts.activeSince = time;
      facts.lastOutput = time;
      facts.notification = null; // output after a notification answers it (or moves on)
    }
    if (notification !== undefined) facts.notification = { kind: notification.kind, text: notification.text, at: time };
    this.facts = facts;
  }

  /** The screen after the entries played so far: is it asking something? */
  look(screen: ScreenSnapshot, rules: CompiledPromptRule[]): void {
    if (this.facts.ended !== null) return;
    const bell = this.facts.notification;
    if (bell !== null && bell.text === '') {
      // A bell says nothing: what it asks is what the screen shows where the cursor is.
      this.facts = { ...this.facts, notification: { ...bell, text: questionAt(screen.rows, lastRowWithText(screen)) } };
    }
    const cursorText = questionAt(screen.rows, lastRowWithText(screen));
    if (cursorText !== this.facts.cursorText) this.facts = { ...this.facts, cursorText };
    const found = findPrompt(screen, rules);
    const current = this.facts.prompt;
    if (found === null) {
      if (current !== null) this.facts = { ...this.facts, prompt: null };
      return;
    }
    if (current !== null && current.rule === found.rule && current.text === found.text) return;
    // The prompt appeared with the output that drew it.
    this.facts = { ...this.facts, prompt: { ...found, since: this.facts.lastOutput ?? 0 } };
  }
}

/** The cursor's row, or the nearest row above it with text. */
function lastRowWithText(screen: ScreenSnapshot): number {
  let r = Math.min(screen.cursorRow, screen.rows.length - 1);
  while (r > 0 && screen.rows[r].trim() === '') r--;
  return r;
}

