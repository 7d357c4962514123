/**
 * A literal that every match of a regex must contain, so a regex search can first ask the trigram
 * index for the entries holding it and run the regex on those only; and the order of those
 * literals, so most candidates that cannot match are dropped by `indexOf` before the (slower)
 * linear-time regex engine sees them. Conservative: when in doubt (alternation, `\Q`,
 * case-insensitive non-ASCII) there is no literal and every entry is scanned.
 */

/** Shorter literals give the trigram index nothing to look up. */
const MIN_LITERAL_CHARS = 3;

/** The literals (3+ characters each, longest first) that every match of `pattern` (RE2 syntax) contains. */
export function requiredLiterals(pattern: string, ignoreCase: boolean): string[] {
  const runs = literalRuns(pattern, ignoreCase);
  if (runs === null) return [];
  return runs
    .filter((r) => [...r].length >= MIN_LITERAL_CHARS)
    .sort((a, b) => [...b].length - [...a].length);
}

/**
 * Every literal run of `pattern`, in pattern order: a match contains them one after the other,
 * case-sensitively. Null when the pattern folds case or has alternatives. A cheap check of a
 * candidate's text before the regex runs on it (see `containsInOrder`).
 */
export function literalSequence(pattern: string, ignoreCase: boolean): string[] | null {
  if (ignoreCase || pattern.includes('(?')) return null;
  const runs = literalRuns(pattern, ignoreCase);
  return runs === null || runs.length === 0 ? null : runs;
}

/** Whether `text` holds every string of `sequence`, in that order and without overlaps. */
export function containsInOrder(text: string, sequence: string[]): boolean {
  let from = 0;
  for (const literal of sequence) {
    const at = text.indexOf(literal, from);
    if (at < 0) return false;
    from = at + literal.length; // the earliest occurrence leaves the most room for the rest
  }
  return true;
}

/** The top-level literal runs of `pattern` in order, or null when there is no safe answer. */
function literalRuns(pattern: string, ignoreCase: boolean): string[] | null {
  if (pattern.includes('|') || pattern.includes('\\Q')) return null;
  const chars = [...pattern];
  const runs: string[][] = [];
  let run: string[] = [];
  let depth = 0;
  const endRun = () => {
    if (run.length > 0) runs.push(run);
    run = [];
  };
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '\\') {
      const next = chars[++i];
      if (next === undefined) break;
      // `\d`, `\x41`, `\pL`...: a class or a code, not the character itself.
      if (/[A-Za-z0-9]/.test(next)) endRun();
      else if (depth === 0) run.push(next);
      continue;
    }
    if (ch === '[') {
      i = skipClass(chars, i);
      endRun();
      continue;
    }
    if (ch === '(') {
      depth++;
      endRun();
      continue;
    }
    if (ch === ')') {
      depth--;
      endRun();
      continue;
    }
    if (ch === '*' || ch === '?' || (ch === '{' && /\d/.test(chars[i + 1] ?? ''))) {
      run.pop(); // the quantified character may be absent or repeated
      endRun();
      if (ch === '{') while (i < chars.length && chars[i] !== '}') i++;
      continue;
    }
    if (ch === '+') {
      endRun(); // the character is there at least once, but what follows need not be adjacent
      continue;
    }
    if (ch === '.' || ch === '^' || ch === '$') {
      endRun();
      continue;
    }
    if (depth === 0) run.push(ch);
    else endRun();
  }
  endRun();
  // The index folds ASCII case only, so a case-insensitive non-ASCII literal could miss matches.
  const caseFolding = ignoreCase || pattern.includes('(?');
  return runs.map((r) => r.join('')).filter((literal) => !(caseFolding && /[^\x00-\x7f]/.test(literal)));
}

/** The index of the `]` that closes the class opening at `start`. */
function skipClass(chars: string[], start: number): number {
  let i = start + 1;
  if (chars[i] === '^') i++;
  if (chars[i] === ']') i++; // a leading `]` is literal
  for (; i < chars.length; i++) {
    if (chars[i] === '\\') i++;
    else if (chars[i] === '[' && chars[i + 1] === ':') {
      const close = chars.indexOf(']', i + 2);
      if (close > 0) i = close;
    } else if (chars[i] === ']') return i;
  }
  return chars.length;
}
