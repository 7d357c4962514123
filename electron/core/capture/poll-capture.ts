/**
 * The polling fallback (SPEC §4, RELIABILITY T8), for panes pipe-pane cannot capture:
 * every POLL_INTERVAL_MS it reads the pane's finished lines (history and screen above the cursor)
 * with `capture-pane -p -e -J`, and writes the lines after the overlap with what it wrote before.
 *
 * Honest limits, each recorded as a `gap` entry when it happens:
 * - more lines than `history-limit` between two polls, or a cleared history: no overlap is found;
 * - the alternate screen (full-screen programs) is not captured while it is on;
 * - lines are the rendered screen, not the byte stream: `\r` overwrites and cursor movement are lost.
 */
import type { EntryMetadata, LogEntry } from '../../../shared/entry.js';
import { addLosses, LogWriter, NO_LOSSES, type Losses } from '../log/writer.js';
import type { CaptureWriterOptions } from './spool-capture.js';
import { linesAfterOverlap, screenText } from './backfill.js';
import type { Classifier } from './classify.js';
import { saveRecordIfPossible, type CaptureRecord } from './state.js';
import { tmuxLiteral, type Tmux } from './tmux.js';

/** How often a polled pane is read: a compromise between latency and two tmux calls per poll. */
export const POLL_INTERVAL_MS = 250;
/** How many written lines are kept to find the overlap with the next poll. */
const REMEMBERED_LINES = 500;

export class PollCapture {
  readonly record: CaptureRecord;
  readonly writer: LogWriter;
  /** What earlier hosts of this capture lost (from its record), before this writer's own. */
  private readonly lossesBefore: Losses;
  private readonly dir: string;
  private readonly classify: Classifier;
  private readonly tmux: Tmux;
  private written: string[] = [];
  private inAlternateScreen = false;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private disposed = false;

  constructor(dir: string, record: CaptureRecord, classify: Classifier, tmux: Tmux, options: CaptureWriterOptions = {}) {
    this.dir = dir;
    this.record = record;
    this.classify = classify;
    this.tmux = tmux;
    this.writer = new LogWriter(record.logFile, {
      agentId: record.agentId,
      onError: options.onWriteError,
      rotateBytes: options.rotateBytes,
    });
    this.lossesBefore = record.losses ?? NO_LOSSES;
  }

  /** Output this capture knows is missing from its log, over every host that ran it. */
  get losses(): Losses {
    return addLosses(this.lossesBefore, this.writer.losses);
  }

  start(): void {
    this.timer = setInterval(() => void this.pump(), POLL_INTERVAL_MS);
    void this.pump();
  }

  /** Polls once unless a poll is already running. */
  pump(): void {
    if (this.polling !== null || this.disposed) return;
    this.polling = this.poll(false)
      .catch(() => {
        // The pane may be gone; the host's supervisor notices and closes the capture.
      })
      .finally(() => {
        this.polling = null;
      });
  }

  private async poll(includeCursorLine: boolean): Promise<void> {
    const target = tmuxLiteral(this.record.paneId);
    const [alternate, cursorY] = (await this.tmux.display(this.record.paneId, '#{alternate_on}\t#{cursor_y}')).split('\t');
    if (alternate === '1') {
      if (!this.inAlternateScreen) {
        this.inAlternateScreen = true;
        this.writeEvent({
          type: 'system',
          content: '[loupe] the pane switched to the alternate screen; polling does not capture it',
          metadata: { event: 'alternate_screen', level: 'warn', gap: 'alternate screen is not captured by polling' },
        });
      }
      return;
    }
    this.inAlternateScreen = false;
    const end = includeCursorLine ? '-' : String(Number(cursorY) - 1);
    const out = await this.tmux.run(['capture-pane', '-p', '-e', '-J', '-S', '-', '-E', end, '-t', target]);
    if (this.disposed) return;
    const lines = out.split('\n');
    lines.pop(); // the newline after the last line
    if (includeCursorLine) while (lines.length > 0 && screenText(lines[lines.length - 1]) === '') lines.pop();
    const fresh = linesAfterOverlap(lines, this.written.map(screenText));
    if (fresh.length === lines.length && this.written.length > 0 && lines.length > 0) {
      this.writer.append({
        type: 'system',
        content: '[loupe] polling lost track of the output (more lines than history-limit, or the history was cleared); output may be missing or repeated here',
        metadata: { event: 'poll_gap', level: 'warn', gap: 'no overlap between two polls of capture-pane' },
      });
    }
    for (const line of fresh) {
      const c = this.classify(line);
      this.writer.append({ type: c.type, content: line, metadata: c.metadata });
    }
    if (fresh.length > 0) {
      this.written = [...this.written, ...fresh].slice(-REMEMBERED_LINES);
      this.commit();
    }
  }

  /** Writes a system entry (or any entry that is not polled output). */
  writeEvent(entry: { type: LogEntry['type']; content: string; metadata: EntryMetadata }): void {
    this.writer.append(entry);
    this.commit();
  }

  private commit(): void {
    this.writer.flush();
    this.record.sequence = this.writer.lastSequence;
    this.record.losses = this.losses;
    saveRecordIfPossible(this.dir, this.record);
  }

  /** The last poll of an ending capture; with the pane still there, its unfinished last line too. */
  async finalPoll(paneExists: boolean): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.polling !== null) await this.polling;
    if (paneExists) await this.poll(true).catch(() => {});
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.writer.closeSync();
  }
}
