/**
 * Finding the text a terminal would show, with a map back to the raw bytes.
 *
 * Redaction looks for secrets in what a person would read (so `\x1b[31mAKIA…\x1b[0m` is caught,
 * and a color change in the middle of a token does not hide it), then edits only those visible
 * characters, so the escape sequences around and inside a secret come out intact.
 */

const ESC = 0x1b;
const BEL = 0x07;
/** The 8-bit string terminator (C1 ST), the one-character form of `ESC \`. */
const C1_ST = 0x9c;
const C1_CSI = 0x9b;

/** Where a string-terminated sequence (OSC, DCS, SOS, PM, APC) starts, by its second byte. */
const STRING_SEQUENCE_INTRODUCERS = new Set([0x5d /* ] OSC */, 0x50 /* P DCS */, 0x58 /* X SOS */, 0x5e /* ^ PM */, 0x5f /* _ APC */]);
/** Their 8-bit (C1) forms, one character each: OSC, DCS, SOS, PM, APC (RELIABILITY E7). */
const C1_STRING_INTRODUCERS = new Set([0x9d, 0x90, 0x98, 0x9e, 0x9f]);

/** ESC, or any C1 control (U+0080-U+009F): where an escape sequence or a control starts. */
// eslint-disable-next-line no-control-regex
const ESCAPE_START = /[\x1b\x80-\x9f]/g;

/** The index of the next escape (7-bit ESC or an 8-bit C1 control) at or after `from`, or -1. */
export function nextEscape(text: string, from: number): number {
  ESCAPE_START.lastIndex = from;
  return ESCAPE_START.exec(text)?.index ?? -1;
}

/**
 * The length of the escape sequence starting at `start` (which holds ESC), or -1 when the text
 * ends before the sequence does (an escape split across chunks).
 */
export function escapeLength(text: string, start: number): number {
  const n = text.length;
  const first = text.charCodeAt(start);
  if (first !== ESC) return c1Length(text, start, first);
  if (start + 1 >= n) return -1;
  const second = text.charCodeAt(start + 1);
  if (second === 0x5b /* [ CSI */) {
    for (let i = start + 2; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x40 && c <= 0x7e) return i - start + 1; // final byte
      if (c < 0x20 || c > 0x7e) return i - start; // malformed: stop before the stray byte
    }
    return -1;
  }
  if (STRING_SEQUENCE_INTRODUCERS.has(second)) {
    for (let i = start + 2; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === BEL) return i - start + 1;
      if (c === ESC) {
        if (i + 1 >= n) return -1;
        return text.charCodeAt(i + 1) === 0x5c /* \ */ ? i - start + 2 : i - start;
      }
    }
    return -1;
  }
  // nF sequences (ESC, intermediates 0x20-0x2f, final byte) such as charset selection `ESC ( B`.
  let i = start + 1;
  while (i < n && text.charCodeAt(i) >= 0x20 && text.charCodeAt(i) <= 0x2f) i++;
  if (i >= n) return -1;
  return i - start + 1;
}

/** The length of a sequence that starts with a C1 control, read like its 7-bit form. */
function c1Length(text: string, start: number, first: number): number {
  const n = text.length;
  if (first === C1_CSI) {
    for (let i = start + 1; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x40 && c <= 0x7e) return i - start + 1;
      if (c < 0x20 || c > 0x7e) return i - start;
    }
    return -1;
  }
  if (C1_STRING_INTRODUCERS.has(first)) {
    for (let i = start + 1; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === BEL || c === C1_ST) return i - start + 1;
      if (c === ESC) {
        if (i + 1 >= n) return -1;
        return text.charCodeAt(i + 1) === 0x5c ? i - start + 2 : i - start;
      }
    }
    return -1;
  }
  return 1; // any other C1 control stands alone
}

/** The visible characters of `text`, and a way back to where each one is in `text`. */
export interface VisibleText {
  visible: string;
  /** The index in the raw text of `visible[i]`. */
  rawIndex(i: number): number;
}

const IDENTITY = (i: number) => i;

/**
 * Removes escape sequences. An unfinished sequence at the very end is removed too (the caller
 * joins chunks first, so this only happens at the true end of a stream). Works run by run
 * (between escapes) rather than character by character: it runs on every line of an export.
 */
export function visibleText(text: string): VisibleText {
  let esc = nextEscape(text, 0);
  if (esc === -1) return { visible: text, rawIndex: IDENTITY };
  let visible = '';
  let pos = 0;
  while (pos < text.length) {
    const end = esc === -1 ? text.length : esc;
    visible += text.slice(pos, end);
    if (esc === -1) break;
    const len = escapeLength(text, esc);
    pos = len < 0 ? text.length : esc + Math.max(len, 1);
    esc = nextEscape(text, pos);
  }
  // The map back is built only when asked for: almost no line holds a secret.
  let runs: { raw: number[]; visible: number[] } | null = null;
  return {
    visible,
    rawIndex(i) {
      runs ??= visibleRuns(text);
      let lo = 0;
      let hi = runs.visible.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (runs.visible[mid] <= i) lo = mid;
        else hi = mid - 1;
      }
      return runs.raw[lo] + (i - runs.visible[lo]);
    },
  };
}

/** Where each run of visible text (between escape sequences) starts, in the raw and the visible text. */
function visibleRuns(text: string): { raw: number[]; visible: number[] } {
  const raw: number[] = [];
  const visible: number[] = [];
  let visibleLength = 0;
  let pos = 0;
  let esc = nextEscape(text, 0);
  while (pos < text.length) {
    const end = esc === -1 ? text.length : esc;
    if (end > pos) {
      raw.push(pos);
      visible.push(visibleLength);
      visibleLength += end - pos;
    }
    if (esc === -1) break;
    const len = escapeLength(text, esc);
    pos = len < 0 ? text.length : esc + Math.max(len, 1);
    esc = nextEscape(text, pos);
  }
  return { raw, visible };
}

/**
 * The length of the part of `text` that holds only complete escape sequences: everything
 * except an escape sequence cut off at the end (which the next chunk completes).
 */
export function completePrefixLength(text: string): number {
  // Escape sequences are short; an OSC longer than this window is cut off as if complete.
  let i = nextEscape(text, Math.max(0, text.length - UNFINISHED_ESCAPE_WINDOW));
  while (i !== -1) {
    const len = escapeLength(text, i);
    if (len < 0) return i;
    i = nextEscape(text, i + Math.max(len, 1));
  }
  return text.length;
}

/** How far back from the end of a chunk an unfinished escape sequence is looked for. */
const UNFINISHED_ESCAPE_WINDOW = 4096;
