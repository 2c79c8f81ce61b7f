# Every command of README.md's ```sh blocks is run by a docs test or listed as
# skipped, with the reason (tests/docs/readme_lib.sh); a listed command the
# README no longer has fails too. No server, no build needed.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/docs/readme_lib.sh"
[ -f "$SB_README" ] || sb_fail "$SB_README not found"
bad=0 n=0
declare -A seen=()
while IFS= read -r line; do
  n=$((n + 1))
  seen[$line]=1
  tag=${SB_README_LINES[$line]-}
  if [ -z "$tag" ]; then
    echo "FAIL: README.md command not run by any docs test and not listed as skipped:" >&2
    echo "      $line" >&2
    echo "      (run it in tests/docs/, or list it in SB_README_LINES of tests/docs/readme_lib.sh with skip:WHY)" >&2
    bad=1
  elif [ "${tag#skip:}" != "$tag" ]; then
    echo "skipped: $line"
    echo "         (${tag#skip:})"
  else
    echo "$tag: $line"
  fi
done < <(sb_readme_lines)
for line in "${!SB_README_LINES[@]}"; do
  [ -n "${seen[$line]-}" ] && continue
  echo "FAIL: tests/docs/readme_lib.sh lists a command README.md no longer has:" >&2
  echo "      $line" >&2
  bad=1
done
[ $n -gt 0 ] || sb_fail "no \`\`\`sh block found in $SB_README"
[ $bad = 0 ] || exit 1
echo "PASS: $n README.md commands, each run by a docs test or skipped with its reason"
