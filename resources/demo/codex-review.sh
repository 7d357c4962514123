# Demo agent: a Codex-style reviewer (• Ran / • Edited tool lines), a failing then passing test
# run, npm warnings, then it keeps reviewing for a few minutes so there is live output to follow.
. "$(dirname "$0")/effects.sh"

printf '%s>_ Codex%s (Loupe demo agent)  model: demo-1  directory: ~/src/demo\n\n' "$BOLD" "$RESET"
printf '%suser%s\nReview the open pull request and fix what breaks the tests.\n\n' "$CYAN" "$RESET"
spin 2 'Working'
printf '• Explored\n  └ Read package.json, src/server.ts, src/routes/users.ts\n\n'
pause 1
printf '• Ran npm install\n'
printf '  └ %snpm WARN%s deprecated inflight@1.0.6: This module is not supported, and leaks memory.\n' "$YELLOW" "$RESET"
printf '    %snpm WARN%s deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported\n' "$YELLOW" "$RESET"
printf '    added 312 packages in 4s\n\n'
pause 1.5
printf '• Ran npm test\n'
spin 2 'Running tests'
printf '  └ %s FAIL %s src/routes/users.test.ts\n' "$RED" "$RESET"
printf '      ● users › rejects an empty name\n\n'
printf '        expect(received).toBe(expected)\n\n'
printf '        Expected: 400\n        Received: 500\n\n'
printf '    Tests: %s1 failed%s, %s57 passed%s, 58 total\n\n' "$RED" "$RESET" "$GREEN" "$RESET"
pause 2
printf '• Edited src/routes/users.ts (+4 -1)\n'
printf '    %s@@ -18,7 +18,10 @@%s router.post("/users", async (req, res) => {\n' "$CYAN" "$RESET"
printf '    %s-  const user = await createUser(req.body.name);%s\n' "$RED" "$RESET"
printf '    %s+  if (!req.body.name) {%s\n' "$GREEN" "$RESET"
printf '    %s+    return res.status(400).json({ error: "name is required" });%s\n' "$GREEN" "$RESET"
printf '    %s+  }%s\n' "$GREEN" "$RESET"
printf '    %s+  const user = await createUser(req.body.name);%s\n\n' "$GREEN" "$RESET"
pause 1
printf '• Ran npm test\n'
spin 2 'Running tests'
printf '  └ %s PASS %s src/routes/users.test.ts\n' "$GREEN" "$RESET"
printf '    Tests: %s58 passed%s, 58 total\n\n' "$GREEN" "$RESET"
printf 'The empty-name check now returns 400; all 58 tests pass.\n\n'

# Keep reviewing for a while, so `loupe tail -f` has something to follow.
total=$(rounds 50)
round=1
while [ "$round" -le "$total" ]; do
  case $((round % 3)) in
    0) printf '• Ran git log --oneline -n 3\n  └ %07x review: pass %d\n' $((round * 4099)) "$round" ;;
    1) printf 'Tool call: read_file {"path": "src/routes/file%d.ts"}\n' "$round" ;;
    2) printf '[review %d/%d] checked %d files, %s%d suggestions%s\n' "$round" "$total" $((round * 3)) "$YELLOW" $((round % 4)) "$RESET" ;;
  esac
  pause 4
  round=$((round + 1))
done
printf 'Review finished.\n'
