/**
 * The imperative half of a terminal pane (STYLE.md: view + store model + controller).
 * It owns the xterm instance, its addons, the write queue, resizing and disposal;
 * React only hands it a container element and calls its methods.
 */
import { Terminal, type IDisposable } from '@xterm/xterm';
import { SearchAddon, type ISearchOptions } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { MONO_FONT_FAMILY } from '../../shared/fonts.js';
import { SEARCH_COLORS, TERMINAL_THEMES, type ThemeName } from '../theme.js';
import { blockHostileSequences } from './hostileOutput.js';

/** Lines kept above the screen; enough for a long agent session without unbounded memory. */
const SCROLLBACK_LINES = 20_000;
/** The font size a terminal starts at, before its pane fits it (fitTerminal.ts). */
const INITIAL_FONT_SIZE = 13;

/** The search addon stops decorating past this many matches; the count is still exact up to it. */
const SEARCH_HIGHLIGHT_LIMIT = 2000;

export interface SearchQuery {
  term: string;
  regex: boolean;
  caseSensitive: boolean;
  wholeWord: boolean;
}

export interface SearchResult {
  /** 0-based index of the active match, or -1 when there is none (or too many to index). */
  index: number;
  count: number;
}

export interface TerminalControllerOptions {
  theme: ThemeName;
  cols: number;
  rows: number;
  /** Called when the user activates an OSC 8 link; the caller decides whether to open it. */
  onLink: (uri: string) => void;
  onSearchResult: (result: SearchResult) => void;
  /** Called when the terminal size changes (recorded resize entries). */
  onResize?: (cols: number, rows: number) => void;
}

/**
 * What the write queue holds, in stream order. Resizes and after-parse callbacks must happen exactly
 * between the bytes around them, so they go through xterm's write queue as callbacks, not directly.
 */
type QueuedOp =
  | { kind: 'text'; text: string }
  | { kind: 'resize'; cols: number; rows: number }
  | { kind: 'parsed'; callback: () => void };

/**
 * Terminal bytes handed to xterm per animation frame, over all panes. xterm parses what it is
 * given in tasks of its own, and every pane that changed is redrawn: with 20 busy panes, giving
 * each everything it has every frame let parsing and redrawing take the whole main thread (2 fps
 * in `bench panes`). Panes take turns within this budget instead, oldest first; what does not fit
 * waits for the next frame, and since the live feed is acknowledged only once parsed, the backend
 * holds back what a pane cannot take yet (SPEC §7).
 */
export const MAX_BYTES_PER_FRAME = 64 * 1024;

/** Controllers with queued bytes, in the order they queued them (a Set keeps insertion order). */
const waitingForFrame = new Set<TerminalController>();
let frame = 0;

function scheduleFrame(): void {
  if (frame === 0 && waitingForFrame.size > 0) frame = requestAnimationFrame(runFrame);
}

function runFrame(): void {
  frame = 0;
  let budget = MAX_BYTES_PER_FRAME;
  for (const controller of [...waitingForFrame]) {
    if (budget <= 0) break;
    waitingForFrame.delete(controller);
    budget -= controller.flush(budget);
    if (controller.hasQueued()) waitingForFrame.add(controller); // back of the line
  }
  scheduleFrame();
}

export class TerminalController {
  private readonly terminal: Terminal;
  private readonly search = new SearchAddon({ highlightLimit: SEARCH_HIGHLIGHT_LIMIT });
  private readonly disposables: IDisposable[] = [];
  private queue: QueuedOp[] = [];
  private theme: ThemeName;
  private lastQuery: SearchQuery | null = null;
  private disposed = false;

