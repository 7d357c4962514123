/**
 * Terminal-state keyframes: turning an xterm.js terminal into a string that, written into a fresh
 * terminal of the same size, rebuilds the same state, and comparing two terminals' states.
 *
 * Pure and browser-safe: it works on any xterm.js 6 terminal (`@xterm/headless` in Node,
 * `@xterm/xterm` in the renderer) through the structural types below, so the replay core and the
 * replay pane restore keyframes the same way.
 *
 * The serialize addon rebuilds the buffers, the cursor, the current colors and most modes, but it
 * misses state that changes what later output does (the known pitfall): the scroll region, the
 * cursor saved by DECSC, the character set (line drawing), origin mode's effect on the cursor,
 * the pending wrap at the last column, cursor visibility and style, and the mouse encoding.
 * `serializeTerminalState` appends those, read from xterm's internals (the serialize addon itself
 * reads `_core` the same way), so the delta written after a keyframe lands exactly where it did.
 */

/** The parts of an xterm.js buffer cell this module reads (IBufferCell). */
export interface CellLike {
  getChars(): string;
  getWidth(): number;
  getFgColorMode(): number;
  getFgColor(): number;
  getBgColorMode(): number;
  getBgColor(): number;
  isBold(): number;
  isItalic(): number;
  isDim(): number;
  isUnderline(): number;
  isBlink(): number;
  isInverse(): number;
  isInvisible(): number;
  isStrikethrough(): number;
  isOverline(): number;
}

/** Attribute data (the pen): the same color and flag accessors as a cell, without the characters. */
export type AttributesLike = Omit<CellLike, 'getChars' | 'getWidth'> & {
  isFgRGB(): boolean;
  isFgPalette(): boolean;
  isBgRGB(): boolean;
  isBgPalette(): boolean;
};

export interface LineLike {
  readonly isWrapped: boolean;
  readonly length: number;
  getCell(x: number, cell?: CellLike): CellLike | undefined;
  translateToString(trimRight?: boolean, startColumn?: number, endColumn?: number): string;
}

export interface BufferLike {
  readonly type: 'normal' | 'alternate';
  readonly cursorX: number;
  readonly cursorY: number;
  readonly baseY: number;
  readonly length: number;
  getLine(y: number): LineLike | undefined;
  getNullCell(): CellLike;
}

/** The public surface of an xterm.js 6 Terminal that this module uses. */
export interface TerminalLike {
  readonly cols: number;
  readonly rows: number;
  readonly buffer: { readonly active: BufferLike; readonly normal: BufferLike; readonly alternate: BufferLike };
  readonly modes: {
    applicationCursorKeysMode: boolean;
    applicationKeypadMode: boolean;
    bracketedPasteMode: boolean;
    insertMode: boolean;
    mouseTrackingMode: string;
    originMode: boolean;
    reverseWraparoundMode: boolean;
    sendFocusMode: boolean;
    wraparoundMode: boolean;
  };
  write(data: string, callback?: () => void): void;
  resize(cols: number, rows: number): void;
}

/** The serialize addon's one method we use (`SerializeAddon` from @xterm/addon-serialize). */
export interface SerializerLike {
  serialize(options?: { scrollback?: number; excludeModes?: boolean; excludeAltBuffer?: boolean }): string;
}

/** An xterm buffer's internal state (per buffer: the normal and the alternate screen each have one). */
interface BufferInternals {
  x: number;
  y: number;
  scrollTop: number;
  scrollBottom: number;
  savedX: number;
  savedY: number;
  savedCurAttrData: AttributesLike;
  savedCharset: Record<string, string> | undefined;
}

/** xterm internals read here; when they are missing only the serialize addon's output is used. */
interface CoreInternals {
  buffer: BufferInternals;
  _bufferService: { buffers: { _normal: BufferInternals; _alt: BufferInternals } };
  coreService: {
    isCursorHidden: boolean;
    decPrivateModes: { cursorStyle?: 'block' | 'underline' | 'bar'; cursorBlink?: boolean };
  };
  coreMouseService: { activeEncoding: string };
  _charsetService: { glevel: number; charset: Record<string, string> | undefined; _charsets: (Record<string, string> | undefined)[] };
  _inputHandler: {
    _curAttrData: AttributesLike;
    _parser: { currentState: number };
    _stringDecoder: { _interim: number };
  };
}

