/**
 * Terminal output to static HTML: SGR colors (16, 256 and true color) and attributes become
 * spans, a carriage return overwrites the line the way a terminal does (so a progress bar shows
 * its final state, not every frame), and every character is HTML-escaped. Cursor movement other
 * than within a line, OSC (titles, links, clipboard) and other sequences are dropped: the result
 * is a readable transcript, and nothing in it can be a link or a script.
 */
import { escapeLength } from '../redact/terminalEscapes.js';

/** The 16 ANSI colors (VS Code's dark theme palette, readable on the page background). */
export const ANSI_PALETTE = [
  '#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5',
  '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff',
];

/** Text style from SGR; colors are CSS color strings, null for the default. */
interface Style {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
  hidden: boolean;
}

const PLAIN: Style = Object.freeze({
  fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false, hidden: false,
});

/** One run of characters in one style. */
interface Segment {
  text: string;
  style: Style;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** C0 controls other than tab have no place in a transcript (BEL, NUL, SO/SI...). */
const DROPPED_CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/g;

function color256(n: number): string {
  if (n < 16) return ANSI_PALETTE[n];
  if (n < 232) {
    const i = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return rgb(level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6));
  }
  const gray = 8 + (n - 232) * 10;
  return rgb(gray, gray, gray);
}

function rgb(r: number, g: number, b: number): string {
  const hex = (v: number) => Math.max(0, Math.min(255, v | 0)).toString(16).padStart(2, '0');
  return `#${hex(r)}${hex(g)}${hex(b)}`;
}

/** Applies SGR parameters (`1;31`, `38;5;208`, `38;2;r;g;b`, `38:2::r:g:b`) to a style. */
export function applySgr(style: Style, params: string): Style {
  const s = { ...style };
  const parts = params === '' ? ['0'] : params.split(';');
  for (let i = 0; i < parts.length; i++) {
    const sub = parts[i].split(':');
    const code = Number(sub[0] || '0');
    if (code === 38 || code === 48) {
      let color: string | null = null;
      if (sub.length > 1) {
        // Colon form: 38:5:n or 38:2:[colorspace:]r:g:b
        const nums = sub.slice(1).map((v) => Number(v || '0'));
        if (nums[0] === 5) color = color256(nums[1] ?? 0);
        else if (nums[0] === 2) color = nums.length >= 5 ? rgb(nums[2], nums[3], nums[4]) : rgb(nums[1], nums[2], nums[3]);
      } else if (parts[i + 1] === '5') {
        color = color256(Number(parts[i + 2] ?? 0));
        i += 2;
      } else if (parts[i + 1] === '2') {
        color = rgb(Number(parts[i + 2] ?? 0), Number(parts[i + 3] ?? 0), Number(parts[i + 4] ?? 0));
        i += 4;
      }
      if (code === 38) s.fg = color;
      else s.bg = color;
      continue;
    }
    if (code === 0) Object.assign(s, PLAIN);
    else if (code === 1) s.bold = true;
    else if (code === 2) s.dim = true;
    else if (code === 3) s.italic = true;
    else if (code === 4) s.underline = sub[1] !== '0';
    else if (code === 7) s.inverse = true;
    else if (code === 8) s.hidden = true;
    else if (code === 9) s.strike = true;
    else if (code === 21 || code === 22) {
      s.bold = false;
      s.dim = false;
    } else if (code === 23) s.italic = false;
    else if (code === 24) s.underline = false;
    else if (code === 27) s.inverse = false;
    else if (code === 28) s.hidden = false;
    else if (code === 29) s.strike = false;
    else if (code >= 30 && code <= 37) s.fg = ANSI_PALETTE[code - 30];
    else if (code === 39) s.fg = null;
    else if (code >= 40 && code <= 47) s.bg = ANSI_PALETTE[code - 40];
    else if (code === 49) s.bg = null;
    else if (code >= 90 && code <= 97) s.fg = ANSI_PALETTE[code - 90 + 8];
    else if (code >= 100 && code <= 107) s.bg = ANSI_PALETTE[code - 100 + 8];
  }
  return s;
}

function styleAttribute(style: Style): string {
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) [fg, bg] = [bg ?? 'var(--bg)', fg ?? 'var(--fg)'];
  const css: string[] = [];
  if (fg !== null) css.push(`color:${fg}`);
  if (bg !== null) css.push(`background:${bg}`);
  if (style.bold) css.push('font-weight:bold');
  if (style.dim) css.push('opacity:.6');
  if (style.italic) css.push('font-style:italic');
  const lines = [style.underline ? 'underline' : '', style.strike ? 'line-through' : ''].filter(Boolean);
  if (lines.length > 0) css.push(`text-decoration:${lines.join(' ')}`);
  if (style.hidden) css.push('visibility:hidden');
  return css.join(';');
}

