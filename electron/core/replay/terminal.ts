/**
 * Headless terminals for replay: @xterm/headless with the serialize addon (keyframes) and
 * Unicode 11 widths (so emoji and CJK take two cells, as in tmux).
 */
import { createRequire } from 'node:module';
import type { SerializerLike, TerminalLike } from '../../../shared/terminal-state.js';

const require = createRequire(import.meta.url);

/** The size a run is replayed at when its log records none (tmux's default window size). */
export const DEFAULT_COLS = 80;
export const DEFAULT_ROWS = 24;
/**
 * Lines of scrollback a replay terminal keeps. tmux's default history-limit is 2000; replay only
 * needs enough for reflow on resize and scrolling back a little, and keyframes grow with it.
 */
export const REPLAY_SCROLLBACK = 1000;

/**
 * Lines of scrollback a keyframe keeps: enough to scroll back a few screens and to reflow on a
 * resize, while serializing and storing a keyframe stays cheap (serialize time and size grow with
 * every line kept).
 */
export const KEYFRAME_SCROLLBACK = 200;

/** Thrown by `feedTerminal` when xterm itself fails on some output (its parser is not total). */
export class TerminalFeedError extends Error {
  override name = 'TerminalFeedError';
}

/** A headless terminal plus its serializer; `dispose()` frees it. */
export interface ReplayTerminal {
  term: TerminalLike;
  serializer: SerializerLike;
  dispose(): void;
}

/**
 * xterm's modules, required on the first terminal made: parsing them is most of a CLI command's
 * start-up, and most commands (search, tail, ls on an indexed root) never make a terminal.
 * `require`, not `import()`: they are CommonJS, and making a terminal is synchronous.
 */
function xtermModules() {
  return {
    headless: require('@xterm/headless') as typeof import('@xterm/headless'),
    serializeAddon: require('@xterm/addon-serialize') as typeof import('@xterm/addon-serialize'),
    unicode11Addon: require('@xterm/addon-unicode11') as typeof import('@xterm/addon-unicode11'),
  };
}

/**
 * A fresh headless terminal at `cols` × `rows` keeping `scrollback` lines, configured the same way
 * for every replay and every screen-line maker.
 */
export function createReplayTerminal(cols: number, rows: number, scrollback = REPLAY_SCROLLBACK): ReplayTerminal {
  const { headless, serializeAddon, unicode11Addon } = xtermModules();
  const term = new headless.Terminal({ cols, rows, scrollback, allowProposedApi: true });
  const serializer = new serializeAddon.SerializeAddon();
  // The addons' typings name @xterm/xterm's Terminal; the headless one has the same addon API.
  term.loadAddon(serializer as unknown as Parameters<typeof term.loadAddon>[0]);
  term.loadAddon(new unicode11Addon.Unicode11Addon() as unknown as Parameters<typeof term.loadAddon>[0]);
  term.unicode.activeVersion = '11';
  return {
    term: term as unknown as TerminalLike,
    serializer,
    dispose: () => term.dispose(),
  };
}

interface SyncWriter {
  _core: { _writeBuffer: { writeSync(data: string): void } };
}

/**
 * Writes output into a headless terminal synchronously. Replay feeds megabytes at a time and
 * needs the state at once; xterm's `write()` parses in 12 ms slices on timers. Synchronous
 * parsing also keeps an exception inside xterm (its parser has bugs on rare sequences) in the
 * caller's hands instead of killing the process from a timer: the rest of that chunk is dropped
 * and the terminal goes on with the next.
 */
export function feedTerminal(term: TerminalLike, data: string): void {
  try {
    (term as unknown as SyncWriter)._core._writeBuffer.writeSync(data);
  } catch (err) {
    throw new TerminalFeedError(`the terminal emulator failed on this output: ${(err as Error).message}`);
  }
}