function internals(term: TerminalLike): CoreInternals | undefined {
  const core = (term as unknown as { _core?: CoreInternals })._core;
  return core?._bufferService?.buffers?._normal !== undefined ? core : undefined;
}

/** xterm's parser state when it is between sequences (ParserState.GROUND). */
const PARSER_GROUND = 0;

/**
 * Whether the terminal can be keyframed now: its parser is not in the middle of an escape
 * sequence or a UTF-16 surrogate pair. A chunk of output can end anywhere (a flush on idle or at
 * the chunk size limit), and half a sequence cannot be serialized.
 */
export function canKeyframe(term: TerminalLike): boolean {
  const core = internals(term);
  if (core === undefined) return true;
  return core._inputHandler._parser.currentState === PARSER_GROUND && !core._inputHandler._stringDecoder._interim;
}

/** Writes `data` and resolves once xterm has parsed it (writes are asynchronous). */
export function writeToTerminal(term: TerminalLike, data: string): Promise<void> {
  return new Promise((resolve) => term.write(data, resolve));
}

/**
 * The terminal's full state as a string of escape sequences: the serialize addon's output
 * (scrollback, screen, alternate screen, modes) plus the state it misses (see the file comment).
 * Restore it with `restoreTerminalState` into a terminal of the same cols × rows and scrollback.
 * `scrollback` limits the lines kept above the screen (all by default).
 */
export function serializeTerminalState(term: TerminalLike, serializer: SerializerLike, scrollback?: number): string {
  const core = internals(term);
  if (core === undefined) return serializer.serialize({ scrollback });
  // The addon writes the normal buffer, then `ESC[?1049h ESC[H` and the alternate buffer. 1049h
  // would overwrite the normal buffer's saved cursor, so the two parts are split and joined with
  // 1047h (switch without saving) after the normal buffer's own state.
  // The addon writes cursor moves of 0 (`ESC[0C`) meaning "stay", but a count of 0 moves by 1,
  // which leaves stray characters where it marks wrapped rows: drop them.
  const content = serializer.serialize({ excludeModes: true, scrollback }).replace(ZERO_CURSOR_MOVE, '');
  const altActive = term.buffer.active.type === 'alternate';
  const marker = altActive ? content.lastIndexOf(ALT_SCREEN_MARKER) : -1;
  const normalPart = marker >= 0 ? content.slice(0, marker) : content;
  const buffers = core._bufferService.buffers;
  let out = normalPart + bufferTail(term, term.buffer.normal, buffers._normal);
  if (marker >= 0) {
    out += '\x1b[?1047h\x1b[H' + content.slice(marker + ALT_SCREEN_MARKER.length) + bufferTail(term, term.buffer.alternate, buffers._alt);
  }
  return out + globalTail(term, core, altActive ? buffers._alt : buffers._normal);
}

