# Demo agent: a long compiler-style build log (hundreds of lines, with warnings), a progress bar
# for the link step, then success.
. "$(dirname "$0")/effects.sh"

printf '%s$ make -j4 all%s\n' "$BOLD" "$RESET"
printf -- '-- The C compiler identification is GNU 12.2.0\n'
printf -- '-- Detecting C compiler ABI info - done\n'
printf -- '-- Configuring done (0.4s)\n'
printf -- '-- Generating done (0.1s)\n'
pause 0.5

modules='lexer parser ast typecheck codegen optimizer runtime gc strings unicode io net json http cli'
total=0
for m in $modules; do total=$((total + 20)); done
done_count=0
warnings=0
for m in $modules; do
  i=1
  while [ "$i" -le 20 ]; do
    done_count=$((done_count + 1))
    pct=$((done_count * 100 / total))
    printf '[%3d%%] %sBuilding C object%s src/%s/CMakeFiles/%s.dir/%s_%02d.c.o\n' "$pct" "$GREEN" "$RESET" "$m" "$m" "$m" "$i"
    if [ $((done_count % 23)) -eq 0 ]; then
      warnings=$((warnings + 1))
      printf '%s/src/%s/%s_%02d.c:%d:9:%s %swarning:%s unused variable %s‘tmp%d’%s [%s-Wunused-variable%s]\n' \
        "$BOLD" "$m" "$m" "$i" $((100 + done_count)) "$RESET" "$MAGENTA" "$RESET" "$BOLD" "$i" "$RESET" "$MAGENTA" "$RESET"
      printf '  %d |     int tmp%d = compute_%s(ctx);\n' $((100 + done_count)) "$i" "$m"
      printf '      |         %s^~~~%s\n' "$GREEN" "$RESET"
    fi
    pause 0.09
    i=$((i + 1))
  done
  printf '[%3d%%] %sLinking C static library%s lib%s.a\n' "$pct" "$BOLD" "$RESET" "$m"
  printf '[%3d%%] Built target %s\n' "$pct" "$m"
done

printf '%sLinking C executable%s bin/demo-app\n' "$BOLD" "$RESET"
progress '  Linking   ' 40
progress '  Stripping ' 12
printf 'Build finished in 41.7s: %d objects, %s%d warnings%s, 0 errors\n' "$total" "$YELLOW" "$warnings" "$RESET"
