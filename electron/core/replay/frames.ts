/**
 * A run's terminal output as timed frames, for playing it into a real terminal (`loupe replay`)
 * or exporting it: one frame per terminal-output entry, plus resize frames.
 */
import { entryTerminalText } from '../../../shared/entry.js';
import type { AgentLog } from '../log/paths.js';
import { readRunEntries, type RunPosition } from './run-log.js';
import { entrySize, type ReplayPoint } from './seek.js';

export interface ReplayFrame {
  seq: number;
  /** µs since the epoch. */
  time: number;
  /** Terminal bytes ('' for a resize frame). */
  text: string;
  /** Set on started/resized entries: the terminal's new size. */
  size?: { cols: number; rows: number };
}

/** Frames from `from` (a position, e.g. a seek's `next`) up to and including `to`. */
export async function* runFrames(log: AgentLog, from: RunPosition, to?: ReplayPoint): AsyncGenerator<ReplayFrame, void, undefined> {
  for await (const batch of readRunEntries(log, from)) {
    for (const { entry, time } of batch) {
      if (to !== undefined && ('seq' in to ? entry.sequence > to.seq : 'time' in to ? time > to.time : false)) return;
      const size = entrySize(entry);
      if (size !== null) {
        yield { seq: entry.sequence, time, text: '', size };
        continue;
      }
      const text = entryTerminalText(entry);
      if (text !== '') yield { seq: entry.sequence, time, text };
    }
  }
}

/**
 * Sequences that must not reach the user's own terminal from a recorded (untrusted) run
 * (SPEC §9): clipboard writes (OSC 52), title changes (OSC 0/1/2), and queries whose answers the
 * terminal would type into our stdin (DA, DSR, window reports).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_SEQUENCES = /\x1b\](?:52|0|1|2);[^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[>=]?\d*c|\x1b\[\??\d*n|\x1b\[\d*(?:;\d*)*t/g;

/** Removes sequences that must not reach a real terminal (see UNSAFE_SEQUENCES). */
export function stripUnsafeSequences(text: string): string {
  return text.includes('\x1b') ? text.replace(UNSAFE_SEQUENCES, '') : text;
}