const ALT_SCREEN_MARKER = '\x1b[?1049h\x1b[H';
const ZERO_CURSOR_MOVE = /\x1b\[0[ABCD]/g;

/** Resizes `term` to `cols` × `rows` and writes a state made by `serializeTerminalState`. */
export async function restoreTerminalState(term: TerminalLike, cols: number, rows: number, state: string): Promise<void> {
  if (term.cols !== cols || term.rows !== rows) term.resize(cols, rows);
  await writeToTerminal(term, state);
}

/** SGR parameters that turn the default pen into `attr`. */
export function sgrParameters(attr: AttributesLike): string[] {
  const p: string[] = [];
  if (attr.isBold()) p.push('1');
  if (attr.isDim()) p.push('2');
  if (attr.isItalic()) p.push('3');
  if (attr.isUnderline()) p.push('4');
  if (attr.isBlink()) p.push('5');
  if (attr.isInverse()) p.push('7');
  if (attr.isInvisible()) p.push('8');
  if (attr.isStrikethrough()) p.push('9');
  if (attr.isOverline()) p.push('53');
  p.push(...colorParameters(attr.getFgColorMode(), attr.getFgColor(), 30, 90, 38));
  p.push(...colorParameters(attr.getBgColorMode(), attr.getBgColor(), 40, 100, 48));
  return p;
}

/** xterm's color modes (Attributes.CM_*): the mode bits of fg/bg. */
const COLOR_MODE_P16 = 0x1000000;
const COLOR_MODE_P256 = 0x2000000;
const COLOR_MODE_RGB = 0x3000000;

function colorParameters(mode: number, color: number, base: number, brightBase: number, extended: number): string[] {
  switch (mode) {
    case COLOR_MODE_P16:
      return [String(color < 8 ? base + color : brightBase + color - 8)];
    case COLOR_MODE_P256:
      return [`${extended};5;${color}`];
    case COLOR_MODE_RGB:
      return [`${extended};2;${(color >> 16) & 0xff};${(color >> 8) & 0xff};${color & 0xff}`];
    default:
      return [];
  }
}

function sgr(attr: AttributesLike): string {
  const p = sgrParameters(attr);
  return p.length === 0 ? '\x1b[0m' : `\x1b[0;${p.join(';')}m`;
}

/** The designator of a character set table, as ESC ( <designator> selects it. */
function charsetDesignator(charset: Record<string, string> | undefined): string {
  if (charset === undefined || charset === null) return 'B';
  if (charset['q'] === '─') return '0'; // DEC special graphics (line drawing)
  if (charset['#'] === '£') return 'A'; // UK
  return 'B';
}

const CURSOR_STYLE_CODES: Record<string, number> = { block: 2, underline: 4, bar: 6 };
const MOUSE_TRACKING_MODES: Record<string, string> = { x10: '\x1b[?9h', vt200: '\x1b[?1000h', drag: '\x1b[?1002h', any: '\x1b[?1003h' };
const MOUSE_ENCODING_MODES: Record<string, string> = { SGR: '\x1b[?1006h', SGR_PIXELS: '\x1b[?1016h', URXVT: '\x1b[?1015h', UTF8: '\x1b[?1005h' };

/**
 * A buffer's own state: blank cells with a background color, scroll region, saved cursor and
 * cursor position (origin mode off).
 */
function bufferTail(term: TerminalLike, buffer: BufferLike, b: BufferInternals): string {
  let out = '\x1b[?6l' + blankBackgrounds(term, buffer);
  // DECSTBM homes the cursor, which is placed again below.
  out += `\x1b[${b.scrollTop + 1};${b.scrollBottom + 1}r`;
  // The cursor saved by DECSC (position, pen, character set), saved again with the same values.
  // savedY counts from the top of the scrollback; DECRC subtracts the scrollback length again.
  out += `\x1b[${Math.max(b.savedY - buffer.baseY, 0) + 1};${b.savedX + 1}H`;
  out += sgr(b.savedCurAttrData);
  out += `\x1b(${charsetDesignator(b.savedCharset)}\x0f\x1b7`;
  out += `\x1b[${b.y + 1};${b.x + 1}H`;
  return out;
}

/**
 * Repaints runs of blank cells that have a background color (an erase with a colored pen, as
 * full-screen programs do). The addon drops such rows below the last written one.
 */
function blankBackgrounds(term: TerminalLike, buffer: BufferLike): string {
  let out = '';
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.baseY + y);
    if (line === undefined) continue;
    let x = 0;
    while (x < term.cols) {
      const cell = line.getCell(x);
      if (cell === undefined || cell.getChars() !== '' || cell.getWidth() !== 1 || cell.getBgColorMode() === 0) {
        x++;
        continue;
      }
      const key = cellKey(cell);
      let end = x + 1;
      for (; end < term.cols; end++) {
        const next = line.getCell(end);
        if (next === undefined || cellKey(next) !== key) break;
      }
      out += `\x1b[${y + 1};${x + 1}H${sgr(cell as unknown as AttributesLike)}\x1b[${end - x}X`;
      x = end;
    }
  }
  return out;
}

