/**
 * A literal that every match of a regex must contain, so a regex search can first ask the trigram
 * index for the entries holding it and run the regex on those only. Conservative: when in doubt
 * (alternation, `\Q`, case-insensitive non-ASCII) there is no literal and every entry is scanned.
 */

/** Shorter literals give the trigram index nothing to look up. */
const MIN_LITERAL_CHARS = 3;

/** The literals (3+ characters each, longest first) that every match of `pattern` (RE2 syntax) contains. */
export function requiredLiterals(pattern: string, ignoreCase: boolean): string[] {
  if (pattern.includes('|') || pattern.includes('\\Q')) return [];
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
  return runs
    .filter((r) => r.length >= MIN_LITERAL_CHARS)
    .sort((a, b) => b.length - a.length)
    .map((r) => r.join(''))
    .filter((literal) => !(caseFolding && /[^\x00-\x7f]/.test(literal)));
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
