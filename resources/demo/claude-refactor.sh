# Demo agent: a Claude Code-style session. Tool calls (⏺ Tool(args)), a colored git diff, a test
# run, then it keeps working for a few minutes so `loupe tail -f` has live output to show.
. "$(dirname "$0")/effects.sh"

printf '%s╭──────────────────────────────────────────────────────╮%s\n' "$DIM" "$RESET"
printf '%s│%s %s✻ Claude Code%s (Loupe demo agent)                     %s│%s\n' "$DIM" "$RESET" "$BOLD" "$RESET" "$DIM" "$RESET"
printf '%s╰──────────────────────────────────────────────────────╯%s\n' "$DIM" "$RESET"
printf '\n%s>%s Refactor the tokenizer to handle escaped quotes, and make the tests pass\n\n' "$BOLD" "$RESET"
spin 3 'Thinking…'
printf '⏺ I will start by reading the tokenizer and its tests.\n\n'
pause 1
printf '⏺ %sRead%s(src/tokenizer.ts)\n' "$BOLD" "$RESET"
printf '  ⎿  Read 184 lines\n\n'
pause 0.8
printf '⏺ %sGrep%s(pattern: "escape", path: "src")\n' "$BOLD" "$RESET"
printf '  ⎿  Found 2 files\n     src/tokenizer.ts\n     src/strings.ts\n\n'
spin 2 'Planning the change…'
printf '⏺ %sUpdate%s(src/tokenizer.ts)\n' "$BOLD" "$RESET"
printf '  ⎿  Updated src/tokenizer.ts with 9 additions and 3 removals\n\n'
pause 0.5
printf '%sdiff --git a/src/tokenizer.ts b/src/tokenizer.ts%s\n' "$BOLD" "$RESET"
printf '%sindex 3f2a1c4..9b7e0d2 100644%s\n' "$BOLD" "$RESET"
printf '%s--- a/src/tokenizer.ts%s\n' "$BOLD" "$RESET"
printf '%s+++ b/src/tokenizer.ts%s\n' "$BOLD" "$RESET"
printf '%s@@ -42,9 +42,15 @@%s export function tokenize(input: string): Token[] {\n' "$CYAN" "$RESET"
context() { printf ' %s\n' "$1"; }
removed() { printf '%s-%s%s\n' "$RED" "$1" "$RESET"; }
added() { printf '%s+%s%s\n' "$GREEN" "$1" "$RESET"; }
context '  while (pos < input.length) {'
context '    const ch = input[pos];'
removed '    if (ch === QUOTE) {'
removed '      const end = input.indexOf(QUOTE, pos + 1);'
removed '      tokens.push({ kind: "string", text: input.slice(pos + 1, end) });'
added '    if (ch === QUOTE) {'
added '      let end = pos + 1;'
added '      let text = "";'
added '      while (end < input.length && input[end] !== QUOTE) {'
added '        // A backslash escapes the next character, quotes included.'
added '        if (input[end] === BACKSLASH) end++;'
added '        text += input[end++];'
added '      }'
added '      tokens.push({ kind: "string", text });'
context '      pos = end + 1;'
context '      continue;'
context '    }'
printf '\n'
pause 1
printf '⏺ %sBash%s(npm test -- tokenizer)\n' "$BOLD" "$RESET"
spin 2 'Running…'
printf '  ⎿  > demo@1.0.0 test\n'
printf '     > vitest run tokenizer\n\n'
printf '      %s✓%s src/tokenizer.test.ts (41 tests) 18ms\n\n' "$GREEN" "$RESET"
printf '      Test Files  %s1 passed%s (1)\n' "$GREEN" "$RESET"
printf '           Tests  %s41 passed%s (41)\n\n' "$GREEN" "$RESET"
printf '⏺ The tokenizer now handles escaped quotes and all 41 tests pass. Watching for new work…\n\n'

# Keep going for a while: periodic small tasks, so `loupe tail -f` shows live output.
total=$(rounds 40)
round=1
while [ "$round" -le "$total" ]; do
  spin 2 "Working on follow-up $round of $total…"
  case $((round % 4)) in
    0) printf '⏺ %sRead%s(src/strings.ts)\n  ⎿  Read %d lines\n' "$BOLD" "$RESET" $((80 + round)) ;;
    1) printf '⏺ %sBash%s(npm run lint)\n  ⎿  %s✓%s no problems (%d files)\n' "$BOLD" "$RESET" "$GREEN" "$RESET" $((30 + round)) ;;
    2) printf '⏺ %sGrep%s(pattern: "TODO")\n  ⎿  Found %d matches\n' "$BOLD" "$RESET" $((round % 7)) ;;
    3) printf '⏺ Follow-up %d done: %d lines reviewed, nothing to change.\n' "$round" $((round * 13)) ;;
  esac
  pause 3
  round=$((round + 1))
done
printf '⏺ Session finished.\n'
