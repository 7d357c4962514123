/**
 * A sound check that a user pattern is safe to run on V8's backtracking engine, plus its
 * translation into an equivalent native pattern (`u` flag).
 *
 * re2js is linear but 3-25x slower than V8 on typical log lines, and `loupe tail --grep` or a
 * filtered pane runs a pattern over every line. So the common simple patterns (`Traceback`,
 * `error|warn`, `id=\d\d`) run natively, and everything else falls back to re2js.
 *
 * Accepted subset: a top-level alternation of sequences of literal characters, escaped
 * punctuation, `.`, `^`, `$`, `\d \D \w \W \s \S \b \B` and simple character classes. No groups,
 * no quantifiers, no backreferences or lookaround. Such a pattern tries each branch once per
 * start position, so matching costs O(pattern length × text length): it cannot backtrack
 * catastrophically. Where the two engines define a construct differently (`.` and `\s`), the
 * translation spells out RE2's meaning.
 */

/** RE2's `\s` (ASCII only; V8's `\s` also matches Unicode spaces). */
const RE2_SPACE_CHARS = '\\t\\n\\f\\r ';

/** Escapes with the same meaning in both engines on case-sensitive patterns. */
const SHARED_CLASS_ESCAPES = new Set(['d', 'D', 'w', 'W', 'b', 'B']);

/** Control-character escapes that RE2 accepts, by letter. */
const CONTROL_ESCAPES: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, v: 0x0b, a: 0x07 };

/** Characters that have a meaning outside a class, in either engine. */
const SPECIAL = new Set([...'\\^$.|?*+()[]{}']);

function hexEscape(code: number): string {
  return `\\u{${code.toString(16)}}`;
}

function isAsciiPunctuation(ch: string): boolean {
  return /^[!-/:-@[-`{-~]$/.test(ch);
}

/**
 * Returns a native pattern (for `new RegExp(result, 'u' + (ignoreCase ? 'i' : ''))`) that matches
 * exactly what RE2 matches for `pattern`, or null when the pattern is outside the safe subset.
 */
export function translateToSafeNative(pattern: string, ignoreCase: boolean): string | null {
  // Case folding of non-ASCII letters and of \w/\b differs in corner cases between the engines.
  if (ignoreCase && /[^\x20-\x7e]/.test(pattern)) return null;
  let out = '';
  let i = 0;
  const chars = [...pattern]; // by code point, as both engines read a `u` pattern
  while (i < chars.length) {
    const ch = chars[i];
    if (ch === '|' || ch === '^' || ch === '$') {
      out += ch;
      i++;
    } else if (ch === '.') {
      out += '[^\\n]'; // RE2's `.` excludes only \n; V8's also excludes \r and U+2028/2029
      i++;
    } else if (ch === '\\') {
      const escaped = translateEscape(chars[i + 1], ignoreCase, false);
      if (escaped === null) return null;
      out += escaped;
      i += 2;
    } else if (ch === '[') {
      const end = translateClass(chars, i + 1, ignoreCase);
      if (end === null) return null;
      out += end.text;
      i = end.next;
    } else if (SPECIAL.has(ch)) {
      return null; // a group or a quantifier
    } else {
      out += hexEscape(ch.codePointAt(0)!);
      i++;
    }
  }
  return out;
}

function translateEscape(next: string | undefined, ignoreCase: boolean, inClass: boolean): string | null {
  if (next === undefined) return null;
  if (SHARED_CLASS_ESCAPES.has(next)) {
    if (ignoreCase) return null;
    if (inClass && next !== 'd' && next !== 'w') return null; // \b means backspace in a class
    return `\\${next}`;
  }
  if (next === 's') return inClass ? RE2_SPACE_CHARS : `[${RE2_SPACE_CHARS}]`;
  if (next === 'S') return inClass ? null : `[^${RE2_SPACE_CHARS}]`;
  if (next in CONTROL_ESCAPES) return hexEscape(CONTROL_ESCAPES[next]);
  if (isAsciiPunctuation(next)) return hexEscape(next.codePointAt(0)!);
  return null; // \x, \p, \Q, \z, \A, \1 ...: leave them to RE2
}

/** Translates a class body starting at `start` (just after `[`); null when outside the subset. */
function translateClass(
  chars: string[],
  start: number,
  ignoreCase: boolean,
): { text: string; next: number } | null {
  let i = start;
  let out = '[';
  if (chars[i] === '^') {
    out += '^';
    i++;
  }
  // `[]a]` and `[[:alpha:]]` mean different things in the two engines.
  if (chars[i] === ']') return null;
  let items = 0;
  while (i < chars.length && chars[i] !== ']') {
    const ch = chars[i];
    let single: string | null;
    let isRangeEnd = false;
    if (ch === '[') return null;
    if (ch === '\\') {
      const e = translateEscape(chars[i + 1], ignoreCase, true);
      if (e === null) return null;
      single = e;
      isRangeEnd = e.startsWith('\\u{');
      i += 2;
    } else {
      single = hexEscape(ch.codePointAt(0)!);
      isRangeEnd = true;
      i++;
    }
    if (chars[i] === '-' && chars[i + 1] !== undefined && chars[i + 1] !== ']') {
      // A range: both ends must be single characters.
      if (!isRangeEnd) return null;
      const hi = chars[i + 1];
      if (hi === '[') return null;
      let hiText: string;
      if (hi === '\\') {
        const e = translateEscape(chars[i + 2], ignoreCase, true);
        if (e === null || !e.startsWith('\\u{')) return null;
        hiText = e;
        i += 3;
      } else {
        hiText = hexEscape(hi.codePointAt(0)!);
        i += 2;
      }
      out += `${single}-${hiText}`;
    } else {
      out += single;
    }
    items++;
  }
  if (i >= chars.length || items === 0) return null;
  return { text: out + ']', next: i + 1 };
}
