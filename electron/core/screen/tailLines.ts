/**
 * `tail` in text: the last screen lines of an agent's log that pass a filter, and, to follow it,
 * the lines that become final afterwards. A live log under a root is read from the root's index
 * (which this process brings up to date first); any other log file is played through the
 * screen-line maker directly.
 */
import { nowMicros, parseTimestamp } from '../../../shared/entry.js';
import { rootClassifier } from '../capture/classify.js';
import type { IndexView } from '../api/rootIndexes.js';
import { matchesLine, type EntryFilter } from '../log/filter.js';
import { LogFollower } from '../log/follow.js';
import { agentLogOfFile, type AgentLog } from '../log/paths.js';
import { LogReader, type CorruptLine, type ReadEntry } from '../log/reader.js';
import { agentRowId, lastLineNumber, lastLines, linesAfter, provisionalLines } from '../search/agentLines.js';
import type { LineRecord } from './lineRecord.js';
import { LineRecorder } from './runLines.js';

/** How often a follower looks for lines that settled while no output came (SPEC §12: output idle). */
const SETTLE_POLL_MS = 500;
/** Output this recent may still be on its way to the log: settling waits for it (as the indexer does). */
const SETTLE_MARGIN_US = 3_000_000;

export interface LineTailOptions {
  n: number;
  filter: EntryFilter;
  onCorrupt?: (corrupt: CorruptLine) => void;
  /** The caller will follow: lines still changing at the end are left to settle. */
  follow?: boolean;
  /** An index the caller keeps up to date for the root (`loupe serve`, the app); else one is opened. */
  indexerOf?: (root: string) => Promise<IndexView | undefined>;
}

/** The lines of a tail, and how to follow them. */
export interface LineTail {
  lines: LineRecord[];
  /** Calls `onLines` with each new batch of lines until the returned function is called. */
  follow(onLines: (lines: LineRecord[]) => void): () => void;
  dispose(): void;
}

/** The last `n` screen lines of `file` that pass the filter. */
export async function tailLines(file: string, options: LineTailOptions): Promise<LineTail> {
  const log = agentLogOfFile(file);
  return log !== null ? indexedTail(log, options) : directTail(file, options);
}

async function indexedTail(log: AgentLog, options: LineTailOptions): Promise<LineTail> {
  const shared = await options.indexerOf?.(log.root);
  let indexer: IndexView;
  let own: { dispose(): void } | null = null;
  if (shared !== undefined) indexer = shared;
  else {
    const { FreshIndex } = await import('../index/freshIndex.js');
    const opened = new FreshIndex(log.root);
    try {
      await opened.indexPending();
    } catch (err) {
      opened.dispose();
      throw err;
    }
    indexer = own = opened;
  }
  const agent = () => agentRowId(indexer.db, log.taskId, log.agentId);
  const first = agent();
  const final = first === null ? [] : lastLines(indexer.db, first, options.n, options.filter);
  // The screen's lines that are not final yet come last; a follower prints each once.
  const pending = first === null ? [] : provisionalLines(indexer.db, first, rootClassifier(log.root)).filter((l) => matchesLine(l, options.filter));
  const lines = [...final, ...pending].slice(-options.n);
  const shown = new Set(pending.map(lineKey));
  let after = first === null ? 0 : lastLineNumber(indexer.db, first);
  return {
    lines,
    follow(onLines) {
      let stopped = false;
      const pass = async () => {
        if (stopped) return;
        try {
          await indexer.indexPending();
        } catch {
          return; // the index is busy or closing: the next pass tries again
        }
        const id = agent();
        if (id === null || stopped) return;
        for (;;) {
          const page = linesAfter(indexer.db, id, after, options.filter);
          if (page.last === after) break;
          after = page.last;
          const fresh = page.lines.filter((l) => !shown.delete(lineKey(l)));
          if (fresh.length > 0) onLines(fresh);
        }
      };
      // Passes run one after another, so two never read the same page of lines.
      let passes = Promise.resolve();
      let queued: NodeJS.Timeout | null = null;
      const schedule = () =>
        (queued ??= setTimeout(() => {
          queued = null;
          passes = passes.then(pass);
        }, 30));
      const follower = new LogFollower(log.file, { from: 'end', onEntries: schedule, onCorrupt: options.onCorrupt });
      const timer = setInterval(schedule, SETTLE_POLL_MS);
      return () => {
        stopped = true;
        follower.close();
        clearInterval(timer);
        if (queued !== null) clearTimeout(queued);
      };
    },
    dispose: () => {
      own?.dispose();
    },
  };
}

async function directTail(file: string, options: LineTailOptions): Promise<LineTail> {
  const recorder = new LineRecorder(rootClassifier(agentLogOfFile(file)?.root));
  const reader = new LogReader(file, { onCorrupt: options.onCorrupt });
  let lastTime = 0;
  const add = (batch: ReadEntry[]) => {
    const out: LineRecord[] = [];
    for (const r of batch) {
      lastTime = parseTimestamp(r.entry.timestamp);
      out.push(...recorder.add(r.entry, lastTime));
    }
    return out;
  };
  const keep = (lines: LineRecord[]) => lines.filter((l) => matchesLine(l, options.filter));
  const settled = () => keep(recorder.settle(Math.max(lastTime, nowMicros() - SETTLE_MARGIN_US)));
  const all: LineRecord[] = [];
  for await (const batch of reader.batches()) all.push(...keep(add(batch)));
  // Without -f the end of the file is the end of the run; with it, lines still changing wait.
  all.push(...(options.follow === true ? settled() : keep(recorder.end())));
  return {
    lines: all.slice(-options.n),
    follow(onLines) {
      const follower = new LogFollower(file, {
        from: { offset: reader.completeEnd },
        onEntries: (batch) => {
          const lines = keep(add(batch));
          if (lines.length > 0) onLines(lines);
        },
        onCorrupt: options.onCorrupt,
      });
      const timer = setInterval(() => {
        const lines = settled();
        if (lines.length > 0) onLines(lines);
      }, SETTLE_POLL_MS);
      return () => {
        follower.close();
        clearInterval(timer);
      };
    },
    dispose: () => {},
  };
}

/** A line's identity between its provisional and its final form. */
function lineKey(line: LineRecord): string {
  return `${line.sequence}\u0000${line.text}`;
}