  constructor(private readonly options: TerminalControllerOptions) {
    this.theme = options.theme;
    this.terminal = new Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: SCROLLBACK_LINES,
      theme: TERMINAL_THEMES[options.theme],
      fontFamily: MONO_FONT_FAMILY,
      fontSize: INITIAL_FONT_SIZE,
      lineHeight: 1.1,
      // Output only: keystrokes are never sent to the agent, and onData is never wired (E3).
      disableStdin: true,
      cursorBlink: false,
      cursorInactiveStyle: 'none',
      allowProposedApi: true, // the unicode and search-decoration APIs are still "proposed"
      linkHandler: {
        activate: (_event, uri) => this.options.onLink(uri),
        allowNonHttpProtocols: true, // we judge every scheme ourselves, to tell the user why it was refused
      },
    });
    this.terminal.loadAddon(this.search);
    this.terminal.loadAddon(new Unicode11Addon());
    this.terminal.unicode.activeVersion = '11';
    this.disposables.push(...blockHostileSequences(this.terminal));
    this.disposables.push(
      this.search.onDidChangeResults((e) => this.options.onSearchResult({ index: e.resultIndex, count: e.resultCount })),
    );
  }

  /**
   * Puts the terminal into `container`. It renders with xterm's DOM renderer: the WebGL addon
   * (0.19) draws at the wrong scale after a font-size change and at device scale factors above 1
   * (its canvas and GL viewport disagree: xtermjs/xterm.js#6115), which showed a quarter of the
   * terminal or hid its last rows. The DOM renderer is exact at every scale.
   */
  open(container: HTMLElement): void {
    this.terminal.open(container);
  }

  /** The element holding the rendered rows (its size follows the font size). */
  get screenElement(): HTMLElement | null {
    return this.terminal.element?.querySelector<HTMLElement>('.xterm-screen') ?? null;
  }

  /** Queues terminal bytes; they reach xterm on this pane's next turn in an animation frame. */
  write(text: string): void {
    if (text.length > 0) this.enqueue({ kind: 'text', text });
  }

  /** Queues a resize to the recorded size, applied between the bytes written before and after it. */
  resizeInStream(cols: number, rows: number): void {
    this.enqueue({ kind: 'resize', cols, rows });
  }

  /** Calls back once everything queued so far has been parsed (the live feed acks then). */
  afterParsed(callback: () => void): void {
    this.enqueue({ kind: 'parsed', callback });
  }

  private enqueue(op: QueuedOp): void {
    if (this.disposed) return;
    this.queue.push(op);
    waitingForFrame.add(this);
    scheduleFrame();
  }

  /**
   * Hands queued bytes to xterm, in order, up to about `budget` of them (called by the frame
   * scheduler on this pane's turn); returns how many it handed over.
   */
  flush(budget: number): number {
    if (this.disposed) return 0;
    let used = 0;
    let text = '';
    const writeText = () => {
      if (text.length > 0) this.terminal.write(text);
      text = '';
    };
    while (this.queue.length > 0 && used < budget) {
      const op = this.queue[0];
      if (op.kind === 'text') {
        const room = budget - used;
        if (op.text.length <= room) {
          text += op.text;
          used += op.text.length;
          this.queue.shift();
        } else {
          // xterm takes a sequence split across writes; keep the rest for the next turn.
          text += op.text.slice(0, room);
          op.text = op.text.slice(room);
          used = budget;
        }
        continue;
      }
      writeText();
      this.queue.shift();
      if (op.kind === 'resize') this.terminal.write('', () => this.resize(op.cols, op.rows));
      else this.terminal.write('', op.callback);
    }
    writeText();
    return used;
  }

  hasQueued(): boolean {
    return this.queue.length > 0;
  }

  /** Clears screen and scrollback, e.g. before loading a run from another point. */
  reset(): void {
    this.queue = [];
    this.terminal.reset();
  }

  /** Follows the agent's recorded size; the view scales the result to fit. */
  resize(cols: number, rows: number): void {
    if (cols === this.terminal.cols && rows === this.terminal.rows) return;
    this.terminal.resize(cols, rows);
    this.options.onResize?.(cols, rows);
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.terminal.cols, rows: this.terminal.rows };
  }

  /** The rendered size in CSS pixels, before any scaling the view applies. */
  measure(): { width: number; height: number } {
    const screen = this.screenElement;
    return { width: screen?.offsetWidth ?? 0, height: screen?.offsetHeight ?? 0 };
  }

  /** The cursor's row on the screen (0-based): where a program's newest output usually is. */
  get cursorRow(): number {
    return this.terminal.buffer.active.cursorY;
  }

  onCursorMove(listener: () => void): IDisposable {
    return this.terminal.onCursorMove(listener);
  }

  get fontSize(): number {
    return this.terminal.options.fontSize ?? INITIAL_FONT_SIZE;
  }

  /** Changes the glyph size only: cols and rows stay as recorded, so nothing re-wraps. */
  setFontSize(size: number): void {
    this.terminal.options.fontSize = size;
  }

  setTheme(theme: ThemeName): void {
    this.theme = theme;
    this.terminal.options.theme = TERMINAL_THEMES[theme];
    if (this.lastQuery) {
      this.search.clearDecorations(); // re-highlight in the new theme's colours
      this.find(this.lastQuery, 'next');
    }
  }

  /** Finds the next or previous match, highlighting all of them. Returns false when there is none. */
  find(query: SearchQuery, direction: 'next' | 'previous'): boolean {
    const previous = this.lastQuery;
    this.lastQuery = { ...query };
    // The addon records the new options before comparing them with the old ones, so it never
    // notices a toggled option; dropping its cached term makes it highlight afresh.
    if (previous && (previous.regex !== query.regex || previous.caseSensitive !== query.caseSensitive || previous.wholeWord !== query.wholeWord)) {
      this.search.clearDecorations();
    }
    if (query.term === '') {
      this.clearSearch();
      return false;
    }
    const colors = SEARCH_COLORS[this.theme];
    const options: ISearchOptions = {
      regex: query.regex,
      caseSensitive: query.caseSensitive,
      wholeWord: query.wholeWord,
      decorations: {
        matchBackground: colors.match,
        activeMatchBackground: colors.active,
        matchOverviewRuler: colors.ruler,
        activeMatchColorOverviewRuler: colors.activeRuler,
      },
    };
    try {
      return direction === 'next' ? this.search.findNext(query.term, options) : this.search.findPrevious(query.term, options);
    } catch {
      // An invalid regex while the user is still typing it.
      this.options.onSearchResult({ index: -1, count: 0 });
      return false;
    }
  }

  clearSearch(): void {
    this.lastQuery = null;
    this.search.clearDecorations();
    this.terminal.clearSelection();
    this.options.onSearchResult({ index: -1, count: 0 });
  }

  scrollToBottom(): void {
    this.terminal.scrollToBottom();
  }

  /** The text of the lines on screen (or the whole buffer), for tests and bug reports. */
  text(scope: 'screen' | 'all'): string {
    const buffer = this.terminal.buffer.active;
    const start = scope === 'screen' ? buffer.viewportY : 0;
    const end = scope === 'screen' ? buffer.viewportY + this.terminal.rows : buffer.length;
    const lines: string[] = [];
    for (let y = start; y < end; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    waitingForFrame.delete(this);
    for (const d of this.disposables) d.dispose();
    this.terminal.dispose();
  }
}