/**
 * Converts a stream of terminal output to HTML lines. `write` returns the HTML of every line
 * completed so far; `end` returns the rest.
 */
export class AnsiHtmlConverter {
  private style: Style = PLAIN;
  private carry = '';
  /** The line being built: segments in the fast path, or cells once the cursor moved back. */
  private segments: Segment[] = [];
  private cells: { ch: string; style: Style }[] | null = null;
  private cursor = 0;

  write(text: string): string {
    const data = this.carry + text;
    this.carry = '';
    let html = '';
    let i = 0;
    let plainStart = 0;
    const flushPlain = (end: number) => {
      if (end > plainStart) this.put(data.slice(plainStart, end).replace(DROPPED_CONTROLS, ''));
    };
    while (i < data.length) {
      const c = data.charCodeAt(i);
      if (c !== 0x1b && c !== 0x0a && c !== 0x0d && c !== 0x08) {
        i++;
        continue;
      }
      flushPlain(i);
      if (c === 0x0a) {
        html += this.endLine();
        i++;
      } else if (c === 0x0d) {
        if (data.charCodeAt(i + 1) !== 0x0a) this.moveTo(0);
        i++;
      } else if (c === 0x08) {
        this.moveTo(Math.max(0, this.cursor - 1));
        i++;
      } else {
        const len = escapeLength(data, i);
        if (len < 0) {
          this.carry = data.slice(i);
          plainStart = i = data.length;
          break;
        }
        this.escape(data.slice(i, i + Math.max(len, 1)));
        i += Math.max(len, 1);
      }
      plainStart = i;
    }
    flushPlain(i);
    return html;
  }

  /** The HTML of the unfinished last line, if any. */
  end(): string {
    this.carry = '';
    const hasText = this.cells !== null ? this.cells.length > 0 : this.segments.length > 0;
    return hasText ? this.endLine() : '';
  }

  private escape(seq: string): void {
    if (seq[1] !== '[') return;
    const final = seq[seq.length - 1];
    const params = seq.slice(2, -1);
    if (final === 'm') {
      if (!/^[0-9;:]*$/.test(params)) return;
      this.style = applySgr(this.style, params);
    } else if (final === 'K') {
      this.eraseInLine(Number(params || '0'));
    } else if (final === 'G') {
      this.moveTo(Math.max(0, Number(params || '1') - 1));
    } else if (final === 'C') {
      this.moveTo(this.cursor + Math.max(1, Number(params || '1')));
    } else if (final === 'D') {
      this.moveTo(Math.max(0, this.cursor - Math.max(1, Number(params || '1'))));
    }
  }

  private put(text: string): void {
    if (text === '') return;
    if (this.cells === null) {
      const last = this.segments[this.segments.length - 1];
      if (last !== undefined && last.style === this.style) last.text += text;
      else this.segments.push({ text, style: this.style });
      this.cursor += text.length;
      return;
    }
    for (const ch of text) {
      const cell = { ch, style: this.style };
      if (this.cursor < this.cells.length) this.cells[this.cursor] = cell;
      else {
        while (this.cells.length < this.cursor) this.cells.push({ ch: ' ', style: PLAIN });
        this.cells.push(cell);
      }
      this.cursor++;
    }
  }

  /** Cursor movement within the line switches to cells, where characters can be overwritten. */
  private moveTo(column: number): void {
    if (this.cells === null) {
      this.cells = [];
      for (const seg of this.segments) for (const ch of seg.text) this.cells.push({ ch, style: seg.style });
      this.segments = [];
    }
    this.cursor = Math.min(column, 100_000);
  }

  private eraseInLine(mode: number): void {
    this.moveTo(this.cursor);
    const cells = this.cells!;
    if (mode === 0) cells.length = Math.min(cells.length, this.cursor);
    else if (mode === 1) for (let x = 0; x <= this.cursor && x < cells.length; x++) cells[x] = { ch: ' ', style: PLAIN };
    else if (mode === 2) cells.length = 0;
  }

  private endLine(): string {
    let segments = this.segments;
    if (this.cells !== null) {
      segments = [];
      for (const cell of this.cells) {
        const last = segments[segments.length - 1];
        if (last !== undefined && last.style === cell.style) last.text += cell.ch;
        else segments.push({ text: cell.ch, style: cell.style });
      }
    }
    let html = '';
    for (const seg of segments) {
      const css = styleAttribute(seg.style);
      html += css === '' ? escapeHtml(seg.text) : `<span style="${css}">${escapeHtml(seg.text)}</span>`;
    }
    this.segments = [];
    this.cells = null;
    this.cursor = 0;
    return html + '\n';
  }
}
