/**
 * Keeps one agent's attention facts (`AttentionFacts`) up to date while the indexer plays its
 * entries: output times, notification escapes and the run's end from the entries, and the prompt
 * from the screen once a batch has been played.
 */
import { entryTerminalText, type LogEntry } from '../../../shared/entry.js';
import { visibleText } from '../redact/terminalEscapes.js';
import { findPrompt, IDLE_AFTER_QUIET_US, NO_FACTS, type AttentionFacts, type CompiledPromptRule, type ScreenSnapshot } from './attention.js';
import { notificationsIn } from './notifications.js';

export class AttentionTracker {
  facts: AttentionFacts;
  /** Whether the facts changed since the last `take()`. */
  private changed = false;

  constructor(facts: AttentionFacts = NO_FACTS) {
    this.facts = { ...facts };
  }

  /** One entry, in order, at `time` (µs). */
  entry(entry: LogEntry, time: number): void {
    const event = entry.type === 'system' ? entry.metadata?.event : undefined;
    if (event === 'started') {
      this.set({ ...NO_FACTS });
      return;
    }
    if (event === 'terminated') {
      this.set({ ...this.facts, ended: time, prompt: null, notification: null });
      return;
    }
    const text = entryTerminalText(entry);
    if (text === '') return;
    const notification = notificationsIn(text).at(-1);
    const visible = visibleText(text).visible.replace(/[\x00-\x1f\x7f]/g, '');
    const facts = { ...this.facts };
    if (visible !== '') {
      if (facts.lastOutput === null || time - facts.lastOutput >= IDLE_AFTER_QUIET_US) facts.activeSince = time;
      facts.lastOutput = time;
      facts.notification = null; // output after a notification answers it (or moves on)
    }
    if (notification !== undefined) facts.notification = { kind: notification.kind, text: notification.text, at: time };
    this.set(facts);
  }

  /** The screen after the entries played so far: is it asking something? */
  look(screen: ScreenSnapshot, rules: CompiledPromptRule[]): void {
    if (this.facts.ended !== null) return;
    const found = findPrompt(screen, rules);
    const current = this.facts.prompt;
    if (found === null) {
      if (current !== null) this.set({ ...this.facts, prompt: null });
      return;
    }
    if (current !== null && current.rule === found.rule && current.text === found.text) return;
    // The prompt appeared with the output that drew it.
    this.set({ ...this.facts, prompt: { ...found, since: this.facts.lastOutput ?? 0 } });
  }

  /** The facts, when they changed since the last call; else null. */
  take(): AttentionFacts | null {
    if (!this.changed) return null;
    this.changed = false;
    return this.facts;
  }

  private set(facts: AttentionFacts): void {
    this.facts = facts;
    this.changed = true;
  }
}