/** State shared by both buffers (character sets, modes, pen), then the active cursor exactly. */
function globalTail(term: TerminalLike, core: CoreInternals, b: BufferInternals): string {
  const charsets = core._charsetService;
  const m = term.modes;
  let out = '';
  out += `\x1b(${charsetDesignator(charsets._charsets[0])}\x1b)${charsetDesignator(charsets._charsets[1])}`;
  out += charsets.glevel === 1 ? '\x0e' : '\x0f';
  // After DECRC the table in use can differ from the designated one (DECRC restores the saved
  // table). Only DECRC can recreate that; it also moves the cursor, which is placed again below.
  const inUse = charsetDesignator(charsets.charset);
  if (inUse !== charsetDesignator(charsets._charsets[charsets.glevel])) out += '\x1b8';
  if (m.applicationCursorKeysMode) out += '\x1b[?1h';
  if (m.applicationKeypadMode) out += '\x1b[?66h';
  if (m.bracketedPasteMode) out += '\x1b[?2004h';
  if (m.reverseWraparoundMode) out += '\x1b[?45h';
  if (m.sendFocusMode) out += '\x1b[?1004h';
  if (!m.wraparoundMode) out += '\x1b[?7l';
  out += MOUSE_TRACKING_MODES[m.mouseTrackingMode] ?? '';
  out += MOUSE_ENCODING_MODES[core.coreMouseService.activeEncoding] ?? '';
  if (m.originMode) out += '\x1b[?6h'; // homes the cursor
  // The cursor. Past the last column means a wrap is pending: the next character goes to the next
  // line. Only printing into the last column sets that, so the last cell is printed again
  // (before insert mode is set, which would shift the row instead).
  // With origin mode on, the cursor can sit above the region, where no CUP can reach: clamp.
  const row = Math.max(b.y - (m.originMode ? b.scrollTop : 0), 0);
  if (b.x >= term.cols) {
    out += `\x1b[${row + 1};${term.cols}H`;
    const line = term.buffer.active.getLine(term.buffer.active.baseY + b.y);
    // The last column may hold the second half of a wide character: print that from its start.
    let cell = line?.getCell(term.cols - 1);
    if (cell !== undefined && cell.getWidth() === 0 && term.cols >= 2) {
      cell = line?.getCell(term.cols - 2);
      out += `\x1b[${row + 1};${term.cols - 1}H`;
    }
    const chars = cell?.getChars() || ' ';
    // A character the table in use would translate (line drawing) cannot be printed again as is.
    const translated = charsets.charset !== undefined && charsets.charset !== null && chars in charsets.charset;
    if (cell !== undefined && cell.getWidth() > 0 && !translated) out += sgr(cell as unknown as AttributesLike) + chars;
  } else {
    out += `\x1b[${row + 1};${b.x + 1}H`;
  }
  if (m.insertMode) out += '\x1b[4h';
  out += sgr(core._inputHandler._curAttrData);
  out += core.coreService.isCursorHidden ? '\x1b[?25l' : '\x1b[?25h';
  const style = core.coreService.decPrivateModes.cursorStyle;
  if (style !== undefined) {
    const blink = core.coreService.decPrivateModes.cursorBlink === true;
    out += `\x1b[${CURSOR_STYLE_CODES[style] - (blink ? 1 : 0)} q`;
  }
  return out;
}

/** A cell's look, as a short string: characters, width, colors and flags. */
function cellKey(cell: CellLike): string {
  // 256-color indexes below 16 are the same colors as the 16-color SGR codes the addon writes.
  let p = sgrParameters(cell as unknown as AttributesLike).map(normalizeColor);
  // An empty cell shows only its background (and inverse video); its other attributes are unseen.
  if (cell.getChars() === '' && cell.getWidth() === 1) p = p.filter((x) => x === '7' || /^(4\d|10\d|48;)/.test(x));
  return `${cell.getChars()}|${cell.getWidth()}|${p.join(';')}`;
}

function normalizeColor(param: string): string {
  const m = /^(38|48);5;(\d+)$/.exec(param);
  if (m === null || Number(m[2]) >= 16) return param;
  const n = Number(m[2]);
  const base = m[1] === '38' ? 30 : 40;
  return String(n < 8 ? base + n : base + 60 + n - 8);
}

