/**
 * User regexes under a budget (SPEC §9, RELIABILITY E5).
 *
 * Every pattern a user types (`loupe tail --grep`, `loupe search --regex`, pane filters) is
 * compiled with re2js, a port of RE2 whose matching time is linear in the text, so no pattern can
 * hang the app: `(a+)+$` against a 100 KB line takes milliseconds. RE2 syntax is the contract
 * (no backreferences or lookahead). Patterns in a provably safe subset run on V8's engine instead,
 * which is several times faster and gives the same answers (see nativeSubset.ts).
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import { translateToSafeNative } from './nativeSubset.js';

const require = createRequire(import.meta.url);
/** re2js (260 KB) is loaded on the first regex, so a command that never compiles one does not parse it at start. */
const re2js = (): typeof RE2JS => (require('re2js') as typeof import('re2js')).RE2JS;

/** Longer patterns are refused: RE2's compile step and memory grow with the pattern. */
export const MAX_PATTERN_LENGTH = 4096;
/** RE2's rough cost measure; above this the pattern is refused rather than compiled into a huge program. */
const MAX_PROGRAM_SIZE = 50_000;

/** A pattern the user can fix: the message names the pattern and the problem. */
export class RegexError extends Error {
  override name = 'RegexError';
}

export interface UserRegexOptions {
  ignoreCase?: boolean;
}

/** Where a match is, in UTF-16 code units of the text. */
export interface RegexMatch {
  index: number;
  length: number;
}

/** A compiled user pattern. Every method runs in time linear in the text. */
export interface UserRegex {
  /** The pattern as the user typed it. */
  readonly source: string;
  readonly ignoreCase: boolean;
  /** Which engine runs it: 'native' for the safe subset, 're2' otherwise. */
  readonly engine: 'native' | 're2';
  /** Whether the pattern matches anywhere in `text`. */
  test(text: string): boolean;
  /** The first match in `text`, or null. */
  find(text: string): RegexMatch | null;
  /** Every non-overlapping match in `text`, left to right (an empty match advances by one). */
  findAll(text: string, limit?: number): RegexMatch[];
}

/**
 * Compiles a user pattern (RE2 syntax). Throws RegexError for bad syntax or a pattern too large.
 */
export function compileUserRegex(pattern: string, options: UserRegexOptions = {}): UserRegex {
  const ignoreCase = options.ignoreCase ?? false;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new RegexError(
      `regex ${preview(pattern)} is too long (${pattern.length} characters; the limit is ${MAX_PATTERN_LENGTH})`,
    );
  }
  let re2: RE2JS;
  try {
    re2 = re2js().compile(pattern, ignoreCase ? re2js().CASE_INSENSITIVE : 0);
  } catch (err) {
    const reason = (err as Error).message.replace(/^error parsing regexp: /, '');
    throw new RegexError(`invalid regex ${preview(pattern)}: ${reason} (Loupe uses RE2 syntax: no backreferences or lookahead)`);
  }
  if (re2.programSize() > MAX_PROGRAM_SIZE) {
    throw new RegexError(`regex ${preview(pattern)} is too complex (expands to ${re2.programSize()} steps); simplify it`);
  }
  const translated = translateToSafeNative(pattern, ignoreCase);
  if (translated !== null) {
    const native = new RegExp(translated, ignoreCase ? 'iu' : 'u');
    const global = new RegExp(translated, ignoreCase ? 'giu' : 'gu');
    return {
      source: pattern,
      ignoreCase,
      engine: 'native',
      test: (text) => native.test(text),
      find: (text) => {
        const m = native.exec(text);
        return m === null ? null : { index: m.index, length: m[0].length };
      },
      findAll: (text, limit = Infinity) => {
        const found: RegexMatch[] = [];
        global.lastIndex = 0;
        let m: RegExpExecArray | null;
        while (found.length < limit && (m = global.exec(text)) !== null) {
          found.push({ index: m.index, length: m[0].length });
          if (m[0].length === 0) global.lastIndex++;
        }
        return found;
      },
    };
  }
  return {
    source: pattern,
    ignoreCase,
    engine: 're2',
    test: (text) => re2.test(text),
    find: (text) => {
      const m = re2.exec(text) as RegExpExecArray | null;
      return m === null ? null : { index: m.index, length: m[0].length };
    },
    findAll: (text, limit = Infinity) => {
      const found: RegexMatch[] = [];
      for (const m of re2.matchAll(text)) {
        if (found.length >= limit) break;
        found.push({ index: m.index ?? 0, length: m[0].length });
      }
      return found;
    },
  };
}

/** The pattern quoted for an error message, shortened so the message stays one line. */
function preview(pattern: string): string {
  const oneLine = JSON.stringify(pattern);
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}..."` : oneLine;
}
