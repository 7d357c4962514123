# Shared by the demo agents (sourced): pauses, a spinner and a progress bar, in plain POSIX sh
# so the demo runs wherever tmux does. LOUPE_DEMO_FAST=1 (tests) skips the pauses.

ESC=$(printf '\033')
RED="${ESC}[31m" GREEN="${ESC}[32m" YELLOW="${ESC}[33m" BLUE="${ESC}[34m" MAGENTA="${ESC}[35m" CYAN="${ESC}[36m"
BOLD="${ESC}[1m" DIM="${ESC}[2m" RESET="${ESC}[0m"

# pause SECONDS: think for a while (fractions allowed).
pause() {
  [ -n "${LOUPE_DEMO_FAST:-}" ] || sleep "$1"
}

# rounds NORMAL: how many times a long loop runs (2 in fast mode, so tests finish quickly).
rounds() {
  if [ -n "${LOUPE_DEMO_FAST:-}" ]; then echo 2; else echo "$1"; fi
}

# spin FRAMES MESSAGE: a braille spinner redrawn in place with \r, then the line is cleared.
spin() {
  n=0
  while [ "$n" -lt "$1" ]; do
    for f in ⠋ ⠙ ⠹ ⠸ ⠼ ⠴ ⠦ ⠧ ⠇ ⠏; do
      printf '\r%s%s%s %s' "$CYAN" "$f" "$RESET" "$2"
      pause 0.08
    done
    n=$((n + 1))
  done
  printf '\r%s[K' "$ESC"
}

# progress LABEL STEPS: a 30-column progress bar redrawn in place, ending with a newline.
progress() {
  i=0
  while [ "$i" -le "$2" ]; do
    pct=$((i * 100 / $2))
    filled=$((i * 30 / $2))
    bar=''
    j=0
    while [ "$j" -lt 30 ]; do
      if [ "$j" -lt "$filled" ]; then bar="$bar#"; else bar="$bar."; fi
      j=$((j + 1))
    done
    printf '\r%s [%s%s%s] %3d%%' "$1" "$GREEN" "$bar" "$RESET" "$pct"
    pause 0.15
    i=$((i + 1))
  done
  printf '\n'
}
