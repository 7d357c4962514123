/**
 * The screen lines of log entries read straight from a file, without an index: for exports and
 * for a log file that lies outside any root. The same maker and rules as the index, so the lines
 * are the same ones a search finds.
 */
import type { LogEntry } from '../../../shared/entry.js';
import type { Classifier } from '../capture/classify.js';
import { lineRecord, systemLine, type LineRecord } from './lineRecord.js';
import { ScreenLineMaker } from './screenLines.js';

/** Turns entries, in order, into line records; call `end()` after the last. */
export class LineRecorder {
  private readonly maker: ScreenLineMaker;
  private lastTime = 0;

  constructor(
    private readonly classify: Classifier,
    options: { colors?: boolean } = {},
  ) {
    this.maker = new ScreenLineMaker(undefined, undefined, options);
  }

  add(entry: LogEntry, time: number): LineRecord[] {
    this.lastTime = time;
    this.maker.apply(entry, time);
    const out = this.records();
    if (entry.type === 'system') out.push(systemLine(entry, time));
    return out;
  }

  /** Output has been quiet until `now` (µs): lines that stood still long enough become final. */
  settle(now: number): LineRecord[] {
    this.maker.settle(now);
    return this.records();
  }

  /** The end of what is read: every line still on the screen is final. */
  end(): LineRecord[] {
    this.maker.endRun(this.lastTime);
    const out = this.records();
    this.maker.dispose();
    return out;
  }

  /** Frees the terminal without making the lines still on the screen final. */
  dispose(): void {
    this.maker.dispose();
  }

  private records(): LineRecord[] {
    return this.maker.take().map((line) => ({ ...lineRecord(line, this.classify), ...(line.ansi !== undefined ? { ansi: line.ansi } : {}) }));
  }
}