/**
 * Everything about a terminal that decides what it shows now and what later output will do, as a
 * plain object that two terminals can be compared by (`expect(a).toEqual(b)`): both buffers' cells
 * and wrap flags, the cursor, the scroll region, the saved cursor, modes and the pen.
 */
export function snapshotTerminal(term: TerminalLike): Record<string, unknown> {
  const core = internals(term);
  const active = term.buffer.active;
  const dumpBuffer = (buffer: BufferLike) => {
    const lines: string[] = [];
    const cells: string[] = [];
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      if (line === undefined) continue;
      lines.push((line.isWrapped ? '\u21b5' : '') + line.translateToString(true));
      let keys = '';
      for (let x = 0; x < term.cols; x++) {
        const cell = line.getCell(x);
        if (cell !== undefined) keys += cellKey(cell) + ' ';
      }
      cells.push(keys);
    }
    return { lines, cells };
  };
  return {
    size: [term.cols, term.rows],
    activeBuffer: active.type,
    normal: dumpBuffer(term.buffer.normal),
    alternate: active.type === 'alternate' ? dumpBuffer(term.buffer.alternate) : null,
    cursor: core ? [core.buffer.x, core.buffer.y] : [active.cursorX, active.cursorY],
    modes: { ...term.modes },
    state:
      core === undefined
        ? null
        : {
            buffers: [
              [core._bufferService.buffers._normal, term.buffer.normal] as const,
              [core._bufferService.buffers._alt, term.buffer.alternate] as const,
            ]
              .map(([b, pub]) => ({
                cursor: [b.x, b.y],
                scrollRegion: [b.scrollTop, b.scrollBottom],
                // The row DECRC would return to (a saved row above the screen clamps to the top).
                saved: [b.savedX, Math.max(b.savedY - pub.baseY, 0), sgrParameters(b.savedCurAttrData).join(';'), charsetDesignator(b.savedCharset)],
              }))
              .slice(0, active.type === 'alternate' ? 2 : 1),
            pen: sgrParameters(core._inputHandler._curAttrData).join(';'),
            charsets: [core._charsetService.glevel, charsetDesignator(core._charsetService.charset), charsetDesignator(core._charsetService._charsets[0]), charsetDesignator(core._charsetService._charsets[1])],
            cursorHidden: core.coreService.isCursorHidden,
            mouseEncoding: core.coreMouseService.activeEncoding,
          },
  };
}

/** The visible screen as text: one line per row, trailing blanks trimmed (like `tmux capture-pane -p`). */
export function screenText(term: TerminalLike): string[] {
  const buffer = term.buffer.active;
  const rows: string[] = [];
  for (let y = 0; y < term.rows; y++) rows.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
  return rows;
}

/**
 * The visible screen with colors: one line per row, each cell's look as SGR sequences, every row
 * ending with a reset (like `tmux capture-pane -p -e`). Trailing default blanks are trimmed.
 */
export function screenAnsi(term: TerminalLike): string[] {
  const buffer = term.buffer.active;
  const rows: string[] = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.baseY + y);
    rows.push(line === undefined ? '' : lineAnsi(line, term.cols));
  }
  return rows;
}

/** One row with colors, as SGR sequences, ending with a reset; trailing default blanks trimmed. */
export function lineAnsi(line: LineLike, cols: number): string {
  let end = cols;
  while (end > 0) {
    const cell = line.getCell(end - 1);
    if (cell === undefined) break;
    const blank = cell.getChars() === '' || cell.getChars() === ' ';
    if (!blank || cell.getBgColorMode() !== 0 || cell.isInverse()) break;
    end--;
  }
  let out = '';
  let pen = '';
  for (let x = 0; x < end; x++) {
    const cell = line.getCell(x);
    if (cell === undefined || cell.getWidth() === 0) continue;
    const p = sgrParameters(cell as unknown as AttributesLike).join(';');
    if (p !== pen) {
      out += p === '' ? '\x1b[0m' : `\x1b[0;${p}m`;
      pen = p;
    }
    out += cell.getChars() || ' ';
  }
  if (pen !== '') out += '\x1b[0m';
  return out;
}
