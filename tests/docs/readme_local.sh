# README.md's one-machine commands, as written: the "Running it yourself"
# block (stagebench build, db start, run, db stop) as one script, then the
# direct mpiexec line with this test's own database for dbhost:6379. They run
# in a scratch folder whose apps/, batch_scripts/ and build/ are the source
# tree's and this test's build (tests/docs/readme_lib.sh), with SB_BUILD and
# SB_STATE pointing at the test's build and a private state folder; so
# `stagebench build` builds (or finds up to date) the test's own build.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/docs/readme_lib.sh"
command -v redis-server >/dev/null || sb_skip "redis-server not found"
command -v mpiexec >/dev/null || sb_skip "mpiexec not found"
build=$(dirname "$SB_BIN_DIR")
[ -f "$build/CMakeCache.txt" ] || sb_fail "no CMake build at $build"
w=$SB_TMP/w
sb_readme_workdir "$w" "$build"
export SB_BUILD=$build SB_STATE=$SB_TMP/state
unset SSDB

# ---- "Running it yourself" ------------------------------------------------------
mapfile -t lines < <(sb_readme_part yourself)
[ ${#lines[@]} -gt 0 ] || sb_fail "README.md has no 'yourself' commands (tests/docs/readme_lib.sh)"
{ echo "set -euo pipefail"; printf '%s\n' "${lines[@]}"; } > "$SB_TMP/yourself.sh"
echo "# running, in $w:"; sed 's/^/#   /' "$SB_TMP/yourself.sh"
# A database the block's db stop does not reach is stopped on exit all the same.
trap 'SB_STATE=$SB_TMP/state "$SB_SOURCE_DIR/apps/stagebench/stagebench" db stop >/dev/null 2>&1; sb_cleanup' EXIT
(cd "$w" && timeout 600 bash "$SB_TMP/yourself.sh") > "$SB_TMP/yourself.out" 2> "$SB_TMP/yourself.err"
rc=$?
tail -n 20 "$SB_TMP/yourself.out"; tail -n 8 "$SB_TMP/yourself.err" >&2
[ $rc = 0 ] || sb_fail "the README's 'Running it yourself' block exited $rc"
# What the block promises: tp.h5 complete, with the sizes asked for; the table
# and the figure of merit printed; the database gone after db stop.
[ -f "$w/tp.h5" ] || sb_fail "no tp.h5 after the block"
"$SB_BIN_DIR/h5_expect" "$w/tp.h5" --status complete >/dev/null || sb_fail "tp.h5 is not status=complete"
grep -q '^# sb-throughput: 8 ranks on 1 host, 4M tensors' "$SB_TMP/yourself.out" ||
  sb_fail "no figure of merit for 8 ranks and 4M tensors"
st=$("$SB_SOURCE_DIR/apps/stagebench/stagebench" db status 2>&1); src=$?
[ $src = 3 ] || sb_fail "db status after the block's db stop: exit $src (3 = none running): $st"
echo "# 'Running it yourself': PASS"

# ---- the direct mpiexec line ------------------------------------------------------
# The README's dbhost stands for the user's database: here, this test's own.
sb_start_redis
mapfile -t lines < <(sb_readme_part direct)
[ ${#lines[@]} = 1 ] || sb_fail "expected one 'direct' command in README.md, found ${#lines[@]}"
line=${lines[0]}
case $line in *"tcp://dbhost:6379"*) ;; *) sb_fail "the direct line no longer names tcp://dbhost:6379: $line" ;; esac
cmd=${line//tcp:\/\/dbhost:6379/$SSDB_TCP}
echo "# running, in $w (dbhost:6379 -> $SSDB_TCP):"
echo "#   $cmd"
(cd "$w" && timeout 300 bash -c "$cmd") > "$SB_TMP/direct.out" 2> "$SB_TMP/direct.err"
rc=$?
tail -n 12 "$SB_TMP/direct.out"; tail -n 5 "$SB_TMP/direct.err" >&2
[ $rc = 0 ] || sb_fail "the README's mpiexec line exited $rc"
n=$(sed -n 's/.*-n \([0-9]*\).*/\1/p' <<< "$line")
grep -q "^# sb-throughput: $n ranks on 1 host, 1M tensors" "$SB_TMP/direct.out" ||
  sb_fail "no figure of merit for $n ranks and 1M tensors"
grep -q '^# verification: every byte read back matched' "$SB_TMP/direct.out" || sb_fail "verification line missing"
echo "PASS: README.md's 'Running it yourself' block and direct mpiexec line, as written"
